//! What a rule reports: a finding with a primary label at the hazard, secondary labels at the
//! places that explain it, and a help line with the fix.

use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A 1-based line and column (columns count characters, as editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// A region of one source file: byte offsets (for snippets) and positions (for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
    pub bytes: (usize, usize),
}

impl Span {
    /// The span of a model position range (line 1-based, column 0-based in characters). Its
    /// byte offsets are filled in later from the file's text ([`Finding::fill_bytes`]).
    pub fn from_model(span: crate::model::Span) -> Span {
        let pos = |p: crate::model::Pos| Pos {
            line: p.line as usize,
            column: p.col as usize + 1,
        };
        Span {
            start: pos(span.lo),
            end: pos(span.hi),
            bytes: (0, 0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub path: PathBuf,
    /// The primary label (at the hazard).
    pub primary: Label,
    /// Secondary labels (where the connection came from, what makes it a hazard).
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Finding {
    /// Order findings the way every output format lists them: by path, then position.
    pub fn sort_key(&self) -> (&PathBuf, Pos, &'static str, &str) {
        (
            &self.path,
            self.primary.span.start,
            self.rule,
            &self.message,
        )
    }
}

/// The diagnostic code used when a file cannot be checked (unreadable, not UTF-8, not Rust).
pub const PARSE_ERROR: &str = "parse-error";

/// A suppression that suppresses nothing.
pub const UNUSED_SUPPRESSION: &str = "unused-suppression";

/// A suppression that is malformed, lacks a reason or names no known rule.
pub const INVALID_SUPPRESSION: &str = "invalid-suppression";
