//! Baselines: adopt connlint on old code by recording today's findings and reporting only new
//! ones.
//!
//! A baseline is a JSON file (`version`, sorted `entries`), one entry per distinct key with a
//! count. The key survives unrelated edits: rule id, path (relative to the baseline file's
//! directory, with `/`), the enclosing function (`Type::method` or `function`, empty at file
//! level), and the primary line's text with whitespace collapsed and any trailing `//` comment
//! removed. Line numbers are not part of it, so a finding that moved is still matched; a key
//! seen more often than its count reports the extra findings.

use crate::config::absolute;
use crate::diagnostic::Finding;
use crate::model::Region;
use crate::source::SourceFile;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The baseline file format version.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Key {
    pub rule: String,
    pub path: String,
    /// The enclosing function, `Type::method` for methods; empty at file level.
    pub function: String,
    /// The primary line, whitespace collapsed, trailing comment removed.
    pub snippet: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    #[serde(flatten)]
    pub key: Key,
    /// How many findings have this key.
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    /// Why this file exists, for reviewers.
    #[serde(default)]
    pub comment: String,
    pub entries: Vec<Entry>,
}

/// Computes keys for findings, parsing each file with findings once to find function ranges.
pub struct Keyer<'a> {
    /// The baseline file's directory (absolute): paths are stored relative to it.
    base: PathBuf,
    sources: &'a HashMap<PathBuf, SourceFile>,
    fns: HashMap<PathBuf, FnLines>,
}

/// The innermost function at each line of a file, so that keying a finding costs the same in
/// a file of ten functions and in one of forty thousand.
#[derive(Default)]
struct FnLines {
    names: Vec<String>,
    /// Per line (1-based), the index in `names`, or `u32::MAX` outside any function.
    at: Vec<u32>,
}

impl FnLines {
    /// From the file's function ranges (first line, last line, name).
    fn new(ranges: Vec<(usize, usize, String)>) -> FnLines {
        let last = ranges.iter().map(|r| r.1).max().unwrap_or(0);
        let mut at = vec![u32::MAX; last + 1];
        // Paint the biggest ranges first, so that inner functions overwrite their outer
        // ones; of two equal ranges the one found first wins.
        let mut order: Vec<usize> = (0..ranges.len()).collect();
        order.sort_by_key(|&i| {
            let (lo, hi, _) = &ranges[i];
            (std::cmp::Reverse(hi - lo), std::cmp::Reverse(i))
        });
        for i in order {
            let (lo, hi, _) = &ranges[i];
            at[*lo..=*hi].fill(i as u32);
        }
        FnLines {
            names: ranges.into_iter().map(|(_, _, n)| n).collect(),
            at,
        }
    }

    fn at(&self, line: usize) -> Option<&str> {
        let i = *self.at.get(line)?;
        self.names.get(i as usize).map(String::as_str)
    }
}

