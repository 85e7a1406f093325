//! The pipeline: read → prefilter → parse (in parallel) → crate index → flow → rules → sorted
//! findings.
//!
//! syn's trees hold proc-macro2 spans, which are tied to the thread that parsed them, so each
//! worker parses a fixed share of the files, keeps the trees in thread-local storage, and later
//! analyses exactly those files. Only span-free facts (`FileFacts`, `Finding`) cross threads.

use crate::diagnostic::{Finding, Label, Severity, Span, PARSE_ERROR};
use crate::flow::{self, Acquirers, Summary};
use crate::index::{CrateIndex, FileFacts, FileId};
use crate::profile::Knowledge;
use crate::rules::{self, FileCx};
use crate::source::SourceFile;
use aho_corasick::AhoCorasick;
use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// One file to check: read from disk, or given as text (an editor's unsaved buffer).
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub text: Option<String>,
}

/// What a run found.
pub struct Outcome {
    /// Sorted by path and position.
    pub findings: Vec<Finding>,
    /// The text of every file with a finding, for snippets.
    pub sources: HashMap<PathBuf, SourceFile>,
    pub files_checked: usize,
    pub files_parsed: usize,
}

/// Deeper bracket nesting than this is reported instead of parsed: no real code nests so deep,
/// and it keeps a hostile file from overflowing the stack.
const MAX_NESTING: usize = 1_000;
const STACK_SIZE: usize = 256 << 20;

struct Parsed {
    id: FileId,
    source: SourceFile,
    ast: syn::File,
    bodies: Option<Vec<flow::Body>>,
    failure: Option<Finding>,
}

thread_local! {
    static PARSED: RefCell<Vec<Parsed>> = const { RefCell::new(Vec::new()) };
    /// Files read but skipped by the first prefilter, kept for the second.
    static PENDING: RefCell<Vec<(FileId, SourceFile)>> = const { RefCell::new(Vec::new()) };
}

/// What a run knows and which rules it runs.
pub struct Settings<'a> {
    /// The built-in profiles, plus whatever the user's configuration declares.
    pub knowledge: &'static Knowledge,
    pub enabled: &'a (dyn Fn(&str) -> bool + Sync),
    /// Manual acquire/release pairs from configuration, for `release-skipped`.
    pub release: &'a [crate::config::ReleasePair],
    /// `pool-misconfigured` thresholds in milliseconds: (too long above, too short below).
    pub timeouts: (u128, u128),
}

/// The default `pool-misconfigured` thresholds: 10 minutes and 100 ms.
pub const DEFAULT_TIMEOUTS: (u128, u128) = (10 * 60 * 1000, 100);

/// Checks `inputs` with the built-in knowledge and the rules `enabled` says yes to.
pub fn check(inputs: &[Input], enabled: &(dyn Fn(&str) -> bool + Sync)) -> Outcome {
    check_with(
        inputs,
        &Settings {
            knowledge: Knowledge::builtin(),
            enabled,
            release: &[],
            timeouts: DEFAULT_TIMEOUTS,
        },
    )
}

