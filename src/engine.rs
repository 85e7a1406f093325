//! The pipeline: read → prefilter → parse and lower (in parallel, one parse per file) →
//! crate index → flow → rules → sorted findings.
//!
//! Each file that passes the prefilter is parsed and lowered to its compact model at once, and
//! its syntax tree is dropped before the next file is parsed, so memory holds the models, not
//! the trees. Files that name only crate-local wrappers and helpers are lowered in a second
//! round, once the first round's items are indexed. Everything after lowering reads models.

use crate::diagnostic::{Finding, Label, Severity, Span, PARSE_ERROR};
use crate::flow::{self, Acquirers, Body, Summary};
use crate::index::{CrateIndex, FileFacts, FileId, Layout};
use crate::lower::lower_file;
use crate::model::FileModel;
use crate::profile::Knowledge;
use crate::rules::{self, FileCx, Phase};
use crate::source::SourceFile;
use aho_corasick::AhoCorasick;
use rayon::prelude::*;
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
    /// The text (and regions) of every file with a finding, for snippets and baselines.
    pub sources: HashMap<PathBuf, SourceFile>,
    pub files_checked: usize,
    pub files_parsed: usize,
    /// Every pool the code builds (for `connlint pools`), in file order.
    pub pools: Vec<crate::pools::PoolEntry>,
}

/// Deeper bracket nesting than this is reported instead of parsed: no real code nests so deep,
/// and it keeps a hostile file from overflowing the stack.
const MAX_NESTING: usize = 1_000;
const STACK_SIZE: usize = 256 << 20;

/// A file lowered to its model. Its text is gone: the flow reads it again if it needs macro
/// arguments, the report if it has findings.
struct Lowered {
    id: FileId,
    model: FileModel,
}

/// A file after the flow and the file-phase rules: what the crate-wide rules still need.
struct Analysed {
    id: FileId,
    path: PathBuf,
    /// Only its names and regions are left.
    model: FileModel,
    /// With only the events the crate-wide rules read.
    bodies: Result<Vec<Body>, Finding>,
    summaries: Vec<Summary>,
    pools: Vec<crate::pools::PoolEntry>,
    /// What the file-phase rules found.
    found: Vec<Finding>,
}

/// A file after the rules: its findings, and its regions when it has any.
struct Checked {
    id: FileId,
    found: Vec<Finding>,
    regions: Vec<crate::model::Region>,
    pools: Vec<crate::pools::PoolEntry>,
}

/// What reading and lowering one file gave.
enum Read {
    Lowered(Box<Lowered>),
    /// Read, but named nothing the prefilter looks for (yet).
    Pending(FileId, SourceFile),
    Failed(Finding),
}

/// What a run knows and which rules it runs.
pub struct Settings<'a> {
    /// The built-in profiles, plus whatever the user's configuration declares.
    pub knowledge: &'static Knowledge,
    pub enabled: &'a (dyn Fn(&str) -> bool + Sync),
    /// Manual acquire/release pairs from configuration, for `release-skipped`.
    pub release: &'a [crate::profile::ReleasePair],
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
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, inputs.len().max(1));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(STACK_SIZE)
        .thread_name(|i| format!("connlint-{i}"))
        .build()
        .expect("the worker threads start");
    pool.install(|| run(inputs, settings))
}

