//! Suppression comments:
//!
//! * `// connlint: allow(rule-id) reason` on the line of a finding (after the code) or on its
//!   own line above it (stacked comment lines count as one);
//! * `// connlint: allow-file(rule-id) reason` in the header of a file (before any code other
//!   than comments and inner attributes) covers the whole file.
//!
//! Several ids may be listed: `allow(held-across-await, nested-acquire) reason`. The reason is
//! required. A suppression without a reason, naming an unknown rule, malformed, or (for a rule
//! that ran) suppressing nothing is itself reported, as `invalid-suppression` or
//! `unused-suppression`. An invalid suppression suppresses nothing.
//!
//! Suppressions filter findings after the engine ran; rules never see them.

use crate::diagnostic::{Finding, Label, Severity, Span, PARSE_ERROR};
use crate::engine::{Input, Outcome};
use crate::ids::{known_id, unknown_id_help};
use crate::source::SourceFile;
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::PathBuf;

pub use crate::diagnostic::{INVALID_SUPPRESSION, UNUSED_SUPPRESSION};

const MARKER: &str = "connlint:";

/// One rule id of one valid suppression comment.
#[derive(Debug, Clone)]
struct Allow {
    rule: String,
    /// Where the id is written, for the unused report.
    at: Span,
    /// Lines covered (inclusive); `None` for the whole file.
    lines: Option<(usize, usize)>,
    used: bool,
}

/// A `//` comment: its 1-based line, byte range and whether code precedes it on its line.
#[derive(Debug)]
struct Comment {
    line: usize,
    start: usize,
    end: usize,
    trailing: bool,
}

/// What a run's suppressions did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Findings removed by a suppression.
    pub suppressed: usize,
}

/// Applies the suppression comments of every input to `outcome.findings`: removes the
/// findings they cover and adds `unused-suppression` / `invalid-suppression` diagnostics.
/// `ran(rule)` says whether a rule ran (a suppression of a rule switched off is not unused).
/// Keeps the findings sorted.
pub fn apply(outcome: &mut Outcome, inputs: &[Input], ran: &dyn Fn(&str) -> bool) -> Applied {
    let mut applied = Applied::default();
    let mut extra = Vec::new();
    let mut keep_sources = Vec::new();
    let parse_failed: HashSet<PathBuf> = outcome
        .findings
        .iter()
        .filter(|f| f.rule == PARSE_ERROR)
        .map(|f| f.path.clone())
        .collect();
    // Files without findings were not kept by the engine: read them again (in parallel) and
    // keep only those that mention the marker.
    let read: Vec<SourceFile> = inputs
        .par_iter()
        .filter(|input| !outcome.sources.contains_key(&input.path))
        .filter_map(|input| {
            let text = match &input.text {
                Some(t) => t.clone(),
                None => std::fs::read_to_string(&input.path).ok()?,
            };
            memchr::memmem::find(text.as_bytes(), MARKER.as_bytes())?;
            let text = match text.strip_prefix('\u{feff}') {
                Some(rest) => rest.to_string(),
                None => text,
            };
            Some(SourceFile::new(input.path.clone(), text))
        })
        .collect();
    let kept: Vec<&SourceFile> = inputs
        .iter()
        .filter_map(|input| outcome.sources.get(&input.path))
        .collect();
    let mut work: Vec<(&SourceFile, bool)> = kept.into_iter().map(|s| (s, false)).collect();
    work.extend(read.iter().map(|s| (s, true)));
    let mut removed = 0;
    let mut findings = std::mem::take(&mut outcome.findings);
    for (source, fresh) in work {
        if memchr::memmem::find(source.text.as_bytes(), MARKER.as_bytes()).is_none() {
            continue;
        }
        let (mut allows, invalid) = scan(source);
        if allows.is_empty() && invalid.is_empty() {
            continue;
        }
        let before = findings.len();
        findings.retain(|f| {
            if f.path != source.path
                || f.rule == UNUSED_SUPPRESSION
                || f.rule == INVALID_SUPPRESSION
            {
                return true;
            }
            let line = f.primary.span.start.line;
            let mut hit = false;
            for a in allows.iter_mut().filter(|a| a.rule == f.rule) {
                if a.lines.is_none_or(|(lo, hi)| lo <= line && line <= hi) {
                    a.used = true;
                    hit = true;
                }
            }
            !hit
        });
        removed += before - findings.len();
        extra.extend(invalid);
        if !parse_failed.contains(&source.path) {
            extra.extend(
                allows
                    .iter()
                    .filter(|a| !a.used && ran(&a.rule))
                    .map(|a| unused(source, a)),
            );
        }
        if fresh {
            keep_sources.push(SourceFile::new(source.path.clone(), source.text.clone()));
        }
    }
    outcome.findings = findings;
    applied.suppressed = removed;
    if !extra.is_empty() {
        outcome.findings.extend(extra);
        outcome
            .findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let used: HashSet<PathBuf> = outcome.findings.iter().map(|f| f.path.clone()).collect();
        for s in keep_sources {
            if used.contains(&s.path) {
                outcome.sources.insert(s.path.clone(), s);
            }
        }
    }
    applied
}

