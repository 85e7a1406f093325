//! The speed and memory harness: how long `connlint check` takes, and how much memory it needs,
//! against the raw cost of parsing the same files with `syn::parse_file` in parallel.
//!
//! ```text
//! cargo run --release --example bench -- [OPTIONS] TREE [TREE...]
//! cargo run --release --example bench -- [OPTIONS] --scale LINES
//!
//!   --runs N       timed runs of each measurement (median reported; default 5)
//!   --callgrind    also count instructions with `valgrind --tool=callgrind` (one run each)
//!   --scale LINES  generate a workspace of at least LINES lines (copies of the fixtures and
//!                  the demo backend, every item renamed per copy) under
//!                  target/bench-scale/, and measure that
//! ```
//!
//! Each measurement runs as a child process of this binary, so its peak memory is its own
//! (`getrusage` of the child) and both sides pay the same process start, walk and read:
//!
//! * `parse`: walk and read the files as `connlint check` does, then `syn::parse_file` every
//!   file on a rayon pool shaped like the engine's (one thread per core, large stacks), dropping
//!   each tree: the like-for-like baseline;
//! * `check`: walk, read, then `connlint::engine::check` with every rule on (prefilter, parse
//!   and lowering, crate index, flow, rules, sorting).
//!
//! "work" is the time of the measured part alone, reported by the child. Last, one file of
//! 1,000 lines (fixtures put together) is checked in process (best of 20) and as a whole
//! `check` process.

mod measure;
mod scale;

use measure::{Child, Measure};
use std::path::PathBuf;

const STACK_SIZE: usize = 256 << 20;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The work runs on a thread with the engine's stack size, so that a deeply nested file
    // cannot overflow the parse baseline either.
    let worker = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || run(&args))
        .expect("the benchmark thread starts");
    std::process::exit(worker.join().expect("the benchmark does not panic"));
}

struct Options {
    runs: usize,
    callgrind: bool,
    scale: Option<usize>,
    trees: Vec<PathBuf>,
}

fn run(args: &[String]) -> i32 {
    if args.first().map(String::as_str) == Some("--child") {
        return measure::child(&args[1..]);
    }
    let opts = match parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}\nusage: cargo run --release --example bench -- [--runs N] [--callgrind] (--scale LINES | TREE...)");
            return 2;
        }
    };
    let mut trees = opts.trees.clone();
    if let Some(lines) = opts.scale {
        match scale::workspace(lines) {
            Ok(dir) => trees.push(dir),
            Err(e) => {
                eprintln!("error: cannot generate the workspace: {e}");
                return 2;
            }
        }
    }
    let stats = match measure::tree_stats(&trees) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("trees:     {}", join(&trees));
    println!(
        "files:     {} .rs files, {} lines, {:.1} MB of Rust",
        stats.files,
        stats.lines,
        stats.bytes as f64 / 1e6
    );
    println!(
        "machine:   {threads} threads available; {} runs of each, median reported",
        opts.runs
    );
    println!();

    let parse = Measure::run(Child::Parse, &trees, opts.runs, opts.callgrind);
    let check = Measure::run(Child::Check, &trees, opts.runs, opts.callgrind);
    println!(
        "{:<22} {:>10} {:>10} {:>12} {:>14}",
        "", "wall", "work", "peak RSS", "instructions"
    );
    for (name, m) in [
        ("parse (syn, parallel)", &parse),
        ("check (all rules)", &check),
    ] {
        println!(
            "{name:<22} {:>8.3} s {:>8.3} s {:>9.1} MB {:>14}",
            m.wall,
            m.work,
            m.rss_mb,
            m.instructions_text()
        );
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    println!(
        "{:<22} {:>10.2} {:>10.2} {:>12} {:>14}",
        "ratio check / parse",
        ratio(check.wall, parse.wall),
        ratio(check.work, parse.work),
        format!("{:.2}x src", check.rss_mb * 1e6 / stats.bytes as f64),
        match (check.instructions, parse.instructions) {
            (Some(c), Some(p)) => format!("{:.2}", c as f64 / p as f64),
            _ => "-".into(),
        }
    );
    println!();
    let (in_process, whole) = measure::one_file(opts.runs);
    println!(
        "one 1,000-line file:   {:.1} ms in process (best of 20), {:.1} ms as a whole `check` process (median)",
        in_process * 1e3,
        whole * 1e3
    );
    0
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut opts = Options {
        runs: 5,
        callgrind: false,
        scale: None,
        trees: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                opts.runs = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--runs takes a positive number")?
            }
            "--callgrind" => opts.callgrind = true,
            "--scale" => {
                opts.scale = Some(
                    it.next()
                        .and_then(|n| n.replace('_', "").parse().ok())
                        .ok_or("--scale takes a number of lines")?,
                )
            }
            s if s.starts_with('-') => return Err(format!("unknown option `{s}`")),
            tree => opts.trees.push(PathBuf::from(tree)),
        }
    }
    if opts.trees.is_empty() && opts.scale.is_none() {
        return Err("no tree to measure".into());
    }
    Ok(opts)
}

fn join(roots: &[PathBuf]) -> String {
    roots
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}