impl<'a> Keyer<'a> {
    pub fn new(baseline_file: &Path, sources: &'a HashMap<PathBuf, SourceFile>) -> Keyer<'a> {
        let base = absolute(baseline_file)
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        Keyer {
            base,
            sources,
            fns: HashMap::new(),
        }
    }

    /// Paths relative to the directory `dir` (SARIF fingerprints use the current directory).
    pub fn at_dir(dir: &Path, sources: &'a HashMap<PathBuf, SourceFile>) -> Keyer<'a> {
        Keyer {
            base: absolute(dir),
            sources,
            fns: HashMap::new(),
        }
    }

    pub fn key(&mut self, f: &Finding) -> Key {
        let abs = absolute(&f.path);
        let path = abs
            .strip_prefix(&self.base)
            .unwrap_or(&abs)
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let line = f.primary.span.start.line;
        let source = self.sources.get(&f.path);
        let snippet = source
            .and_then(|s| s.line(line))
            .map(normalise)
            .unwrap_or_default();
        let fns = self.fns.entry(f.path.clone()).or_insert_with(|| {
            source
                .map(|s| FnLines::new(function_ranges(s)))
                .unwrap_or_default()
        });
        let function = fns.at(line).unwrap_or_default().to_string();
        Key {
            rule: f.rule.to_string(),
            path,
            function,
            snippet,
        }
    }
}

/// A line of code as compared by the baseline: whitespace runs collapsed to one space, the
/// trailing `//` comment dropped (so adding a comment does not make a finding new).
pub fn normalise(line: &str) -> String {
    let code = strip_trailing_comment(line);
    code.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn strip_trailing_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && b.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

/// Every function and method of a file with its line range, `Type::method` for methods, from
/// the file's model. A file that does not parse has none (its findings are keyed at file level).
fn function_ranges(source: &SourceFile) -> Vec<(usize, usize, String)> {
    source
        .regions
        .iter()
        .filter_map(|r| match r {
            Region::Fn { lo, hi, name } => Some((*lo as usize, *hi as usize, name.clone())),
            Region::Test { .. } => None,
        })
        .collect()
}

/// Findings keyed and counted, sorted by key.
pub fn entries(findings: &[Finding], keyer: &mut Keyer<'_>) -> Vec<Entry> {
    let mut counts: BTreeMap<Key, usize> = BTreeMap::new();
    for f in findings {
        *counts.entry(keyer.key(f)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(key, count)| Entry { key, count })
        .collect()
}

/// Writes a baseline atomically: a temporary file in the same directory, then a rename.
pub fn write(path: &Path, entries: Vec<Entry>) -> std::io::Result<()> {
    let doc = Baseline {
        version: VERSION,
        comment: "connlint baseline: findings recorded on adoption; `connlint check --baseline \
                  <this file>` reports only findings not listed here. Regenerate with \
                  --write-baseline."
            .into(),
        entries,
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("a baseline serializes");
    text.push('\n');
    let abs = absolute(path);
    let dir = abs.parent().unwrap_or(Path::new("/"));
    let name = abs
        .file_name()
        .map_or_else(|| "baseline".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &abs)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reads a baseline file.
pub fn read(path: &Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read baseline: {e}"))?;
    let doc: Baseline =
        serde_json::from_str(&text).map_err(|e| format!("not a connlint baseline: {e}"))?;
    if doc.version != VERSION {
        return Err(format!(
            "baseline version {} is not supported (expected {VERSION}); regenerate it with --write-baseline",
            doc.version
        ));
    }
    Ok(doc)
}

/// What filtering by a baseline did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Filtered {
    /// Findings hidden because the baseline lists them.
    pub matched: usize,
    /// Baseline findings no longer present (fixed, or changed beyond recognition).
    pub stale: usize,
}

/// Removes the findings the baseline lists (up to each entry's count). Order is kept.
pub fn filter(findings: &mut Vec<Finding>, baseline: &Baseline, keyer: &mut Keyer<'_>) -> Filtered {
    let mut left: HashMap<Key, usize> = baseline
        .entries
        .iter()
        .map(|e| (e.key.clone(), e.count))
        .collect();
    let mut matched = 0;
    findings.retain(|f| match left.get_mut(&keyer.key(f)) {
        Some(n) if *n > 0 => {
            *n -= 1;
            matched += 1;
            false
        }
        _ => true,
    });
    Filtered {
        matched,
        stale: left.values().sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_ignore_spacing_and_comments() {
        assert_eq!(
            normalise("    std::mem::forget( conn );   // connlint: allow(x) y"),
            "std::mem::forget( conn );"
        );
        assert_eq!(normalise("let s = \"a // b\"; // c"), "let s = \"a // b\";");
    }

    #[test]
    fn functions_are_found_with_their_owner() {
        let text = "fn a() {\n    x();\n}\nimpl Db {\n    async fn conn(&self) {\n        fn inner() {}\n    }\n}\nmod m { fn b() {} }\n";
        let mut source = SourceFile::new("src/a.rs".into(), text.into());
        source.regions = crate::lower::lower_file(&source.path, text)
            .unwrap()
            .regions;
        let got = function_ranges(&source);
        assert!(got.contains(&(1, 3, "a".into())), "{got:?}");
        assert!(got.contains(&(5, 7, "Db::conn".into())), "{got:?}");
        assert!(got.contains(&(6, 6, "inner".into())), "{got:?}");
        assert!(got.contains(&(9, 9, "b".into())), "{got:?}");
        // The innermost function of each line.
        let lines = FnLines::new(got);
        let at: Vec<Option<&str>> = (1..=10).map(|l| lines.at(l)).collect();
        assert_eq!(
            at,
            [
                Some("a"),
                Some("a"),
                Some("a"),
                None,
                Some("Db::conn"),
                Some("inner"),
                Some("Db::conn"),
                None,
                Some("b"),
                None
            ]
        );
    }
}
