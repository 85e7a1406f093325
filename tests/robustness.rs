//! Robustness on a stable toolchain: every fixture file, mutated deterministically (a seeded
//! xorshift: token runs deleted, duplicated or inserted, truncation, NUL, quotes, brackets, a
//! byte-order mark, right-to-left and other invisible marks), goes through the whole check
//! (engine, configuration, every report format). No mutant may panic, report an internal
//! error, or take longer than a generous bound (a hang guard, not a speed test). `fuzz/` does the same with coverage guidance where a
//! nightly toolchain exists.

use connlint::config::Config;
use connlint::diagnostic::{Finding, PARSE_ERROR};
use connlint::engine::{self, Input};
use connlint::report::{self, Format, Hidden, Style};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// One run over a fixture's mutants (a few KB each) may not take longer than this; a run that
/// does is repeated mutant by mutant, each with the same bound, to name the one that hangs.
const BOUND: Duration = Duration::from_secs(5);
/// Mutants per fixture file and mutation kind.
const PER_FILE: u64 = 4;

/// A tiny deterministic generator: the same mutants on every run and machine.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn fixtures() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    out.sort();
    assert!(out.len() > 100, "the fixtures are found");
    out
}

/// Rough tokens: identifier runs, whitespace runs, and single other characters. Joined, they
/// give the text back; cutting between them keeps UTF-8 intact.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        }
    };
    let mut prev: Option<u8> = None;
    for (i, c) in text.char_indices() {
        let k = class(c);
        if i > start && (k == 2 || prev != Some(k)) {
            out.push(&text[start..i]);
            start = i;
        }
        prev = Some(k);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Characters that confuse lexers and position arithmetic.
const ODD: &[&str] = &[
    "\0",
    "\u{feff}",
    "\u{202e}",
    "\u{2066}",
    "\u{2069}",
    "\u{200f}",
    "\u{200b}",
    "\r",
    "\u{1F600}",
    "\"",
    "r#\"",
    "/*",
    "'",
    "{",
    "}",
    "(",
    ")]",
    "b'",
    "\\",
    "#[",
    "macro_rules! m { () => {} }",
    "async move",
    ".await",
];

#[derive(Debug, Clone, Copy)]
enum Kind {
    DeleteRun,
    DuplicateRun,
    InsertRun,
    Truncate,
    InsertOdd,
    BomAndMarks,
}

fn mutate(text: &str, kind: Kind, rng: &mut XorShift) -> String {
    let toks = tokens(text);
    let n = toks.len();
    let at = rng.below(n + 1);
    let len = 1 + rng.below(12);
    let run = |from: usize| toks[from.min(n)..(from + len).min(n)].concat();
    let (before, after) = (toks[..at].concat(), toks[at..].concat());
    match kind {
        Kind::DeleteRun => toks[..at].concat() + &toks[(at + len).min(n)..].concat(),
        Kind::DuplicateRun => before + &run(at) + &after,
        Kind::InsertRun => before + &run(rng.below(n)) + &after,
        Kind::Truncate => before,
        Kind::InsertOdd => {
            let mut out = String::new();
            for (i, t) in toks.iter().enumerate() {
                if rng.below(n / 4 + 1) == 0 || i == at {
                    out.push_str(ODD[rng.below(ODD.len())]);
                }
                out.push_str(t);
            }
            out
        }
        Kind::BomAndMarks => {
            let mark = ["\u{feff}", "\u{202e}", "\u{2067}", "\u{200f}\u{202b}"][rng.below(4)];
            format!("\u{feff}{before}{mark}{after}")
        }
    }
}

/// The whole check of the buffers `(path, text)` together, as `connlint check` runs it,
/// rendered in every format. Returns the paths and messages of the internal errors reported.
/// Each mutant lives in its own directory (its own module), so mutants of one fixture do not
/// share names; checking them in one run spares the engine's fixed cost per run.
fn check_all(buffers: Vec<(String, String)>) -> Vec<(String, String)> {
    let inputs: Vec<Input> = buffers
        .into_iter()
        .map(|(path, text)| Input {
            path: PathBuf::from(path),
            text: Some(text),
        })
        .collect();
    let mut outcome = engine::check(&inputs, &|_| true);
    let cfg = Config::default_at(PathBuf::from("."));
    connlint::configured::apply(&cfg, &mut outcome, &inputs, &|_| true);
    for format in [
        Format::Human,
        Format::Short,
        Format::Json,
        Format::Sarif,
        Format::Github,
    ] {
        let style = Style {
            color: false,
            quiet: false,
            hidden: Hidden::default(),
            srcroot: None,
        };
        report::render(format, &outcome, &style);
    }
    internal_errors(&outcome.findings)
}

/// Runs `f` on a worker thread: a panic, or not finishing within `bound`, becomes an error.
fn guarded<T: Send + 'static>(
    bound: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(r.map_err(|p| {
                p.downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into())
            }));
        })
        .unwrap();
    match rx.recv_timeout(bound) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(panic)) => Err(format!("panicked: {panic}")),
        Err(_) => Err(format!("did not finish within {bound:?}")),
    }
}

