//! Measurements as child processes: wall time, the child's own report of its work, peak
//! memory from `getrusage`, and instructions under callgrind.

use connlint::engine::{self, Input};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(Clone, Copy)]
pub enum Child {
    Parse,
    Check,
}

impl Child {
    fn arg(self) -> &'static str {
        match self {
            Child::Parse => "parse",
            Child::Check => "check",
        }
    }
}

/// One measurement: medians over the runs, peak memory the largest seen.
pub struct Measure {
    pub wall: f64,
    pub work: f64,
    pub rss_mb: f64,
    pub instructions: Option<u64>,
}

impl Measure {
    pub fn run(what: Child, trees: &[PathBuf], runs: usize, callgrind: bool) -> Measure {
        let mut walls = Vec::new();
        let mut works = Vec::new();
        let mut rss: f64 = 0.0;
        for _ in 0..runs {
            let r = spawn(what, trees);
            walls.push(r.wall);
            works.push(r.work);
            rss = rss.max(r.rss_mb);
        }
        Measure {
            wall: median(&mut walls),
            work: median(&mut works),
            rss_mb: rss,
            instructions: callgrind.then(|| instructions(what, trees)).flatten(),
        }
    }

    pub fn instructions_text(&self) -> String {
        match self.instructions {
            Some(n) => format!("{:.3} G", n as f64 / 1e9),
            None => "-".into(),
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

struct Run {
    wall: f64,
    work: f64,
    rss_mb: f64,
}

fn child_command(what: Child, trees: &[PathBuf]) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("the benchmark knows its path"));
    c.arg("--child").arg(what.arg()).args(trees);
    c
}

/// Runs the child once: its wall time, its own report of its work, its peak memory.
fn spawn(what: Child, trees: &[PathBuf]) -> Run {
    let started = Instant::now();
    let child = child_command(what, trees)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the child starts");
    let (stdout, rss_mb) = wait_with_rss(child);
    let wall = started.elapsed().as_secs_f64();
    let work = stdout
        .lines()
        .find_map(|l| l.strip_prefix("work ")?.trim().parse().ok())
        .unwrap_or(f64::NAN);
    Run { wall, work, rss_mb }
}

/// Waits for a child and reads its peak resident memory (`ru_maxrss`, in kB on Linux).
#[cfg(unix)]
fn wait_with_rss(mut child: std::process::Child) -> (String, f64) {
    use std::io::Read;
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills; the pid is our own child, reaped here
    // exactly once (the `Child` handle is never waited on).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let rss = if reaped == pid {
        usage.ru_maxrss as f64 / 1024.0
    } else {
        f64::NAN
    };
    (out, rss)
}

#[cfg(not(unix))]
fn wait_with_rss(child: std::process::Child) -> (String, f64) {
    let out = child.wait_with_output().expect("the child runs");
    (String::from_utf8_lossy(&out.stdout).into_owned(), f64::NAN)
}

/// Instructions of one run under callgrind (`None` without valgrind).
fn instructions(what: Child, trees: &[PathBuf]) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .arg("--child")
        .arg(what.arg())
        .args(trees)
        .stdout(Stdio::null())
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines().find_map(|l| {
        let n = l.split("Collected :").nth(1)?;
        n.trim().replace(',', "").parse().ok()
    })
}

/// The work of a child process: walk the trees, then parse or check, reporting the time of
/// what follows the walk (reading included, as `connlint check` reads the files itself).
pub fn child(args: &[String]) -> i32 {
    let Some((what, trees)) = args.split_first() else {
        return 2;
    };
    let trees: Vec<PathBuf> = trees.iter().map(PathBuf::from).collect();
    let files = match connlint::walk::rust_files(&trees) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let started = Instant::now();
    match what.as_str() {
        "parse" => parse_all(&files),
        "check" => {
            let inputs: Vec<Input> = files
                .into_iter()
                .map(|path| Input { path, text: None })
                .collect();
            std::hint::black_box(engine::check(&inputs, &|_| true));
        }
        _ => return 2,
    }
    println!("work {}", started.elapsed().as_secs_f64());
    0
}

/// Reads and parses every file on a pool shaped like the engine's, dropping each tree and
/// clearing proc-macro2's span table after each file, as the engine does.
fn parse_all(files: &[PathBuf]) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(super::STACK_SIZE)
        .build()
        .expect("the worker threads start");
    pool.install(|| {
        files.par_iter().for_each(|p| {
            if let Ok(text) = std::fs::read_to_string(p) {
                std::hint::black_box(syn::parse_file(&text).is_ok());
                proc_macro2::extra::invalidate_current_thread_spans();
            }
        })
    });
}

pub struct TreeStats {
    pub files: usize,
    pub lines: usize,
    pub bytes: usize,
}

pub fn tree_stats(trees: &[PathBuf]) -> Result<TreeStats, String> {
    let files = connlint::walk::rust_files(trees).map_err(|e| e.to_string())?;
    let mut stats = TreeStats {
        files: files.len(),
        lines: 0,
        bytes: 0,
    };
    for f in &files {
        if let Ok(b) = std::fs::read(f) {
            stats.bytes += b.len();
            stats.lines += b.iter().filter(|&&c| c == b'\n').count();
        }
    }
    Ok(stats)
}

/// One file of 1,000 lines (fixtures put together), checked in process (best of 20) and as a
/// whole `check` process (median of `runs`): the editor-on-save case.
pub fn one_file(runs: usize) -> (f64, f64) {
    let text = thousand_lines();
    let dir = std::env::temp_dir().join(format!("connlint-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("one_file.rs");
    std::fs::write(&path, &text).expect("the temp file is written");
    let input = [Input {
        path: path.clone(),
        text: Some(text),
    }];
    let best = (0..20)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(engine::check(&input, &|_| true));
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    let mut walls: Vec<f64> = (0..runs)
        .map(|_| spawn(Child::Check, std::slice::from_ref(&path)).wall)
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    (best, median(&mut walls))
}

/// Whole fixture files, one after the other, until there are 1,000 lines.
fn thousand_lines() -> String {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files = connlint::walk::rust_files(&[fixtures]).unwrap_or_default();
    files.sort();
    let mut text = String::new();
    for f in files {
        if text.lines().count() >= 1000 {
            break;
        }
        if let Ok(t) = std::fs::read_to_string(f) {
            text.push_str(&t);
            text.push('\n');
        }
    }
    text
}