fn run(inputs: &[Input], settings: &Settings<'_>) -> Outcome {
    let knowledge = settings.knowledge;
    // Files that name a configured manual acquire call matter too.
    let mut words = knowledge.vocabulary();
    words.extend(settings.release.iter().map(|r| last_segment(&r.acquire)));
    // A crate-local `macro_rules!` may be what acquires (`with_connection!`): its definition
    // must be indexed before the files that call it are looked at.
    words.push("macro_rules".to_string());
    let vocabulary = AhoCorasick::new(words).expect("vocabulary builds");
    let timer = Timer::start();

    // 1. Read every file; lower those that mention a database crate or type.
    // One file per task: a few large files must not end up queued behind each other.
    let first: Vec<Read> = (0..inputs.len())
        .into_par_iter()
        .with_max_len(1)
        .map(|id| match read(&inputs[id]) {
            Err(f) => Read::Failed(*f),
            Ok(source) if mentions(&vocabulary, &source.text) => lower(id, source),
            Ok(source) => Read::Pending(id, source),
        })
        .collect();
    let mut findings = Vec::new();
    let mut files: Vec<Lowered> = Vec::new();
    let mut pending = Vec::new();
    for r in first {
        match r {
            Read::Lowered(l) => files.push(*l),
            Read::Pending(id, s) => pending.push((id, s)),
            Read::Failed(f) => findings.push(f),
        }
    }
    timer.lap("read+prefilter+lower");

    // 2. The crate index of those files tells which crate-local names lead to connections;
    //    files that mention such names are lowered too and added to the index, round after
    //    round: a file lowered now may define a wrapper (`LemmyContext` holding the alias
    //    `ActualDbPool`) that only files not lowered yet name.
    let facts = |files: &[Lowered]| -> Vec<(FileId, FileFacts)> {
        files
            .par_iter()
            .map(|f| (f.id, FileFacts::of(&f.model)))
            .collect()
    };
    let paths: Vec<&std::path::Path> = inputs.iter().map(|i| i.path.as_path()).collect();
    let mut index = CrateIndex::new(knowledge, Layout::of(&paths), inputs.len());
    let mut indexed = 0;
    // Largest first, so no large file is left for the end.
    pending.sort_by_key(|(_, source)| std::cmp::Reverse(source.text.len()));
    loop {
        for (id, f) in facts(&files[indexed..]) {
            index.add(id, f);
        }
        indexed = files.len();
        index.finish();
        let mut words = index.prefilter_vocabulary();
        // Files that define the constants pool options may be set from (`const MAX_CONNECTIONS`).
        words.extend(index.const_definition_words());
        let Ok(local) = AhoCorasick::new(&words) else {
            break;
        };
        let (named, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut pending)
            .into_par_iter()
            .partition(|(_, source)| !words.is_empty() && mentions(&local, &source.text));
        pending = rest;
        if named.is_empty() {
            break;
        }
        let lowered: Vec<Read> = named
            .into_par_iter()
            .with_max_len(1)
            .map(|(id, source)| lower(id, source))
            .collect();
        for r in lowered {
            match r {
                Read::Lowered(l) => files.push(*l),
                Read::Failed(f) => findings.push(f),
                Read::Pending(..) => {}
            }
        }
        timer.lap("prefilter+lower (next round)");
    }
    drop(pending);
    timer.lap("index");

    // 3. The flow of every body, and what each function does for the crate-wide picture.
    index.set_release_pairs(settings.release.to_vec());
    // Bodies that name nothing connection-related get only a light pass (their calls).
    let mut hot = index.hot_words();
    hot.extend(
        settings
            .release
            .iter()
            .flat_map(|r| [&r.acquire, &r.release])
            .map(|n| last_segment(n)),
    );
    // A call of a crate-local macro is as hot as what the macro's rules mention.
    if let Ok(words) = AhoCorasick::new(&hot) {
        let macros = index.macros_mentioning(&words);
        hot.extend(macros);
    }
    index.set_hot_words(hot);
    timer.lap("hot words");
    // The file-phase rules run as soon as a file's bodies are walked; the file then keeps only
    // its names, regions and the events the crate-wide rules read.
    let no_crate_facts = Acquirers::default();
    let mut analysed: Vec<Analysed> = files
        .into_par_iter()
        .map(|file| {
            let Lowered { id, mut model } = file;
            let path = inputs[id].path.clone();
            let text = || read(&inputs[id]).ok();
            let walked = catch_unwind(AssertUnwindSafe(|| {
                let mut bodies = flow::analyse_file(&index, id, &model, Some(&text));
                let pos = |s| crate::diagnostic::Span::from_model(s).start;
                let summaries = bodies
                    .iter()
                    .map(|b| Summary::of(b, &path, pos, &index))
                    .collect();
                let pools = crate::pools::inventory(knowledge, &path, &bodies);
                let mut cx = FileCx::new(&index, &no_crate_facts, id, &path, &model, &bodies);
                cx.timeouts = settings.timeouts;
                rules::run(&mut cx, settings.enabled, Phase::File);
                let found = cx.findings;
                for b in &mut bodies {
                    b.events.retain(rules::crate_events);
                    b.events.shrink_to_fit();
                }
                (bodies, summaries, pools, found)
            }));
            model.keep_names();
            match walked {
                Ok((bodies, summaries, pools, found)) => Analysed {
                    id,
                    path,
                    model,
                    bodies: Ok(bodies),
                    summaries,
                    pools,
                    found,
                },
                Err(panic) => Analysed {
                    id,
                    bodies: Err(internal_error(&path, panic)),
                    path,
                    model,
                    summaries: Vec::new(),
                    pools: Vec::new(),
                    found: Vec::new(),
                },
            }
        })
        .collect();
    let acquirers = Acquirers::compute(
        analysed
            .iter_mut()
            .flat_map(|a| std::mem::take(&mut a.summaries))
            .collect(),
        &index,
    );
    timer.lap("flow+file rules");

    // 4. The crate-wide rules.
    let files_parsed = analysed.len();
    let checked: Vec<Checked> = analysed
        .into_par_iter()
        .map(|file| {
            let mut found = file.found;
            match &file.bodies {
                Err(failure) => found.push(failure.clone()),
                Ok(bodies) => found.extend(
                    catch_unwind(AssertUnwindSafe(|| {
                        let mut cx = FileCx::new(
                            &index,
                            &acquirers,
                            file.id,
                            &file.path,
                            &file.model,
                            bodies,
                        );
                        cx.timeouts = settings.timeouts;
                        rules::run(&mut cx, settings.enabled, Phase::Crate);
                        cx.findings
                    }))
                    .unwrap_or_else(|panic| vec![internal_error(&file.path, panic)]),
                ),
            }
            let regions = if found.is_empty() {
                Vec::new()
            } else {
                file.model.regions
            };
            Checked {
                id: file.id,
                found,
                regions,
                pools: file.pools,
            }
        })
        .collect();
    timer.lap("rules");

    // Files with findings are read again, for their snippets, byte offsets and regions.
    let mut sources = HashMap::new();
    let mut pools = Vec::new();
    for c in checked {
        pools.extend(c.pools);
        if c.found.is_empty() {
            continue;
        }
        let mut found = c.found;
        if let Ok(mut src) = read(&inputs[c.id]) {
            for f in &mut found {
                src.fill_bytes(f);
            }
            src.regions = c.regions;
            sources.insert(src.path.clone(), src);
        }
        findings.extend(found);
    }
    timer.note(&format!("{files_parsed} of {} files parsed", inputs.len()));
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
    pools.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    findings.dedup();
    Outcome {
        findings,
        sources,
        files_checked: inputs.len(),
        files_parsed,
        pools,
    }
}

