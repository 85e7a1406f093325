//! The speed harness: how long `connlint check` takes compared with the raw cost of parsing the
//! same files with syn.
//!
//! ```text
//! cargo run --release --example bench -- TREE [TREE...]
//! ```
//!
//! Files are collected as `connlint check` collects them (`connlint::walk::rust_files`) and read
//! into memory once, so no timing below includes disk I/O. Then, each repeated 3 times, best
//! run kept:
//!
//! * `parse, 1 thread`: `syn::parse_file` of every UTF-8 file, one after the other;
//! * `parse, N threads`: the same on a rayon pool shaped like the engine's (one thread per
//!   core, large stacks): the like-for-like baseline, since the engine parses in parallel;
//! * `check`: a full `connlint::engine::check` of the same in-memory texts with every rule on:
//!   prefilter, parse of the files that pass it, crate index, flow, rules, sorting;
//! * `flow, 1 thread`: the flow analysis alone (`connlint::flow::analyse_file`), on one thread,
//!   over trees parsed beforehand, compared with `parse, 1 thread` of the same files.
//!
//! In every case the syntax trees are dropped and proc-macro2's span table is cleared the way
//! the engine does it, so both sides pay the same costs.

use connlint::engine::{self, Input};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

// The same allocator as the connlint binary, for parse and check alike.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 3;
const STACK_SIZE: usize = 256 << 20;

fn main() {
    let roots: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if roots.is_empty() {
        eprintln!("usage: cargo run --release --example bench -- TREE [TREE...]");
        std::process::exit(2);
    }
    // The whole benchmark runs on a thread with the engine's stack size, so that a deeply
    // nested file cannot overflow the single-threaded parse either.
    let worker = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || bench(&roots))
        .expect("the benchmark thread starts");
    std::process::exit(worker.join().expect("the benchmark does not panic"));
}

