//! Code actions on connlint's diagnostics:
//!
//! * "Suppress `rule` here": inserts `// connlint: allow(rule) reason` on its own line right
//!   above the finding's line, with that line's indentation (a suppression covers the line
//!   below it, so for a statement on one line this is the line above the statement). Clients
//!   that accept snippets in workspace edits get the reason as a placeholder (`${1:reason}`),
//!   so the cursor lands on it; others get the literal word `reason` to overwrite.
//! * "Explain `rule`": runs the `connlint.explain` command (see [`EXPLAIN`]).

use super::diagnostics::rule_of;
use super::documents::{line_text, Document};
use lsp_types::{Diagnostic, Position, Range};
use serde_json::{json, Value};

/// The command that shows a rule's documentation; its one argument is the rule id.
pub const EXPLAIN: &str = "connlint.explain";

/// How a client takes snippets inside a workspace edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snippets {
    /// Plain text only.
    No,
    /// LSP 3.18 `workspace.workspaceEdit.snippetEditSupport`: `SnippetTextEdit`s.
    Standard,
    /// rust-analyzer's `experimental.snippetTextEdit`: `insertTextFormat: 2` on a text edit.
    Experimental,
}

/// What the client says it can do, as far as the server cares.
#[derive(Debug, Clone, Copy)]
pub struct ClientCaps {
    pub snippets: Snippets,
    /// `window/showDocument` is supported.
    pub show_document: bool,
    /// Watched files can be registered dynamically.
    pub watch_files: bool,
}

impl ClientCaps {
    /// Read from the raw `initialize` params (lsp-types has no field for the 3.18 snippet
    /// capability).
    pub fn from_params(params: &Value) -> ClientCaps {
        let caps = &params["capabilities"];
        let yes = |v: &Value| v.as_bool() == Some(true);
        let snippets = if yes(&caps["workspace"]["workspaceEdit"]["snippetEditSupport"]) {
            Snippets::Standard
        } else if yes(&caps["experimental"]["snippetTextEdit"]) {
            Snippets::Experimental
        } else {
            Snippets::No
        };
        ClientCaps {
            snippets,
            show_document: yes(&caps["window"]["showDocument"]["support"]),
            watch_files: yes(&caps["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"]),
        }
    }
}

/// The actions for connlint's diagnostics among `diagnostics` (those at the requested range):
/// one suppression per rule and line, one explanation per rule.
pub fn actions(doc: &Document, diagnostics: &[Diagnostic], caps: ClientCaps) -> Vec<Value> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for d in diagnostics {
        let Some(rule) = rule_of(d) else { continue };
        // Only the rules: connlint's own diagnostics (`parse-error`, the suppression checks)
        // are fixed, not suppressed.
        if crate::rules::by_id(rule).is_none() {
            continue;
        }
        if seen.insert((rule.to_string(), d.range.start.line)) {
            out.push(suppress(doc, d, rule, caps));
        }
        if seen.insert((rule.to_string(), u32::MAX)) {
            out.push(json!({
                "title": format!("Explain connlint rule `{rule}`"),
                "kind": "quickfix",
                "diagnostics": [d],
                "command": {
                    "title": format!("Explain `{rule}`"),
                    "command": EXPLAIN,
                    "arguments": [rule],
                },
            }));
        }
    }
    out
}

/// The suppression comment above the diagnostic's line, and the edit that inserts it.
fn suppress(doc: &Document, d: &Diagnostic, rule: &str, caps: ClientCaps) -> Value {
    let line = d.range.start.line;
    let code = line_text(&doc.text, line as usize);
    let indent: String = code
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let eol = if doc.text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let at = Range::new(Position::new(line, 0), Position::new(line, 0));
    let comment = |reason: &str| format!("{indent}// connlint: allow({rule}) {reason}{eol}");
    let text_document = json!({ "uri": doc.uri, "version": doc.version });
    let edit = match caps.snippets {
        Snippets::No => json!({ "changes": { doc.uri.as_str(): [
            { "range": at, "newText": comment("reason") }
        ] } }),
        Snippets::Standard => json!({ "documentChanges": [{
            "textDocument": text_document,
            "edits": [{
                "range": at,
                "snippet": { "kind": "snippet", "value": snippet(&indent, rule, eol) },
            }],
        }] }),
        Snippets::Experimental => json!({ "documentChanges": [{
            "textDocument": text_document,
            "edits": [{
                "range": at,
                "newText": snippet(&indent, rule, eol),
                "insertTextFormat": 2,
            }],
        }] }),
    };
    json!({
        "title": format!("Suppress `{rule}` here (connlint: allow, with a reason)"),
        "kind": "quickfix",
        "diagnostics": [d],
        "edit": edit,
    })
}

/// The comment as a snippet whose one placeholder is the reason.
fn snippet(indent: &str, rule: &str, eol: &str) -> String {
    let esc = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('$', "\\$")
            .replace('}', "\\}")
    };
    format!(
        "{}// connlint: allow({}) ${{1:reason}}{eol}",
        esc(indent),
        esc(rule)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_read_from_the_raw_params() {
        let caps = ClientCaps::from_params(&json!({ "capabilities": {
            "workspace": {
                "workspaceEdit": { "snippetEditSupport": true },
                "didChangeWatchedFiles": { "dynamicRegistration": true },
            },
            "window": { "showDocument": { "support": true } },
        } }));
        assert_eq!(caps.snippets, Snippets::Standard);
        assert!(caps.show_document && caps.watch_files);
        let ra = ClientCaps::from_params(&json!({ "capabilities": {
            "experimental": { "snippetTextEdit": true },
        } }));
        assert_eq!(ra.snippets, Snippets::Experimental);
        let none = ClientCaps::from_params(&json!({}));
        assert_eq!(none.snippets, Snippets::No);
        assert!(!none.show_document && !none.watch_files);
    }

    #[test]
    fn snippets_escape_their_special_characters() {
        assert_eq!(
            snippet("\t", "held-across-await", "\n"),
            "\t// connlint: allow(held-across-await) ${1:reason}\n"
        );
        assert_eq!(
            snippet("$}", "r", "\n"),
            "\\$\\}// connlint: allow(r) ${1:reason}\n"
        );
    }
}
