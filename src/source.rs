//! A source file's text and the mapping from proc-macro2 line/column positions to byte offsets.
//!
//! Every conversion costs at most a few dozen steps, whatever the length of the line: a file
//! of minified code (one line of megabytes with a finding every hundred bytes) must not make
//! each of its spans cost the whole line.

use crate::diagnostic::{Pos, Span};
use crate::model::Region;
use std::path::PathBuf;

/// Characters between the checkpoints kept for long lines that are not ASCII.
const STRIDE: usize = 64;

pub struct SourceFile {
    /// The path as reached from the user's argument (relative arguments give relative paths).
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
    /// For each line that is not ASCII and longer than a stride: the byte offset of every
    /// `STRIDE`th character (ASCII lines need none: a column is a byte count there).
    checkpoints: std::collections::HashMap<usize, Vec<usize>>,
    /// Its functions and test code by line (empty for a file that did not parse).
    pub regions: Vec<Region>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        let mut checkpoints = std::collections::HashMap::new();
        for (i, &start) in line_starts.iter().enumerate() {
            let end = line_starts.get(i + 1).map_or(text.len(), |&n| n - 1);
            let line = &text[start..end];
            if line.len() > STRIDE && !line.is_ascii() {
                let marks = line
                    .char_indices()
                    .step_by(STRIDE)
                    .map(|(b, _)| start + b)
                    .collect();
                checkpoints.insert(i, marks);
            }
        }
        SourceFile {
            path,
            text,
            line_starts,
            checkpoints,
            regions: Vec::new(),
        }
    }

    /// The byte range of the 0-based `line`, without its `\n`.
    fn line_range(&self, line: usize) -> (usize, usize) {
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |&n| n - 1);
        (start, end)
    }

    /// The text of a 1-based line, without its line end.
    pub fn line(&self, line: usize) -> Option<&str> {
        let i = line
            .checked_sub(1)
            .filter(|&i| i < self.line_starts.len())?;
        let (start, end) = self.line_range(i);
        let text = &self.text[start..end];
        Some(text.strip_suffix('\r').unwrap_or(text))
    }

    /// The byte offset where a 1-based line starts (the text's end past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        line.checked_sub(1)
            .and_then(|i| self.line_starts.get(i))
            .copied()
            .unwrap_or(self.text.len())
    }

    /// Byte offset of a 1-based line and 0-based character column, clamped to the text.
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let line = line.saturating_sub(1);
        if line >= self.line_starts.len() {
            return self.text.len();
        }
        let (start, end) = self.line_range(line);
        let text = &self.text[start..end];
        if self.is_ascii_line(line, text) {
            return start + column.min(text.len());
        }
        // Skip to the last checkpoint before the column, then walk the rest.
        let (from, skip) = match self.checkpoints.get(&line) {
            Some(marks) => {
                let k = (column / STRIDE).min(marks.len() - 1);
                (marks[k], column - k * STRIDE)
            }
            None => (start, column),
        };
        self.text[from..end]
            .char_indices()
            .nth(skip)
            .map_or(end, |(i, _)| from + i)
    }

    /// Is the 0-based `line` (whose text is `text`) all ASCII? Long lines answer from the
    /// checkpoint table, short ones by looking.
    fn is_ascii_line(&self, line: usize, text: &str) -> bool {
        if text.len() > STRIDE {
            !self.checkpoints.contains_key(&line)
        } else {
            text.is_ascii()
        }
    }

    /// 1-based position of a byte offset.
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let (start, end) = self.line_range(line - 1);
        let text = &self.text[start..end];
        let (from, before) = if self.is_ascii_line(line - 1, text) {
            (offset, offset - start)
        } else if let Some(marks) = self.checkpoints.get(&(line - 1)) {
            // The last checkpoint at or before the offset.
            let k = marks.partition_point(|&m| m <= offset).max(1) - 1;
            (marks[k], k * STRIDE)
        } else {
            (start, 0)
        };
        // `offset` may sit inside a character; count the characters that start before it.
        let column = before
            + self.text.as_bytes()[from..offset]
                .iter()
                .filter(|&&b| (b as i8) >= -0x40)
                .count()
            + 1;
        Pos { line, column }
    }

    /// The span of a syntax node, from proc-macro2's span locations.
    pub fn span(&self, span: proc_macro2::Span) -> Span {
        let (s, e) = (span.start(), span.end());
        let (bs, be) = (self.offset(s.line, s.column), self.offset(e.line, e.column));
        Span {
            start: Pos {
                line: s.line,
                column: s.column + 1,
            },
            end: Pos {
                line: e.line,
                column: e.column + 1,
            },
            bytes: (bs, be.max(bs)),
        }
    }

    /// The span of a model position range (line 1-based, column 0-based in characters).
    pub fn model_span(&self, span: crate::model::Span) -> Span {
        let (s, e) = (span.lo, span.hi);
        let (bs, be) = (
            self.offset(s.line as usize, s.col as usize),
            self.offset(e.line as usize, e.col as usize),
        );
        Span {
            start: Pos {
                line: s.line as usize,
                column: s.col as usize + 1,
            },
            end: Pos {
                line: e.line as usize,
                column: e.col as usize + 1,
            },
            bytes: (bs, be.max(bs)),
        }
    }

    /// Fills in the byte offsets of a finding's spans from their positions.
    pub fn fill_bytes(&self, f: &mut crate::diagnostic::Finding) {
        let fill = |s: &mut Span| {
            let a = self.offset(s.start.line, s.start.column.saturating_sub(1));
            let b = self.offset(s.end.line, s.end.column.saturating_sub(1));
            s.bytes = (a, b.max(a));
        };
        fill(&mut f.primary.span);
        for l in &mut f.secondary {
            fill(&mut l.span);
        }
    }

    /// A span covering a byte range.
    pub fn byte_span(&self, start: usize, end: usize) -> Span {
        Span {
            start: self.pos(start),
            end: self.pos(end),
            bytes: (start, end.max(start)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SourceFile;
    use std::path::PathBuf;

    /// The plain definitions the fast paths must agree with.
    fn slow_offset(text: &str, line: usize, column: usize) -> usize {
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let Some(&start) = starts.get(line - 1) else {
            return text.len();
        };
        let l = text[start..].split('\n').next().unwrap();
        start + l.char_indices().nth(column).map_or(l.len(), |(i, _)| i)
    }

    fn slow_pos(text: &str, offset: usize) -> (usize, usize) {
        let before = &text.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
        (line, col)
    }

    #[test]
    fn fast_conversions_agree_with_the_definitions() {
        let long_ascii = "a".repeat(300);
        let long_mixed: String = (0..300)
            .map(|i| {
                if i % 7 == 0 {
                    'é'
                } else if i % 11 == 0 {
                    '\u{1F600}'
                } else {
                    'x'
                }
            })
            .collect();
        let text = format!("fn f() {{}}\n{long_ascii}\nshort é\n{long_mixed}\n\nlast");
        let src = SourceFile::new(PathBuf::from("a.rs"), text.clone());
        let lines = text.split('\n').count();
        for line in 1..=lines + 1 {
            for column in [0, 1, 5, 63, 64, 65, 127, 128, 200, 299, 300, 301, 5000] {
                assert_eq!(
                    src.offset(line, column),
                    slow_offset(&text, line, column),
                    "line {line} column {column}"
                );
            }
        }
        for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            let p = src.pos(offset);
            assert_eq!(
                (p.line, p.column),
                slow_pos(&text, offset),
                "offset {offset}"
            );
        }
    }
}
