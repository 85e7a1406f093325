//! How findings in test code are treated (`tests = "check" | "warn" | "skip"` in the
//! configuration). Test code is: files under a `tests/` or `benches/` directory, `#[cfg(test)]`
//! modules, and functions marked `#[test]` or `#[<runtime>::test]` (`#[tokio::test]`,
//! `#[sqlx::test]`, ...). Applied to findings after the engine ran; rules never see it.

use crate::config::{absolute, TestCode};
use crate::diagnostic::{Finding, Severity, PARSE_ERROR};
use crate::source::SourceFile;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use syn::spanned::Spanned;

/// Drops (`skip`) or lowers to warnings (`warn`) the findings in test code. `root` is the
/// configuration's directory: `tests/` and `benches/` are looked for below it.
pub fn apply(
    findings: &mut Vec<Finding>,
    sources: &HashMap<PathBuf, SourceFile>,
    root: &Path,
    mode: TestCode,
) {
    if mode == TestCode::Check {
        return;
    }
    let mut ranges: HashMap<PathBuf, Vec<(usize, usize)>> = HashMap::new();
    let mut in_tests = |f: &Finding| -> bool {
        if f.rule == PARSE_ERROR {
            return false;
        }
        let abs = absolute(&f.path);
        let rel = abs.strip_prefix(root).unwrap_or(&abs);
        if rel
            .components()
            .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "benches")
        {
            return true;
        }
        let line = f.primary.span.start.line;
        ranges
            .entry(f.path.clone())
            .or_insert_with(|| {
                sources
                    .get(&f.path)
                    .map(|s| test_ranges(&s.text))
                    .unwrap_or_default()
            })
            .iter()
            .any(|(lo, hi)| *lo <= line && line <= *hi)
    };
    match mode {
        TestCode::Skip => findings.retain(|f| !in_tests(f)),
        TestCode::Warn => {
            for f in findings.iter_mut() {
                if in_tests(f) {
                    f.severity = Severity::Warning;
                }
            }
        }
        TestCode::Check => {}
    }
}

/// Line ranges of `#[cfg(test)]` modules and `#[test]`-like functions.
pub fn test_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if let Ok(file) = syn::parse_file(text) {
        collect(&file.items, &mut out);
    }
    proc_macro2::extra::invalidate_current_thread_spans();
    out
}

fn collect(items: &[syn::Item], out: &mut Vec<(usize, usize)>) {
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                if m.attrs.iter().any(is_cfg_test) {
                    let s = m.span();
                    out.push((s.start().line, s.end().line));
                } else if let Some((_, items)) = &m.content {
                    collect(items, out);
                }
            }
            syn::Item::Fn(f) if f.attrs.iter().any(is_test_attr) => {
                let s = f.span();
                out.push((s.start().line, s.end().line));
            }
            syn::Item::Impl(i) if i.attrs.iter().any(is_cfg_test) => {
                let s = i.span();
                out.push((s.start().line, s.end().line));
            }
            _ => {}
        }
    }
}

/// `#[cfg(test)]`, `#[cfg(all(test, ..))]`.
fn is_cfg_test(a: &syn::Attribute) -> bool {
    a.path().is_ident("cfg")
        && a.meta.require_list().is_ok_and(|l| {
            l.tokens
                .to_string()
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == "test")
        })
}

/// `#[test]`, `#[tokio::test]`, `#[sqlx::test(..)]`, `#[rstest]`.
fn is_test_attr(a: &syn::Attribute) -> bool {
    a.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "test" || s.ident == "rstest")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_test_modules_and_functions() {
        let text = "fn a() {}\n#[cfg(test)]\nmod t {\n    fn b() {}\n}\n#[tokio::test]\nasync fn c() {\n}\nmod m {\n    #[test]\n    fn d() {}\n}\n#[cfg(not(feature = \"x\"))]\nmod n {}\n";
        assert_eq!(test_ranges(text), vec![(2, 5), (6, 8), (10, 11)]);
    }
}
