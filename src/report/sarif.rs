//! SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps): one run, the tool with every
//! rule (help text and URL), one result per finding with its region, related locations for the
//! secondary labels, and a stable fingerprint (the baseline key) so alerts survive line moves.

use crate::baseline::Keyer;
use crate::config::absolute;
use crate::diagnostic::{Finding, Severity, Span, PARSE_ERROR};
use crate::diagnostic::{INVALID_SUPPRESSION, UNUSED_SUPPRESSION};
use crate::engine::Outcome;
use crate::ids::DIAGNOSTIC_IDS;
use crate::rules;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Where a rule's documentation lives online.
pub fn help_uri(id: &str) -> String {
    crate::links::rule_doc(id)
}

fn diagnostic_summary(id: &str) -> &'static str {
    match id {
        PARSE_ERROR => "a file connlint could not read or parse, so it was not checked",
        UNUSED_SUPPRESSION => "a `// connlint: allow(..)` comment that suppresses nothing",
        INVALID_SUPPRESSION => {
            "a suppression comment without a reason, with an unknown rule id, or malformed"
        }
        _ => "",
    }
}

/// `forgotten-connection` → `ForgottenConnection` (SARIF's `name` is an identifier).
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn rule_descriptors() -> (Vec<Value>, HashMap<&'static str, usize>) {
    let mut out = Vec::new();
    let mut index = HashMap::new();
    for r in rules::all() {
        let i = r.info();
        let doc = rules::doc(i.id).unwrap_or(i.summary);
        index.insert(i.id, out.len());
        out.push(json!({
            "id": i.id,
            "name": pascal(i.id),
            "shortDescription": { "text": i.summary },
            "fullDescription": { "text": i.summary },
            "help": { "text": doc, "markdown": doc },
            "helpUri": help_uri(i.id),
            "defaultConfiguration": { "level": level(i.default) },
            "properties": { "tags": ["connlint", i.family.as_str()] },
        }));
    }
    for &id in DIAGNOSTIC_IDS {
        index.insert(id, out.len());
        let summary = diagnostic_summary(id);
        out.push(json!({
            "id": id,
            "name": pascal(id),
            "shortDescription": { "text": summary },
            "fullDescription": { "text": summary },
            "help": {
                "text": format!("{summary}. See {}", help_uri(id)),
                "markdown": format!("{summary}. See [the README]({}).", help_uri(id)),
            },
            "helpUri": help_uri(id),
            "defaultConfiguration": { "level": "warning" },
            "properties": { "tags": ["connlint", "diagnostic"] },
        }));
    }
    (out, index)
}

/// A relative path as a URI reference (`/` separators, percent-encoded); an absolute one as a
/// `file://` URI.
pub fn uri(path: &Path) -> (String, bool) {
    let text: String = path
        .components()
        .filter_map(|c| match c {
            std::path::Component::RootDir => None,
            c => Some(c.as_os_str().to_string_lossy().into_owned()),
        })
        .collect::<Vec<_>>()
        .join("/");
    let mut enc = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    if path.is_absolute() {
        (format!("file:///{enc}"), true)
    } else {
        (enc, false)
    }
}

fn region(s: &Span) -> Value {
    let (end_line, mut end_col) = (s.end.line.max(s.start.line), s.end.column);
    if end_line == s.start.line && end_col <= s.start.column {
        end_col = s.start.column + 1;
    }
    json!({
        "startLine": s.start.line,
        "startColumn": s.start.column,
        "endLine": end_line,
        "endColumn": end_col,
    })
}

/// The repository root for `%SRCROOT%`: the nearest directory holding `.git` (a directory, or
/// a file in a worktree or submodule) above `start`.
pub fn repository_root(start: &Path) -> Option<PathBuf> {
    let start = absolute(start);
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// A finding's artifact: relative to `root` (with `uriBaseId`) when it is below it, else an
/// absolute `file://` URI.
fn artifact(path: &Path, root: &Path) -> Value {
    let abs = absolute(path);
    match abs.strip_prefix(root) {
        Ok(rel) => json!({ "uri": uri(rel).0, "uriBaseId": "%SRCROOT%" }),
        Err(_) => json!({ "uri": uri(&abs).0 }),
    }
}

fn location(f: &Finding, span: &Span, root: &Path) -> Value {
    let artifact = artifact(&f.path, root);
    json!({ "physicalLocation": { "artifactLocation": artifact, "region": region(span) } })
}

/// 64-bit FNV-1a, hex: a fingerprint that does not change between runs or machines.
fn fnv(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The SARIF document; paths are relative to `srcroot` (absolute; default: the current
/// directory), which becomes `originalUriBaseIds.%SRCROOT%`.
pub fn render(outcome: &Outcome, srcroot: Option<&Path>) -> String {
    let (rules, index) = rule_descriptors();
    let root = srcroot.map_or_else(|| absolute(Path::new(".")), absolute);
    // Fingerprints use root-relative paths too, so they do not depend on where the check ran.
    let mut keyer = Keyer::at_dir(&root, &outcome.sources);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| {
            let k = keyer.key(f);
            let base = format!("{}\0{}\0{}\0{}", k.rule, k.path, k.function, k.snippet);
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            let fingerprint = fnv(&format!("{base}\0{n}"));
            let mut text = f.message.clone();
            if let Some(h) = &f.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let related: Vec<Value> = f
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut loc = location(f, &l.span, &root);
                    loc["id"] = json!(i + 1);
                    loc["message"] = json!({ "text": l.message });
                    loc
                })
                .collect();
            let mut primary = location(f, &f.primary.span, &root);
            primary["message"] = json!({ "text": f.primary.message });
            let mut r = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": { "text": text },
                "locations": [primary],
                "partialFingerprints": { "connlint/v1": fingerprint },
            });
            if let Some(&i) = index.get(f.rule) {
                r["ruleIndex"] = json!(i);
            }
            if !related.is_empty() {
                r["relatedLocations"] = json!(related);
            }
            r
        })
        .collect();
    let (root, _) = uri(&root);
    let root = if root.ends_with('/') {
        root
    } else {
        format!("{root}/")
    };
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "connlint",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": crate::links::REPOSITORY,
                "rules": rules,
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri(Path::new("src/a b.rs")), ("src/a%20b.rs".into(), false));
        assert_eq!(uri(Path::new("/x/y.rs")), ("file:///x/y.rs".into(), true));
        assert_eq!(pascal("held-across-await"), "HeldAcrossAwait");
    }
}
