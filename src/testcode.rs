//! How findings in test code are treated (`tests = "check" | "warn" | "skip"` in the
//! configuration). Test code is: files under a `tests/` or `benches/` directory, `#[cfg(test)]`
//! modules, and functions marked `#[test]` or `#[<runtime>::test]` (`#[tokio::test]`,
//! `#[sqlx::test]`, ...). Applied to findings after the engine ran; rules never see it.

use crate::config::{absolute, TestCode};
use crate::diagnostic::{Finding, Severity, PARSE_ERROR};
use crate::model::Region;
use crate::source::SourceFile;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
            .or_insert_with(|| sources.get(&f.path).map(test_ranges).unwrap_or_default())
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

/// Line ranges of `#[cfg(test)]` modules and impls and `#[test]`-like functions, from the
/// file's model.
pub fn test_ranges(source: &SourceFile) -> Vec<(usize, usize)> {
    source
        .regions
        .iter()
        .filter_map(|r| match r {
            Region::Test { lo, hi } => Some((*lo as usize, *hi as usize)),
            Region::Fn { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_test_modules_and_functions() {
        let text = "fn a() {}\n#[cfg(test)]\nmod t {\n    fn b() {}\n}\n#[tokio::test]\nasync fn c() {\n}\nmod m {\n    #[test]\n    fn d() {}\n}\n#[cfg(not(feature = \"x\"))]\nmod n {}\n";
        let mut source = SourceFile::new("src/a.rs".into(), text.into());
        source.regions = crate::lower::lower_file(&source.path, text)
            .unwrap()
            .regions;
        assert_eq!(test_ranges(&source), vec![(2, 5), (6, 8), (10, 11)]);
    }
}