fn last_segment(path: &str) -> String {
    path.rsplit("::").next().unwrap_or_default().to_string()
}

/// Parses and lowers one file; a file too deep to parse, or that does not parse, becomes a
/// `parse-error`.
fn lower(id: FileId, source: SourceFile) -> Read {
    if let Some(offset) = too_deep(&source.text) {
        let at = source.byte_span(offset, offset + 1);
        return Read::Failed(file_error(
            &source.path,
            Some(at),
            format!("nesting deeper than {MAX_NESTING} levels; file skipped"),
        ));
    }
    match catch_unwind(AssertUnwindSafe(|| lower_file(&source.path, &source.text))) {
        Ok(Ok(model)) => Read::Lowered(Box::new(Lowered { id, model })),
        Ok(Err(e)) => {
            let at = source.model_span(e.at);
            Read::Failed(file_error(
                &source.path,
                Some(at),
                format!("could not parse: {}", e.message),
            ))
        }
        Err(panic) => Read::Failed(internal_error(&source.path, panic)),
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

/// Does `text` name one of the `words` as a whole word? A match inside a longer identifier
/// (`bb8` in `0x1bb8f`, `PoolBuilder` in `ThreadPoolBuilder`, `Monitor` in `Monitoring`) does
/// not count; `bb8::Pool`, `(PgPool)`, `sqlx::query` do. Every match is looked at, overlapping
/// ones included, so a rejected match cannot hide a good one. `words` must use
/// `MatchKind::Standard`, the default.
fn mentions(words: &AhoCorasick, text: &str) -> bool {
    crate::index::mentions_word(words, text)
}

/// The offset where bracket nesting first exceeds the limit, if it does. Brackets inside string,
/// byte, C and raw string literals, char and byte literals, and line and (nested) block comments
/// are not code and do not count. An unterminated literal or comment ends the scan: syn reports it.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let ident = |i: usize| bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_';
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut nested = 1;
                i += 2;
                while nested > 0 {
                    match bytes.get(i..i + 2)? {
                        b"/*" => (nested, i) = (nested + 1, i + 2),
                        b"*/" => (nested, i) = (nested - 1, i + 2),
                        _ => i += 1,
                    }
                }
                continue;
            }
            // `"…"`, and the same after a `b` or `c` prefix.
            b'"' => i = string_end(bytes, i + 1)?,
            // `r"…"`, `r#"…"#`, `br##"…"##`, `cr"…"`; not `r#ident`, not the `r` ending `bar`.
            b'r' if (i == 0 || !ident(i - 1))
                || (matches!(bytes[i - 1], b'b' | b'c') && (i == 1 || !ident(i - 2))) =>
            {
                let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
                if bytes.get(i + 1 + hashes) == Some(&b'"') {
                    let start = i + 2 + hashes;
                    let close = |at: &usize| {
                        bytes[at + 1..].len() >= hashes
                            && bytes[at + 1..at + 1 + hashes].iter().all(|&b| b == b'#')
                    };
                    let end = memchr::memchr_iter(b'"', &bytes[start..])
                        .map(|n| start + n)
                        .find(close)?;
                    i = end + hashes;
                }
            }
            // `'x'`, `'\''`, `'\u{28}'`, `b'('`; a lifetime or label (`'a`) has no closing quote
            // after its first character.
            b'\'' => {
                let next = text[i + 1..].chars().next()?;
                if next == '\\' {
                    let end = memchr::memchr(b'\'', bytes.get(i + 3..)?)?;
                    i += 3 + end;
                } else if bytes.get(i + 1 + next.len_utf8()) == Some(&b'\'') {
                    i += 1 + next.len_utf8();
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset of the `"` closing a string whose text starts at `from`, skipping `\` escapes.
fn string_end(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = from + memchr::memchr2(b'"', b'\\', bytes.get(from..)?)?;
        if bytes[at] == b'"' {
            return Some(at);
        }
        from = at + 2;
    }
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

fn internal_error(path: &std::path::Path, panic: Box<dyn std::any::Any + Send>) -> Finding {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    file_error(
        path,
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
    fn note(&self, what: &str) {
        if self.0.is_some() {
            eprintln!("connlint: {what}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{check, mentions, too_deep, Input, MAX_NESTING};
    use crate::profile::Knowledge;

    fn open(n: usize) -> String {
        "(".repeat(n)
    }

    fn vocabulary() -> aho_corasick::AhoCorasick {
        aho_corasick::AhoCorasick::new(Knowledge::builtin().vocabulary()).unwrap()
    }

    #[test]
    fn the_prefilter_wants_whole_words() {
        let words = vocabulary();
        for text in [
            "use bb8::Pool;",
            "bb8",
            "let pool: sqlx::PgPool = todo!();",
            "fn f(p: &PgPool) {}",
            "type P = deadpool_postgres::Pool;",
            "let x = ThreadPoolBuilder::new(); let y: r2d2::Pool<M>;",
            "x.0x1bb8 bb8::Pool",
        ] {
            assert!(mentions(&words, text), "{text}");
        }
        for text in [
            "const X: u32 = 0x1bb8f; const Y: u32 = 0xbb8;",
            "rayon::ThreadPoolBuilder::new().build()",
            "struct Monitoring; fn sqlx_like() {} let my_sqlx = 1;",
            "let PgPoolish = 1; let xPgPool = 2;",
            "",
        ] {
            assert!(!mentions(&words, text), "{text}");
        }
    }

    #[test]
    fn the_prefilter_finds_a_whole_word_behind_an_overlapping_one() {
        let words = aho_corasick::AhoCorasick::new(["Pool", "PoolBuilder", "olB"]).unwrap();
        assert!(mentions(&words, "PoolBuilderX Pool"));
        assert!(mentions(&words, "PoolBuilder"));
        assert!(mentions(&words, "(olB)"));
        assert!(!mentions(&words, "PoolBuilderX PoolX"));
    }

    #[test]
    fn files_naming_a_database_word_only_inside_longer_words_are_not_parsed() {
        let input = |path: &str, text: &str| Input {
            path: path.into(),
            text: Some(text.into()),
        };
        let outcome = check(
            &[
                input(
                    "src/threads.rs",
                    "pub fn pool() -> rayon::ThreadPool {\n    \
                     rayon::ThreadPoolBuilder::new().build().unwrap()\n}\n\
                     pub const KEY: u32 = 0x1bb8;\npub struct Monitoring;\n",
                ),
                input("src/db.rs", "use bb8::Pool;\n"),
                input("src/q.rs", "fn f() { sqlx::query(\"SELECT 1\"); }\n"),
            ],
            &|_| true,
        );
        assert_eq!(outcome.files_parsed, 2);
    }

    #[test]
    fn too_deep_counts_real_brackets() {
        let text = format!("fn f() {{ let x = {}; }}", open(MAX_NESTING));
        // `{` of the body is level 1, so the 1000th `(` is level 1001.
        let at = text.find("= (").unwrap() + 2 + MAX_NESTING - 1;
        assert_eq!(too_deep(&text), Some(at));
        assert_eq!(too_deep(&format!("[{}]", "()".repeat(5000))), None);
        assert_eq!(too_deep("fn f() -> ((), [u8; 2]) { ((), [1, 2]) }"), None);
    }

    #[test]
    fn too_deep_skips_strings_chars_and_comments() {
        let deep = open(MAX_NESTING + 1);
        let cases = [
            format!(r#"const OPEN: &str = "{deep}";"#),
            format!(r#"const OPEN: &str = "\"\\{deep}\"";"#),
            format!(r#"const OPEN: &[u8] = b"{deep}";"#),
            format!(r#"const OPEN: &core::ffi::CStr = c"{deep}";"#),
            format!(r#"const OPEN: &str = r"{deep}\";"#),
            format!(r##"const OPEN: &str = r#"" {deep} "#;"##),
            format!(r###"const OPEN: &str = r##" "# {deep} "##;"###),
            format!(r###"const OPEN: &[u8] = br##" "# {deep} "##;"###),
            format!(r##"const OPEN: &core::ffi::CStr = cr#"{deep}"#;"##),
            format!(
                "const OPEN: [char; {n}] = [{}];",
                "'(', ".repeat(MAX_NESTING + 1),
                n = MAX_NESTING + 1
            ),
            format!(
                "const OPEN: [u8; {n}] = [{}];",
                "b'(', ".repeat(MAX_NESTING + 1),
                n = MAX_NESTING + 1
            ),
            format!(r"const Q: [char; 3] = ['\'', '\\', '\u{{28}}']; const S: &str = {deep:?};"),
            format!("const E: char = 'é'; // {deep}\nfn f() {{}}"),
            format!("/* {deep} */ fn f() {{}}"),
            format!("/* outer /* inner */ still a comment {deep} */ fn f() {{}}"),
            format!("/// {deep}\nfn f() {{}}\n//! {deep}"),
        ];
        for text in &cases {
            assert_eq!(too_deep(text), None, "{text:.120}");
        }
    }

    #[test]
    fn too_deep_lifetimes_and_raw_identifiers_do_not_hide_brackets() {
        // A lifetime is not a char literal: the brackets after it still count.
        let after_lifetime = format!(
            "fn f<'a>(x: &'a str) -> &'a str {{ {} }}",
            open(MAX_NESTING)
        );
        assert!(too_deep(&after_lifetime).is_some());
        let labelled = format!("fn f() {{ 'outer: loop {{ {} }} }}", open(MAX_NESTING));
        assert!(too_deep(&labelled).is_some());
        // `r#type` is a raw identifier, not a raw string.
        let raw_ident = format!("fn f(r#type: u8) {{ {} }}", open(MAX_NESTING));
        assert!(too_deep(&raw_ident).is_some());
        // A string ends where it ends.
        let after_string = format!(r#"fn f() {{ let s = "a\"b"; {} }}"#, open(MAX_NESTING));
        assert!(too_deep(&after_string).is_some());
        let after_raw = format!(r##"fn f() {{ let s = r#"a"b"#; {} }}"##, open(MAX_NESTING));
        assert!(too_deep(&after_raw).is_some());
        let after_comment = format!("fn f() {{ /* a /* b */ c */ {} }}", open(MAX_NESTING));
        assert!(too_deep(&after_comment).is_some());
        // Unterminated literals and comments end the scan quietly (syn reports them).
        for text in ["\"((", "r#\"((\"", "/* /* */ ((", "'", "b'", "r##"] {
            assert_eq!(too_deep(text), None, "{text}");
        }
    }

    #[test]
    fn brackets_in_a_string_do_not_hide_a_leak_later_in_the_file() {
        let text = format!(
            "const OPEN: &str = \"{}1001\";\n\n\
             async fn h(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {{\n    \
             let conn = pool.acquire().await?;\n    \
             std::mem::forget(conn);\n    \
             Ok(())\n\
             }}\n",
            open(MAX_NESTING + 1)
        );
        let outcome = check(
            &[Input {
                path: "src/open.rs".into(),
                text: Some(text),
            }],
            &|_| true,
        );
        let rules: Vec<_> = outcome.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["forgotten-connection"], "{:?}", outcome.findings);
    }
}