fn unused(source: &SourceFile, a: &Allow) -> Finding {
    let (message, label) = match a.lines {
        Some(_) => (
            format!("`allow({})` suppresses nothing", a.rule),
            format!("no `{}` finding on this line or the next", a.rule),
        ),
        None => (
            format!("`allow-file({})` suppresses nothing", a.rule),
            format!("no `{}` finding in this file", a.rule),
        ),
    };
    Finding {
        rule: UNUSED_SUPPRESSION,
        severity: Severity::Warning,
        message,
        path: source.path.clone(),
        primary: Label {
            span: a.at,
            message: label,
        },
        secondary: Vec::new(),
        help: Some(
            "remove the suppression: the finding it was written for is gone (or moved away from \
             the line below the comment)"
                .into(),
        ),
    }
}

fn invalid(
    source: &SourceFile,
    at: (usize, usize),
    message: String,
    label: &str,
    help: String,
) -> Finding {
    Finding {
        rule: INVALID_SUPPRESSION,
        severity: Severity::Warning,
        message,
        path: source.path.clone(),
        primary: Label {
            span: source.byte_span(at.0, at.1),
            message: label.into(),
        },
        secondary: Vec::new(),
        help: Some(help),
    }
}

const SYNTAX: &str = "write `// connlint: allow(rule-id) reason` on the finding's line or the line above, or `// connlint: allow-file(rule-id) reason` at the top of the file";