fn check_guarded(buffers: Vec<(String, String)>) -> Result<Vec<(String, String)>, String> {
    guarded(BOUND, move || check_all(buffers))
}

/// The internal errors among a run's findings: the engine turns a panic while checking a file
/// into a `parse-error` finding saying so.
fn internal_errors(findings: &[Finding]) -> Vec<(String, String)> {
    findings
        .iter()
        .filter(|f| f.rule == PARSE_ERROR && f.message.contains("internal error"))
        .map(|f| (f.path.display().to_string(), f.message.clone()))
        .collect()
}

const KINDS: [Kind; 6] = [
    Kind::DeleteRun,
    Kind::DuplicateRun,
    Kind::InsertRun,
    Kind::Truncate,
    Kind::InsertOdd,
    Kind::BomAndMarks,
];

/// Every mutant of the fixtures whose index leaves `part` when divided by `parts`.
fn run(part: usize, parts: usize) {
    let mut failures = Vec::new();
    let mut mutants = 0;
    for (i, (path, text)) in fixtures().iter().enumerate() {
        if i % parts != part {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut batch = Vec::new();
        for kind in KINDS {
            for j in 0..PER_FILE {
                let seed = (i as u64) << 16 | (kind as u64) << 8 | j;
                let mutant = mutate(text, kind, &mut XorShift::new(seed));
                batch.push((format!("src/m{seed}/{name}"), mutant));
            }
        }
        mutants += batch.len();
        match check_guarded(batch.clone()) {
            Ok(internal) => failures.extend(
                internal
                    .into_iter()
                    .map(|(p, m)| format!("{path:?} as {p}: {m}")),
            ),
            // A hang or a panic outside the engine's guard: find the mutant alone.
            Err(e) => {
                for (p, text) in batch {
                    if let Err(e) = check_guarded(vec![(p.clone(), text.clone())]) {
                        let keep = std::env::temp_dir().join(p.replace('/', "_"));
                        let _ = std::fs::write(&keep, &text);
                        failures.push(format!("{path:?} as {p} (kept in {keep:?}): {e}"));
                    }
                }
                if failures.is_empty() {
                    failures.push(format!("{path:?}: all its mutants together: {e}"));
                }
            }
        }
    }
    assert!(mutants > 1000, "{mutants}");
    assert!(
        failures.is_empty(),
        "{} of {mutants} mutants failed (seed = fixture << 16 | kind << 8 | n):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn mutants_of_even_numbered_fixtures() {
    run(0, 2);
}

#[test]
fn mutants_of_odd_numbered_fixtures() {
    run(1, 2);
}

#[test]
fn mutations_are_deterministic_and_change_the_text() {
    let text = "fn f(pool: &PgPool) { let c = pool.acquire(); drop(c); }\n";
    assert_eq!(tokens(text).concat(), text);
    for kind in KINDS {
        let a = mutate(text, kind, &mut XorShift::new(7));
        assert_eq!(a, mutate(text, kind, &mut XorShift::new(7)), "{kind:?}");
        assert_ne!(a, text, "{kind:?}");
    }
}

/// The guard sees what it guards against: panics, hangs and internal errors.
#[test]
fn the_guard_sees_panics_hangs_and_internal_errors() {
    assert_eq!(guarded(BOUND, || 1), Ok(1));
    let panic = guarded(BOUND, || -> u8 { panic!("boom") });
    assert_eq!(panic, Err("panicked: boom".to_string()));
    let hang = guarded(Duration::from_millis(50), || {
        std::thread::sleep(Duration::from_millis(500))
    });
    assert!(hang.unwrap_err().contains("did not finish"));

    let clean = check_all(vec![("src/a.rs".into(), "fn f() {}\n".into())]);
    assert!(clean.is_empty());
    // Nesting beyond the limit is a diagnostic, not an internal error.
    let deep = format!("use sqlx::PgPool;\nfn f() {{ {} }}", "(".repeat(5000));
    assert!(check_all(vec![("src/d.rs".into(), deep)]).is_empty());
    // What an internal error looks like is what the filter keeps.
    let mut f = Finding {
        rule: PARSE_ERROR,
        severity: connlint::diagnostic::Severity::Warning,
        message: "could not parse: expected `;`".into(),
        path: "src/x.rs".into(),
        primary: connlint::diagnostic::Label {
            span: connlint::diagnostic::Span {
                start: connlint::diagnostic::Pos { line: 1, column: 1 },
                end: connlint::diagnostic::Pos { line: 1, column: 1 },
                bytes: (0, 0),
            },
            message: String::new(),
        },
        secondary: Vec::new(),
        help: None,
    };
    assert!(internal_errors(std::slice::from_ref(&f)).is_empty());
    f.message =
        "internal error while checking this file (index out of bounds); please report it".into();
    assert_eq!(internal_errors(&[f]).len(), 1);
}