fn bench(roots: &[PathBuf]) -> i32 {
    let started = Instant::now();
    let files = match connlint::walk::rust_files(roots) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut inputs = Vec::with_capacity(files.len());
    let mut texts: Vec<&str> = Vec::new();
    let (mut bytes, mut lines, mut not_utf8, mut unreadable) = (0usize, 0usize, 0usize, 0usize);
    for path in files {
        match std::fs::read(&path) {
            Ok(raw) => {
                bytes += raw.len();
                lines += raw.iter().filter(|&&b| b == b'\n').count();
                let text = String::from_utf8(raw).ok();
                not_utf8 += usize::from(text.is_none());
                inputs.push(Input { path, text });
            }
            Err(_) => {
                unreadable += 1;
                inputs.push(Input { path, text: None });
            }
        }
    }
    texts.extend(inputs.iter().filter_map(|i| i.text.as_deref()));
    let walk_read = started.elapsed();

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("trees:     {}", join(roots));
    println!(
        "files:     {} .rs files, {} lines, {:.1} MB ({} not UTF-8, {} unreadable)",
        inputs.len(),
        lines,
        bytes as f64 / 1e6,
        not_utf8,
        unreadable
    );
    println!(
        "machine:   {} threads available; {} runs each, best kept",
        threads, RUNS
    );
    println!(
        "walk+read: {:.3} s (not included below)",
        walk_read.as_secs_f64()
    );
    println!();

    // One measurement alone (for instruction counts under callgrind): parse or check, once.
    match std::env::var("CONNLINT_BENCH_ONLY").as_deref() {
        Ok("parse") => {
            let n = texts.iter().filter(|t| parses(t)).count();
            println!("parsed {n}");
            return 0;
        }
        Ok("check") => {
            let o = engine::check(&inputs, &|_| true);
            println!("findings {}", o.findings.len());
            return 0;
        }
        _ => {}
    }

    // (a) The raw parse cost.
    let mut failures = 0;
    let parse_1 = best(|| {
        failures = texts.iter().filter(|t| !parses(t)).count();
        proc_macro2::extra::invalidate_current_thread_spans();
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(STACK_SIZE)
        .build()
        .expect("the worker threads start");
    let parse_n = best(|| {
        pool.install(|| {
            texts.par_iter().for_each(|t| {
                parses(t);
            })
        });
        pool.broadcast(|_| proc_macro2::extra::invalidate_current_thread_spans());
    });

    // (c) The flow analysis alone, over the same trees parsed beforehand (one thread).
    let flow_1 = flow_only(&texts);

    // (b) The whole check, every rule on.
    let mut outcome = None;
    let check = best(|| outcome = Some(engine::check(&inputs, &|_| true)));
    let outcome = outcome.expect("checked at least once");
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &outcome.findings {
        *per_rule.entry(f.rule).or_default() += 1;
    }

    let row = |what: &str, d: Duration, files: usize| {
        println!(
            "{what:<22} {:>8.3} s  {:>8.0} files/s  {:>6.1} MB/s",
            d.as_secs_f64(),
            files as f64 / d.as_secs_f64(),
            bytes as f64 / 1e6 / d.as_secs_f64()
        );
    };
    row("parse, 1 thread", parse_1, texts.len());
    row(&format!("parse, {threads} threads"), parse_n, texts.len());
    row("check (all rules)", check, inputs.len());
    row("flow, 1 thread", flow_1, texts.len());
    println!();
    println!(
        "syn parse failures:    {} of {} UTF-8 files",
        failures,
        texts.len()
    );
    println!(
        "prefilter:             {} of {} files parsed by check ({:.1}%)",
        outcome.files_parsed,
        outcome.files_checked,
        100.0 * outcome.files_parsed as f64 / outcome.files_checked.max(1) as f64
    );
    println!(
        "findings:              {}{}",
        outcome.findings.len(),
        if per_rule.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                per_rule
                    .iter()
                    .map(|(r, n)| format!("{r}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    println!(
        "ratio flow / parse:    {:.2} (flow analysis alone vs parse, both on 1 thread)",
        flow_1.as_secs_f64() / parse_1.as_secs_f64()
    );
    println!(
        "ratio check / parse:   {:.2} (vs {} threads), {:.2} (vs 1 thread)",
        check.as_secs_f64() / parse_n.as_secs_f64(),
        threads,
        check.as_secs_f64() / parse_1.as_secs_f64()
    );
    0
}

/// The flow analysis of every file, timed alone: files are lowered and indexed first.
fn flow_only(texts: &[&str]) -> Duration {
    let path = std::path::Path::new("src/bench.rs");
    let lowered: Vec<(connlint::source::SourceFile, connlint::model::FileModel)> = texts
        .iter()
        .filter_map(|t| {
            let m = connlint::lower::lower_file(path, t).ok()?;
            Some((
                connlint::source::SourceFile::new(path.into(), t.to_string()),
                m,
            ))
        })
        .collect();
    let facts = lowered
        .iter()
        .enumerate()
        .map(|(i, (_, m))| connlint::index::FileFacts::of(i, m))
        .collect();
    let mut index =
        connlint::index::CrateIndex::build(connlint::profile::Knowledge::builtin(), facts);
    // As in the engine: functions that name nothing connection-related get the light pass.
    let hot = index.hot_words();
    index.set_hot_words(hot);
    best(|| {
        for (i, (text, m)) in lowered.iter().enumerate() {
            std::hint::black_box(connlint::flow::analyse_file(&index, i, m, Some(text)));
        }
    })
}

/// Parses one file and drops the tree; true if syn accepted it.
fn parses(text: &str) -> bool {
    syn::parse_file(text).is_ok()
}

/// The fastest of `RUNS` runs of `f`.
fn best(mut f: impl FnMut()) -> Duration {
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .expect("RUNS > 0")
}

fn join(roots: &[PathBuf]) -> String {
    roots
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}