/// Checks `inputs` as `settings` say.
pub fn check_with(inputs: &[Input], settings: &Settings<'_>) -> Outcome {
    let knowledge = settings.knowledge;
    let enabled = settings.enabled;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, inputs.len().max(1));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(STACK_SIZE)
        .thread_name(|i| format!("connlint-{i}"))
        .build()
        .expect("the worker threads start");
    // Files that name a configured manual acquire call matter too.
    let mut words = knowledge.vocabulary();
    words.extend(settings.release.iter().map(|r| {
        r.acquire
            .rsplit("::")
            .next()
            .unwrap_or_default()
            .to_string()
    }));
    let vocabulary = AhoCorasick::new(words).expect("vocabulary builds");

    // 1. Read every file; parse those that mention a database crate or type.
    let timer = Timer::start();
    let first = pool.broadcast(|ctx| {
        let mut facts = Vec::new();
        let mut findings = Vec::new();
        for id in (ctx.index()..inputs.len()).step_by(ctx.num_threads()) {
            match read(&inputs[id]) {
                Err(f) => findings.push(*f),
                Ok(source) if vocabulary.is_match(&source.text) => {
                    parse_into_tls(id, source, &mut facts, &mut findings)
                }
                Ok(source) => PENDING.with(|p| p.borrow_mut().push((id, source))),
            }
        }
        (facts, findings)
    });
    let mut findings = Vec::new();
    let mut all_facts: Vec<FileFacts> = (0..inputs.len()).map(|_| FileFacts::default()).collect();
    for (facts, fs) in first {
        findings.extend(fs);
        for (id, f) in facts {
            all_facts[id] = f;
        }
    }

    // 2. Parse the files that mention only crate-local wrappers and helpers found in step 1.
    let local_words = CrateIndex::build(knowledge, all_facts.clone()).local_vocabulary();
    timer.lap("read+prefilter+parse");
    let second = match AhoCorasick::new(&local_words) {
        Ok(local) if !local_words.is_empty() => pool.broadcast(|_| {
            let mut facts = Vec::new();
            let mut findings = Vec::new();
            let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
            for (id, source) in pending {
                if local.is_match(&source.text) {
                    parse_into_tls(id, source, &mut facts, &mut findings);
                }
            }
            (facts, findings)
        }),
        _ => Vec::new(),
    };
    for (facts, fs) in second {
        findings.extend(fs);
        for (id, f) in facts {
            all_facts[id] = f;
        }
    }
    timer.lap("second parse");
    let mut index = CrateIndex::build(knowledge, all_facts);
    index.set_release_pairs(settings.release.to_vec());

    // 3. Follow the connections of every body, on the thread that parsed its file, and
    //    gather what each function does for the crate-wide picture.
    timer.lap("index");
    let summaries = pool.broadcast(|_| {
        PENDING.with(|p| p.borrow_mut().clear());
        PARSED.with(|p| {
            let mut parsed = p.borrow_mut();
            let mut summaries = Vec::new();
            for file in parsed.iter_mut() {
                let bodies = catch_unwind(AssertUnwindSafe(|| {
                    flow::analyse_file(&index, file.id, &file.ast)
                }));
                match bodies {
                    Ok(bodies) => {
                        for b in &bodies {
                            let pos = |s: proc_macro2::Span| file.source.span(s).start;
                            summaries.push(Summary::of(b, &file.source.path, pos));
                        }
                        file.bodies = Some(bodies);
                    }
                    Err(panic) => file.failure = Some(internal_error(&file.source, panic)),
                }
            }
            summaries
        })
    });
    let acquirers = Acquirers::compute(summaries.into_iter().flatten().collect());

    // 4. Run the rules.
    timer.lap("flow+summaries");
    let third = pool.broadcast(|_| {
        let parsed = PARSED.with(|p| std::mem::take(&mut *p.borrow_mut()));
        let mut out = Vec::new();
        let mut parsed_count = 0;
        for file in parsed {
            parsed_count += 1;
            let found = match (&file.bodies, file.failure) {
                (_, Some(failure)) => vec![failure],
                (Some(bodies), None) => catch_unwind(AssertUnwindSafe(|| {
                    let mut cx =
                        FileCx::new(&index, &acquirers, file.id, &file.source, &file.ast, bodies);
                    cx.timeouts = settings.timeouts;
                    rules::run(&mut cx, enabled);
                    cx.findings
                }))
                .unwrap_or_else(|panic| vec![internal_error(&file.source, panic)]),
                (None, None) => Vec::new(),
            };
            let keep_source = !found.is_empty();
            drop(file.bodies);
            drop(file.ast);
            out.push((found, keep_source.then_some(file.source)));
        }
        // Every tree of this thread is gone: free the span table for the next run.
        proc_macro2::extra::invalidate_current_thread_spans();
        (out, parsed_count)
    });

    timer.lap("rules");
    let mut sources = HashMap::new();
    let mut files_parsed = 0;
    for (results, n) in third {
        files_parsed += n;
        for (found, source) in results {
            findings.extend(found);
            if let Some(s) = source {
                sources.insert(s.path.clone(), s);
            }
        }
    }
    // Parse errors need their text too, for the snippet.
    for f in &findings {
        if f.rule == PARSE_ERROR && !sources.contains_key(&f.path) {
            if let Ok(src) = read(&Input {
                path: f.path.clone(),
                text: None,
            }) {
                sources.insert(f.path.clone(), src);
            }
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    Outcome {
        findings,
        sources,
        files_checked: inputs.len(),
        files_parsed,
    }
}

fn read(input: &Input) -> Result<SourceFile, Box<Finding>> {
    let text = match &input.text {
        Some(t) => t.clone(),
        None => {
            let bytes = std::fs::read(&input.path).map_err(|e| {
                Box::new(file_error(
                    &input.path,
                    None,
                    format!("cannot read file: {e}"),
                ))
            })?;
            String::from_utf8(bytes).map_err(|e| {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let src = SourceFile::new(
                    input.path.clone(),
                    String::from_utf8_lossy(valid).into_owned(),
                );
                let at = src.byte_span(valid.len(), valid.len());
                Box::new(file_error(
                    &input.path,
                    Some(at),
                    "file is not valid UTF-8".into(),
                ))
            })?
        }
    };
    // syn drops a byte-order mark before lexing; do the same so positions agree.
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    Ok(SourceFile::new(input.path.clone(), text))
}

fn parse_into_tls(
    id: FileId,
    source: SourceFile,
    facts: &mut Vec<(FileId, FileFacts)>,
    findings: &mut Vec<Finding>,
) {
    if let Some(offset) = too_deep(&source.text) {
        let at = source.byte_span(offset, offset + 1);
        findings.push(file_error(
            &source.path,
            Some(at),
            format!("nesting deeper than {MAX_NESTING} levels; file skipped"),
        ));
        return;
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| syn::parse_file(&source.text)));
    match parsed {
        Ok(Ok(ast)) => {
            facts.push((
                id,
                FileFacts::of(id, &ast, &crate::index::module_of(&source.path)),
            ));
            PARSED.with(|p| {
                p.borrow_mut().push(Parsed {
                    id,
                    source,
                    ast,
                    bodies: None,
                    failure: None,
                })
            });
        }
        Ok(Err(e)) => {
            let at = source.span(e.span());
            findings.push(file_error(
                &source.path,
                Some(at),
                format!("could not parse: {e}"),
            ));
        }
        Err(panic) => findings.push(internal_error(&source, panic)),
    }
}