/// The valid suppressions of a file, and diagnostics for the invalid ones.
fn scan(source: &SourceFile) -> (Vec<Allow>, Vec<Finding>) {
    let text = &source.text;
    let comments = line_comments(text);
    let header_end = header_end_line(text);
    let mut allows = Vec::new();
    let mut bad = Vec::new();
    for c in &comments {
        let body = &text[c.start..c.end];
        let after_slashes = body.trim_start_matches(['/', '!']).trim_start();
        let Some(rest) = after_slashes.strip_prefix(MARKER) else {
            continue;
        };
        let directive = rest.trim_start();
        let dir_at = c.end - directive.len();
        let word_len = directive
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'))
            .unwrap_or(directive.len());
        let word = &directive[..word_len];
        let after_word = &directive[word_len..];
        if !after_word.starts_with('(') {
            // Prose that mentions connlint (`// connlint: checked by CI`), unless it tried to
            // be a directive.
            if word == "allow" || word == "allow-file" {
                bad.push(invalid(
                    source,
                    (dir_at, c.end),
                    "malformed connlint suppression".into(),
                    "expected `(rule-id)` after the directive",
                    SYNTAX.into(),
                ));
            }
            continue;
        }
        let file_wide = match word {
            "allow" => false,
            "allow-file" => true,
            _ => {
                bad.push(invalid(
                    source,
                    (dir_at, dir_at + word_len),
                    format!("unknown connlint directive `{word}`"),
                    "expected `allow` or `allow-file`",
                    SYNTAX.into(),
                ));
                continue;
            }
        };
        let open = dir_at + word_len + 1;
        let Some(close_rel) = text[open..c.end].find(')') else {
            bad.push(invalid(
                source,
                (dir_at, c.end),
                "malformed connlint suppression".into(),
                "missing `)`",
                SYNTAX.into(),
            ));
            continue;
        };
        let close = open + close_rel;
        let reason = text[close + 1..c.end]
            .trim()
            .trim_start_matches(['-', '\u{2014}', ':'])
            .trim();
        let mut ids = Vec::new();
        let mut ok = true;
        let mut offset = open;
        for part in text[open..close].split(',') {
            let id = part.trim();
            let start = offset + (part.len() - part.trim_start().len());
            offset += part.len() + 1;
            if id.is_empty() {
                continue;
            }
            if !known_id(id) || id == UNUSED_SUPPRESSION || id == INVALID_SUPPRESSION {
                ok = false;
                bad.push(invalid(
                    source,
                    (start, start + id.len()),
                    format!("unknown rule `{id}` in suppression"),
                    "not a rule id",
                    unknown_id_help(id),
                ));
                continue;
            }
            ids.push((id.to_string(), source.byte_span(start, start + id.len())));
        }
        if ids.is_empty() && ok {
            bad.push(invalid(
                source,
                (dir_at, close + 1),
                "suppression names no rule".into(),
                "put a rule id between the parentheses",
                SYNTAX.into(),
            ));
            continue;
        }
        if !ok {
            continue;
        }
        if reason.is_empty() {
            let list: Vec<&str> = ids.iter().map(|(i, _)| i.as_str()).collect();
            bad.push(invalid(
                source,
                (c.start, c.end),
                format!("suppression of `{}` gives no reason", list.join("`, `")),
                "say why after the `)`",
                format!(
                    "for example `// connlint: {word}({}) the pool is closed by the caller`",
                    list.join(", ")
                ),
            ));
            continue;
        }
        let lines = if file_wide {
            if c.line >= header_end {
                bad.push(invalid(
                    source,
                    (dir_at, close + 1),
                    "`allow-file` below the top of the file".into(),
                    "only comments and inner attributes may come before it",
                    "move it to the file's first lines, or use `allow(..)` on the finding's line"
                        .into(),
                ));
                continue;
            }
            None
        } else if c.trailing {
            Some((c.line, c.line))
        } else {
            // The comment's own line down to the next line that is not a comment line.
            let mut next = c.line + 1;
            while comments.iter().any(|o| o.line == next && !o.trailing) {
                next += 1;
            }
            Some((c.line, next))
        };
        for (rule, at) in ids {
            allows.push(Allow {
                rule,
                at,
                lines,
                used: false,
            });
        }
    }
    (allows, bad)
}

/// The first line of the file that holds code: not blank, not a comment, not an inner
/// attribute (`#![..]`). `allow-file` must come before it.
fn header_end_line(text: &str) -> usize {
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if in_block {
            if t.contains("*/") {
                in_block = false;
            }
            continue;
        }
        if t.is_empty() || t.starts_with("//") || t.starts_with("#![") {
            continue;
        }
        if t.starts_with("/*") {
            in_block = !t.contains("*/");
            continue;
        }
        return i + 1;
    }
    usize::MAX
}

