//! The open buffers (by URI), their edits, and the two coordinate systems: LSP positions
//! (0-based lines, UTF-16 code units) and connlint's (1-based lines, character columns).

use lsp_types::{Position, TextDocumentContentChangeEvent, Uri};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub struct Document {
    /// The URI as the client spelled it: diagnostics are published under exactly this.
    pub uri: Uri,
    pub path: PathBuf,
    pub version: i32,
    pub text: String,
}

#[derive(Default)]
pub struct Documents {
    docs: HashMap<String, Document>,
}

impl Documents {
    /// Opens (or reopens) a buffer. `None` when the URI is not a `file:` URI.
    pub fn open(&mut self, uri: Uri, version: i32, text: String) -> Option<&Document> {
        let path = path_of(&uri)?;
        let key = uri.as_str().to_string();
        self.docs.insert(
            key.clone(),
            Document {
                uri,
                path,
                version,
                text,
            },
        );
        self.docs.get(&key)
    }

    /// Applies the client's edits in order (ranged edits, or whole-text replacements).
    pub fn change(
        &mut self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> Option<&Document> {
        let doc = self.docs.get_mut(uri.as_str())?;
        for c in changes {
            match c.range {
                Some(r) => {
                    let start = offset(&doc.text, r.start);
                    let end = offset(&doc.text, r.end).max(start);
                    doc.text.replace_range(start..end, &c.text);
                }
                None => doc.text = c.text,
            }
        }
        doc.version = version;
        Some(doc)
    }

    pub fn close(&mut self, uri: &Uri) -> Option<Document> {
        self.docs.remove(uri.as_str())
    }

    pub fn get(&self, uri: &Uri) -> Option<&Document> {
        self.docs.get(uri.as_str())
    }

    pub fn all(&self) -> impl Iterator<Item = &Document> {
        self.docs.values()
    }
}

/// The byte offset of an LSP position in `text`, clamped to the line's end and the text's end
/// (clients may send a position past either).
pub fn offset(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line = text[line_start..].split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut units = 0;
    for (i, ch) in line.char_indices() {
        if units >= pos.character as usize {
            return line_start + i;
        }
        units += ch.len_utf16();
    }
    line_start + line.len()
}

/// The text of the 0-based `line` (without its line ending), or "" past the end.
pub fn line_text(text: &str, line: usize) -> &str {
    Lines::new(text).get(line)
}

/// A buffer's lines, found once: converting the positions of many findings then costs each
/// finding its own line, not the buffer up to it.
pub struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Lines<'t> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    /// The text of the 0-based `line` (without its line ending), or "" past the end.
    pub fn get(&self, line: usize) -> &'t str {
        let Some(&start) = self.starts.get(line) else {
            return "";
        };
        let end = self
            .starts
            .get(line + 1)
            .map_or(self.text.len(), |&n| n - 1);
        let l = &self.text[start..end];
        l.strip_suffix('\r').unwrap_or(l)
    }

    /// The LSP position of connlint's 1-based `line` and character `column`. The engine reads
    /// a text without its byte-order mark; the buffer may have one.
    pub fn position(&self, line: usize, column: usize) -> Position {
        let line0 = line.saturating_sub(1);
        let mut chars = column.saturating_sub(1);
        let l = self.get(line0);
        if line0 == 0 && l.starts_with('\u{feff}') {
            chars += 1;
        }
        let units: usize = l.chars().take(chars).map(char::len_utf16).sum();
        Position::new(line0 as u32, units as u32)
    }
}

/// The file a `file:` URI names.
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file:///p`, or `file://localhost/p`; no query or fragment.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    let path = path.split(['?', '#']).next()?;
    if !path.starts_with('/') {
        return None;
    }
    let bytes = percent_decode(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        // `/C:/x` → `C:/x`
        let s = String::from_utf8(bytes).ok()?;
        let s = match s.as_bytes().get(2) {
            Some(b':') => s[1..].to_string(),
            _ => s,
        };
        Some(PathBuf::from(s))
    }
}

/// A `file:` URI for an absolute path.
pub fn uri_of(path: &Path) -> Uri {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = {
        let s = path.to_string_lossy().replace('\\', "/");
        if s.starts_with('/') {
            s
        } else {
            format!("/{s}")
        }
        .into_bytes()
    };
    let mut out = String::from("file://");
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&out).expect("a percent-encoded file URI parses")
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "a\n\u{1F600}é x\r\nlast";
        // The emoji is two UTF-16 units, `é` one.
        assert_eq!(offset(text, Position::new(1, 0)), 2);
        assert_eq!(offset(text, Position::new(1, 2)), 6);
        assert_eq!(offset(text, Position::new(1, 3)), 8);
        assert_eq!(
            offset(text, Position::new(1, 99)),
            10,
            "clamped to the line"
        );
        assert_eq!(offset(text, Position::new(9, 0)), text.len());
        // connlint's column 3 is the third character: after the emoji and `é`.
        let lines = Lines::new(text);
        assert_eq!(lines.position(2, 3), Position::new(1, 3));
        assert_eq!(lines.position(9, 3), Position::new(8, 0), "past the end");
        assert_eq!(line_text(text, 1), "\u{1F600}é x");
        assert_eq!(line_text(text, 2), "last");
        // A byte-order mark the engine did not see.
        assert_eq!(
            Lines::new("\u{feff}fn f").position(1, 4),
            Position::new(0, 4)
        );
    }

    #[test]
    fn uris_and_paths_round_trip() {
        for p in ["/tmp/a b/c#d.rs", "/x/é.rs", "/plain/src/lib.rs"] {
            let uri = uri_of(Path::new(p));
            assert!(!uri.as_str().contains(' '), "{}", uri.as_str());
            assert_eq!(path_of(&uri).unwrap(), Path::new(p));
        }
        let vscode = Uri::from_str("file:///home/u/my%20proj/src/lib.rs").unwrap();
        assert_eq!(
            path_of(&vscode).unwrap(),
            Path::new("/home/u/my proj/src/lib.rs")
        );
        assert!(path_of(&Uri::from_str("untitled:Untitled-1").unwrap()).is_none());
    }

    #[test]
    fn edits_apply_in_order() {
        let mut docs = Documents::default();
        let uri = uri_of(Path::new("/w/a.rs"));
        docs.open(uri.clone(), 1, "fn a() {}\nfn b() {}\n".into());
        let edit = |l1, c1, l2, c2, t: &str| TextDocumentContentChangeEvent {
            range: Some(lsp_types::Range::new(
                Position::new(l1, c1),
                Position::new(l2, c2),
            )),
            range_length: None,
            text: t.into(),
        };
        let doc = docs
            .change(&uri, 2, vec![edit(0, 3, 0, 4, "x"), edit(1, 0, 2, 0, "")])
            .unwrap();
        assert_eq!(doc.text, "fn x() {}\n");
        assert_eq!(doc.version, 2);
    }
}
