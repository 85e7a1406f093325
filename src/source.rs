//! A source file's text and the mapping from proc-macro2 line/column positions to byte offsets.

use crate::diagnostic::{Pos, Span};
use crate::model::Region;
use std::path::PathBuf;

pub struct SourceFile {
    /// The path as reached from the user's argument (relative arguments give relative paths).
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
    /// Its functions and test code by line (empty for a file that did not parse).
    pub regions: Vec<Region>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        SourceFile {
            path,
            text,
            line_starts,
            regions: Vec::new(),
        }
    }

    /// Byte offset of a 1-based line and 0-based character column, clamped to the text.
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let line_text = rest.split('\n').next().unwrap_or("");
        start
            + line_text
                .char_indices()
                .nth(column)
                .map_or(line_text.len(), |(i, _)| i)
    }

    /// 1-based position of a byte offset.
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
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
