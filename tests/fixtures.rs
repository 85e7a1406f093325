//! One test per fixture: `fixtures/<rule-id>/<case>.rs` (a file checked alone) or
//! `fixtures/<rule-id>/<case>/` (a directory checked as one crate). Lines carrying
//! `//~ rule-id [rule-id ...]` must get exactly those findings; every other line none.

use connlint::engine::{self, Input};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (file, line, rule) of every expected or actual finding.
type Marks = BTreeSet<(String, usize, String)>;

fn expected(files: &[PathBuf], root: &Path) -> Marks {
    let mut marks = Marks::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        let name = rel(f, root);
        for (i, line) in text.lines().enumerate() {
            if let Some(pos) = line.find("//~") {
                for id in line[pos + 3..]
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|s| !s.is_empty())
                {
                    marks.insert((name.clone(), i + 1, id.to_string()));
                }
            }
        }
    }
    marks
}

fn rel(p: &Path, root: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

fn run_case(case: &Path) -> Result<(), Failed> {
    let files = connlint::walk::rust_files(&[case.to_path_buf()]).map_err(|e| e.to_string())?;
    let root = if case.is_dir() {
        case
    } else {
        case.parent().unwrap()
    };
    let inputs: Vec<Input> = files
        .iter()
        .map(|p| Input {
            path: p.clone(),
            text: None,
        })
        .collect();
    // A crate folder may carry its own configuration (declared types, `[[release]]` pairs).
    let config_file = case.join("connlint.toml");
    let outcome = if case.is_dir() && config_file.exists() {
        let config = connlint::config::Config::load(&config_file).map_err(|e| e.render(false))?;
        let knowledge = config.knowledge().map_err(|e| e.render(false))?;
        let settings = engine::Settings {
            knowledge,
            enabled: &|_| true,
            release: &config.release,
            timeouts: engine::DEFAULT_TIMEOUTS,
        };
        engine::check_with(&inputs, &settings)
    } else {
        engine::check(&inputs, &|_| true)
    };
    let actual: Marks = outcome
        .findings
        .iter()
        .map(|f| {
            (
                rel(&f.path, root),
                f.primary.span.start.line,
                f.rule.to_string(),
            )
        })
        .collect();
    let want = expected(&files, root);
    if actual == want {
        return Ok(());
    }
    let mut msg = String::new();
    for (file, line, rule) in want.difference(&actual) {
        msg.push_str(&format!("  missing: {file}:{line}: {rule}\n"));
    }
    for (file, line, rule) in actual.difference(&want) {
        let detail = outcome
            .findings
            .iter()
            .find(|f| {
                rel(&f.path, root) == *file && f.primary.span.start.line == *line && f.rule == rule
            })
            .map(|f| f.message.clone())
            .unwrap_or_default();
        msg.push_str(&format!("  unexpected: {file}:{line}: {rule}: {detail}\n"));
    }
    Err(msg.into())
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut trials = Vec::new();
    let mut rule_dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    rule_dirs.sort();
    for dir in rule_dirs {
        let rule = dir.file_name().unwrap().to_string_lossy().to_string();
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "rs"))
            .collect();
        cases.sort();
        for case in cases {
            let name = format!("{rule}::{}", case.file_stem().unwrap().to_string_lossy());
            trials.push(Trial::test(name, move || run_case(&case)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