/// The offset where bracket nesting first exceeds the limit, if it does.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn file_error(path: &std::path::Path, at: Option<Span>, message: String) -> Finding {
    let span = at.unwrap_or(Span {
        start: crate::diagnostic::Pos { line: 1, column: 1 },
        end: crate::diagnostic::Pos { line: 1, column: 1 },
        bytes: (0, 0),
    });
    Finding {
        rule: PARSE_ERROR,
        severity: Severity::Warning,
        message,
        path: path.to_path_buf(),
        primary: Label {
            span,
            message: "connlint could not check this file".into(),
        },
        secondary: Vec::new(),
        help: Some(
            "connlint checks files the Rust compiler accepts; fix the file or exclude it".into(),
        ),
    }
}

fn internal_error(source: &SourceFile, panic: Box<dyn std::any::Any + Send>) -> Finding {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    file_error(
        &source.path,
        None,
        format!("internal error while checking this file ({what}); please report it"),
    )
}

/// Phase timings on stderr when `CONNLINT_TIMINGS` is set (for profiling, not for users).
struct Timer(Option<std::cell::Cell<std::time::Instant>>);

impl Timer {
    fn start() -> Timer {
        Timer(
            std::env::var_os("CONNLINT_TIMINGS")
                .map(|_| std::cell::Cell::new(std::time::Instant::now())),
        )
    }
    fn lap(&self, what: &str) {
        if let Some(t) = &self.0 {
            eprintln!("connlint: {what}: {:.3} s", t.get().elapsed().as_secs_f64());
            t.set(std::time::Instant::now());
        }
    }
}