/// Every `//` comment of a Rust source, skipping string, char and block-comment contents.
fn line_comments(text: &str) -> Vec<Comment> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut code_on_line = false;
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                code_on_line = false;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
                let end = if end > i && b[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                out.push(Comment {
                    line,
                    start: i,
                    end,
                    trailing: code_on_line,
                });
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 1;
                i += 2;
                while i < b.len() && depth > 0 {
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b'r' if (i == 0 || !is_ident(b[i - 1]) || matches!(b[i - 1], b'b' | b'c'))
                && matches!(b.get(i + 1), Some(b'"') | Some(b'#')) =>
            {
                // A raw string `r#".."#`, or an identifier starting with `r`.
                let mut j = i + 1;
                while b.get(j) == Some(&b'#') {
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    code_on_line = true;
                    i += 1;
                    continue;
                }
                let hashes = j - i - 1;
                j += 1;
                loop {
                    match b.get(j) {
                        None => break,
                        Some(b'\n') => line += 1,
                        Some(b'"')
                            if b[j + 1..]
                                .iter()
                                .take(hashes)
                                .filter(|&&h| h == b'#')
                                .count()
                                == hashes =>
                        {
                            j += 1 + hashes;
                            break;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                code_on_line = true;
                i = j;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    if b.get(j) == Some(&b'\n') {
                        line += 1;
                    }
                    j += 1;
                }
                code_on_line = true;
                i = j + 1;
            }
            b'\'' => {
                // A char literal (`'x'`, `'\n'`, `'é'`) or a lifetime (`'a`).
                code_on_line = true;
                if b.get(i + 1) == Some(&b'\\') {
                    let mut j = i + 2;
                    while j < b.len() && b[j] != b'\'' && b[j] != b'\n' {
                        j += 1;
                    }
                    i = j + 1;
                } else {
                    let ch_len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                    if b.get(i + 1 + ch_len) == Some(&b'\'') {
                        i += 2 + ch_len;
                    } else {
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                code_on_line = true;
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Vec<(usize, String, bool)> {
        line_comments(text)
            .into_iter()
            .map(|c| (c.line, text[c.start..c.end].to_string(), c.trailing))
            .collect()
    }

    #[test]
    fn comments_skip_strings_chars_and_block_comments() {
        let text = "let a = \"// not\"; // yes 1\nlet b = r#\"// \"raw\" no\"#; let c = '\"'; // yes 2\n/* // no\n */ fn f<'a>(x: &'a str) {} // yes 3\n// yes 4\n";
        let got = comments(text);
        assert_eq!(
            got,
            vec![
                (1, "// yes 1".to_string(), true),
                (2, "// yes 2".to_string(), true),
                (4, "// yes 3".to_string(), true),
                (5, "// yes 4".to_string(), false),
            ]
        );
    }

    #[test]
    fn header_ends_at_first_code() {
        assert_eq!(
            header_end_line("//! doc\n#![allow(x)]\n\n/* a\n b */\nuse a;\n"),
            6
        );
        assert_eq!(header_end_line("// only\n"), usize::MAX);
    }

    fn scan_text(text: &str) -> (Vec<Allow>, Vec<Finding>) {
        scan(&SourceFile::new(PathBuf::from("a.rs"), text.into()))
    }

    #[test]
    fn allow_covers_its_line_or_the_next_code_line() {
        let (a, bad) = scan_text(
            "// connlint: allow(forgotten-connection) leader lock\n// more words\nforget(c);\nx(); // connlint: allow(detached-connection, forgotten-connection) - reason\n",
        );
        assert!(bad.is_empty(), "{bad:?}");
        let got: Vec<_> = a.iter().map(|a| (a.rule.as_str(), a.lines)).collect();
        assert_eq!(
            got,
            vec![
                ("forgotten-connection", Some((1, 3))),
                ("detached-connection", Some((4, 4))),
                ("forgotten-connection", Some((4, 4))),
            ]
        );
    }

    #[test]
    fn invalid_suppressions_are_reported() {
        let cases = [
            (
                "// connlint: allow(forgotten-connection)\n",
                "gives no reason",
            ),
            (
                "// connlint: allow(forgoten-connection) typo\n",
                "unknown rule `forgoten-connection`",
            ),
            (
                "// connlint: ignore(forgotten-connection) x\n",
                "unknown connlint directive `ignore`",
            ),
            ("// connlint: allow forgotten-connection\n", "malformed"),
            ("// connlint: allow() why\n", "names no rule"),
            (
                "use a;\n// connlint: allow-file(forgotten-connection) why\n",
                "below the top",
            ),
        ];
        for (text, want) in cases {
            let (a, bad) = scan_text(text);
            assert!(a.is_empty(), "{text}");
            assert_eq!(bad.len(), 1, "{text}");
            assert!(bad[0].message.contains(want), "{text}: {}", bad[0].message);
            assert_eq!(bad[0].rule, INVALID_SUPPRESSION);
        }
        let (a, bad) = scan_text(
            "// connlint: checked weekly\n//! connlint: allow-file(parse-error) generated\n",
        );
        assert!(bad.is_empty());
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].lines, None);
    }
}
