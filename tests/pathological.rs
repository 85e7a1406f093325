//! Pathological inputs, through the command line as a user meets them: each gives a diagnostic
//! or a clean result, the run goes on (a leak in an ordinary file next to it is still found),
//! and nothing hangs (every run has a timeout). Big inputs are generated in a temporary
//! directory. Each test prints its time; the largest are `#[ignore]`d in debug builds and
//! measured in release (`cargo test --release --test pathological -- --include-ignored
//! --nocapture`), see README "Robustness and fuzzing".

use assert_cmd::Command;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

/// A hang guard, not a speed test.
const TIMEOUT: Duration = Duration::from_secs(300);

const LEAK: &str = "\
use sqlx::PgPool;

pub async fn lock(pool: &PgPool) -> Result<(), sqlx::Error> {
    let conn = pool.acquire().await?;
    std::mem::forget(conn);
    Ok(())
}
";

/// The finding every run must still report: the leak in `src/leak.rs`.
const LEAK_LINE: &str = "src/leak.rs:5:5: error[forgotten-connection]";

/// A project with `src/leak.rs` and `file` holding `text`.
fn project(file: &str, text: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/leak.rs", LEAK.as_bytes());
    write(dir.path(), file, text);
    dir
}

fn write(root: &Path, rel: &str, text: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// `connlint check --format short .` in `dir`; prints how long it took.
fn check(name: &str, dir: &Path) -> (Output, String) {
    check_as(name, dir, "short")
}

/// `connlint check --format FORMAT .` in `dir`; prints how long it took.
fn check_as(name: &str, dir: &Path, format: &str) -> (Output, String) {
    let started = Instant::now();
    let o = Command::cargo_bin("connlint")
        .unwrap()
        .current_dir(dir)
        .args(["check", "--color", "never", "--format", format, "."])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    println!(
        "pathological: {name}: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("panicked") && !out.contains("internal error"),
        "{name}:\n{out}\n{err}"
    );
    assert!(
        o.status.code().is_some(),
        "{name}: killed (timeout?)\n{err}"
    );
    (o, out)
}

/// The run went on: the ordinary leak is reported and the exit code says so.
fn went_on(name: &str, o: &Output, out: &str) {
    assert!(out.contains(LEAK_LINE), "{name}:\n{out}");
    assert_eq!(o.status.code(), Some(1), "{name}:\n{out}");
}

/// The lines of `out` about `path`.
fn about<'a>(out: &'a str, path: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.starts_with(path)).collect()
}

/// `n` statements of one function that acquires, branches, loops and awaits, then leaks.
fn long_function(n: usize) -> String {
    let mut s = String::with_capacity(n * 48);
    s.push_str(
        "use sqlx::PgPool;\n\npub async fn long(pool: &PgPool) -> Result<i64, sqlx::Error> {\n",
    );
    s.push_str("    let mut conn = pool.acquire().await?;\n    let mut total = 0i64;\n");
    for i in 0..n {
        match i % 4 {
            0 => s.push_str(&format!("    let v{i} = total + {i};\n")),
            1 => s.push_str(&format!(
                "    if total > {i} {{ total -= 1; }} else {{ total += 1; }}\n"
            )),
            2 => s.push_str("    for k in 0..2 { total += k; }\n"),
            _ => s.push_str("    sqlx::query(\"SELECT 1\").execute(&mut *conn).await?;\n"),
        }
    }
    s.push_str("    std::mem::forget(conn);\n    Ok(total)\n}\n");
    s
}

#[test]
fn ten_thousand_nested_blocks_are_a_diagnostic() {
    let text = format!(
        "use sqlx::PgPool;\nfn deep(pool: &PgPool) {}let c = pool.acquire();{}\n",
        "{".repeat(10_000),
        "}".repeat(10_000)
    );
    let dir = project("src/deep.rs", text.as_bytes());
    let (o, out) = check("10,000 nested blocks", dir.path());
    went_on("10,000 nested blocks", &o, &out);
    let deep = about(&out, "src/deep.rs");
    assert_eq!(deep.len(), 1, "{out}");
    assert!(
        deep[0].contains("warning[parse-error]") && deep[0].contains("nesting deeper than"),
        "{out}"
    );
}

#[test]
fn nine_hundred_nested_blocks_are_analysed() {
    // Just below the nesting limit: parsed and followed, the leak at the bottom is found.
    let n = 900;
    let text = format!(
        "use sqlx::PgPool;\nasync fn deep(pool: &PgPool) -> Result<(), sqlx::Error> {{{}\n\
         let conn = pool.acquire().await?;\nstd::mem::forget(conn);\n{} Ok(())\n}}\n",
        "{".repeat(n),
        "}".repeat(n)
    );
    let dir = project("src/deep.rs", text.as_bytes());
    let (o, out) = check("900 nested blocks", dir.path());
    went_on("900 nested blocks", &o, &out);
    let deep = about(&out, "src/deep.rs");
    assert_eq!(deep.len(), 1, "{out}");
    assert!(deep[0].contains("error[forgotten-connection]"), "{out}");
}

#[test]
fn a_function_of_10_000_statements() {
    let dir = project("src/long.rs", long_function(10_000).as_bytes());
    let (o, out) = check("one function of 10,000 statements", dir.path());
    went_on("10,000 statements", &o, &out);
    assert!(
        about(&out, "src/long.rs")
            .iter()
            .any(|l| l.contains("error[forgotten-connection]")),
        "{out}"
    );
}

#[test]
#[ignore = "slow in debug builds (parsing and following 100,000 statements); run in release"]
fn a_function_of_100_000_statements() {
    let dir = project("src/long.rs", long_function(100_000).as_bytes());
    let (o, out) = check("one function of 100,000 statements", dir.path());
    went_on("100,000 statements", &o, &out);
    assert!(
        about(&out, "src/long.rs")
            .iter()
            .any(|l| l.contains("error[forgotten-connection]")),
        "{}",
        &out[..out.len().min(2000)]
    );
}

/// Time of the whole check for functions of 1k, 10k and 100k statements: linear growth means
/// the ratios stay near 10.
#[test]
#[ignore = "a measurement; run in release with --nocapture"]
fn function_size_scaling() {
    let mut times = Vec::new();
    for n in [1_000, 10_000, 100_000] {
        let dir = project("src/long.rs", long_function(n).as_bytes());
        let started = Instant::now();
        let (o, out) = check(&format!("one function of {n} statements"), dir.path());
        times.push(started.elapsed().as_secs_f64());
        went_on("scaling", &o, &out);
    }
    println!(
        "pathological: scaling 1k -> 10k x{:.1}, 10k -> 100k x{:.1}",
        times[1] / times[0],
        times[2] / times[1]
    );
}

/// About 50 MB of ordinary database code: 40,000 functions, each acquiring and leaking.
#[test]
#[ignore = "slow in debug builds (50 MB to parse and follow); run in release"]
fn a_50_mb_file() {
    let mut text = String::from("use sqlx::PgPool;\n\n");
    let mut i = 0;
    while text.len() < 50 << 20 {
        text.push_str(&format!(
            "/// Loads the row {i}, with a long comment to make the file large quickly: {}\n\
             pub async fn load_{i}(pool: &PgPool) -> Result<i64, sqlx::Error> {{\n\
             \x20   let mut conn = pool.acquire().await?;\n\
             \x20   let row: (i64,) = sqlx::query_as(\"SELECT n FROM t WHERE id = $1\")\n\
             \x20       .bind({i}i64)\n\
             \x20       .fetch_one(&mut *conn)\n\
             \x20       .await?;\n\
             \x20   if row.0 > 0 {{ std::mem::forget(conn); }}\n\
             \x20   Ok(row.0)\n\
             }}\n\n",
            "x".repeat(1000)
        ));
        i += 1;
    }
    let dir = project("src/big.rs", text.as_bytes());
    let (o, out) = check("a 50 MB file", dir.path());
    went_on("50 MB", &o, &out);
    assert_eq!(
        about(&out, "src/big.rs").len(),
        i,
        "one finding per function"
    );
    // The reports that show code or fingerprint lines cost no more per finding than the
    // neighbourhood of the finding.
    for format in ["human", "sarif"] {
        let (o, out) = check_as(
            &format!("a 50 MB file, {format} report"),
            dir.path(),
            format,
        );
        assert_eq!(o.status.code(), Some(1));
        assert!(out.len() > i * 100, "{format}");
    }
}

/// 50 MB that names no database vocabulary: read, prefiltered away, never parsed.
#[test]
fn a_50_mb_file_without_database_code() {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 50 << 20 {
        text.push_str(&format!(
            "pub fn f{i}(x: u64) -> u64 {{ x.wrapping_mul({i}) }} // {}\n",
            "y".repeat(200)
        ));
        i += 1;
    }
    let dir = project("src/big.rs", text.as_bytes());
    let (o, out) = check("a 50 MB file without database code", dir.path());
    went_on("50 MB, no database code", &o, &out);
    assert!(
        about(&out, "src/big.rs").is_empty(),
        "{}",
        &out[..out.len().min(2000)]
    );
}

#[test]
fn a_thousand_nested_closures() {
    // Closures without braces: no bracket nesting, so the file is parsed and followed.
    let text = format!(
        "use sqlx::PgPool;\nasync fn f(pool: &PgPool) -> Result<(), sqlx::Error> {{\n\
         \x20   let conn = pool.acquire().await?;\n\
         \x20   let g = {}std::mem::forget(conn);\n    Ok(())\n}}\n",
        "move || ".repeat(1000)
    );
    // Closures with braces: 1,000 levels plus the function's is beyond the nesting limit.
    let braced = format!(
        "use sqlx::PgPool;\nfn f(pool: &PgPool) {{\n    let g = {}pool.acquire(){};\n}}\n",
        "move || {".repeat(1000),
        "}".repeat(1000)
    );
    let dir = project("src/closures.rs", text.as_bytes());
    write(dir.path(), "src/braced.rs", braced.as_bytes());
    let (o, out) = check("1,000 nested closures", dir.path());
    went_on("1,000 nested closures", &o, &out);
    let braced = about(&out, "src/braced.rs");
    assert_eq!(braced.len(), 1, "{out}");
    assert!(braced[0].contains("nesting deeper than"), "{out}");
    for l in about(&out, "src/closures.rs") {
        assert!(!l.contains("parse-error"), "{out}");
    }
}

#[test]
fn a_file_of_one_10_mb_string_literal() {
    let text = format!(
        "use sqlx::PgPool;\npub const SQL: &str = \"{}\";\npub const RAW: &str = r#\"{}\"#;\n",
        "SELECT 1; ".repeat(1 << 20),
        "{(\"".repeat(1 << 20)
    );
    assert!(text.len() > 10 << 20);
    let dir = project("src/literal.rs", text.as_bytes());
    let (o, out) = check("one 10 MB string literal", dir.path());
    went_on("10 MB literal", &o, &out);
    assert!(about(&out, "src/literal.rs").is_empty(), "{out}");
}

/// Minified code: 110,000 leaking functions on one 10 MB line. Every finding's position is on
/// that line, so converting positions must not cost the line's length each time, and the
/// human report shows positions instead of megabyte snippets.
#[test]
#[ignore = "slow in debug builds; run in release"]
fn a_10_mb_line_with_many_findings() {
    let one = |i| {
        format!("pub fn f{i}(pool: &r2d2::Pool<M>) {{ let c = pool.get().unwrap(); std::mem::forget(c); }} ")
    };
    let n = (10 << 20) / one(0).len();
    let text = format!("use r2d2::Pool;\n{}\n", (0..n).map(one).collect::<String>());
    let dir = project("src/minified.rs", text.as_bytes());
    let (o, out) = check("a 10 MB line of leaks", dir.path());
    went_on("10 MB line", &o, &out);
    assert!(
        about(&out, "src/minified.rs").len() >= n / 2,
        "{}",
        &out[..2000]
    );
}

/// How much longer the flow analysis takes on `text(10 n)` than on `text(n)`, in release:
/// linear growth gives about 10. The phase's time comes from `CONNLINT_TIMINGS` (the whole
/// run's time if the engine stops printing it).
fn growth(name: &str, small: usize, text: impl Fn(usize) -> String) -> f64 {
    let mut times = Vec::new();
    for n in [small, small * 10] {
        let dir = project("src/big.rs", text(n).as_bytes());
        let started = Instant::now();
        let o = Command::cargo_bin("connlint")
            .unwrap()
            .current_dir(dir.path())
            .env("CONNLINT_TIMINGS", "1")
            .args(["check", "--format", "short", "."])
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        let total = started.elapsed().as_secs_f64();
        let err = String::from_utf8_lossy(&o.stderr);
        let flow = err
            .lines()
            .find_map(|l| l.strip_prefix("connlint: flow+file rules: "))
            .and_then(|t| t.trim_end_matches(" s").parse::<f64>().ok());
        println!("pathological: {name}, n = {n}: {total:.2} s, flow {flow:?} s");
        went_on(name, &o, &String::from_utf8_lossy(&o.stdout));
        times.push(flow.unwrap_or(total));
    }
    let ratio = times[1] / times[0];
    println!("pathological: {name}: flow x{ratio:.1} for x10 the size");
    ratio
}

#[test]
#[ignore = "engine bug: the flow analysis copies every live binding at each `if` \
            (Walker::snapshot/restore in src/flow/walker.rs), so one function's cost grows with \
            its statements times its branches: in release the flow phase takes 0.14 s for \
            10,000 statements and 7.4 s for 100,000 (x54 for x10)"]
fn engine_bug_one_function_grows_quadratically() {
    let ratio = growth("one function", 10_000, long_function);
    assert!(ratio < 20.0, "x{ratio:.1} for x10 the statements");
}

#[test]
#[ignore = "slow in debug builds (40,000 functions); run in release"]
fn same_named_functions_in_inline_modules_grow_linearly() {
    let ratio = growth("same-named functions in inline modules", 4_000, |n| {
        let mut s = String::from("use r2d2::Pool;\n");
        for i in 0..n {
            s.push_str(&format!(
                "pub mod m{i} {{\n    pub fn get(pool: &r2d2::Pool<M>) {{\n        \
                 let c = pool.get().unwrap();\n        drop(c);\n    }}\n}}\n"
            ));
        }
        s
    });
    assert!(ratio < 20.0, "x{ratio:.1} for x10 the functions");
}

#[cfg(unix)]
#[test]
fn symlink_loops_in_the_tree() {
    let dir = project("src/ok.rs", b"pub fn f() {}\n");
    let src = dir.path().join("src");
    // A directory that links to its parent, and two files that link to each other.
    std::os::unix::fs::symlink(&src, src.join("again")).unwrap();
    std::os::unix::fs::symlink(src.join("b.rs"), src.join("a.rs")).unwrap();
    std::os::unix::fs::symlink(src.join("a.rs"), src.join("b.rs")).unwrap();
    let (o, out) = check("a symlink loop", dir.path());
    went_on("symlink loop", &o, &out);
    assert_eq!(out.lines().count(), 1, "the loop is not entered:\n{out}");

    // Named on the command line, a looping link is an I/O error saying so.
    let o = Command::cargo_bin("connlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "src/a.rs"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("src/a.rs") && err.to_lowercase().contains("symbolic links"),
        "{err}"
    );
}

/// Runs `connlint check` as the current user, or, for root (whom file permissions do not stop),
/// without the capabilities that let root read anything, when `setpriv` can drop them.
#[cfg(unix)]
fn check_without_override(dir: &Path) -> Option<(Output, String)> {
    let root = unsafe { libc::geteuid() } == 0;
    let bin = env!("CARGO_BIN_EXE_connlint");
    let args = ["check", "--format", "short", "."];
    let mut cmd = if root {
        let available = std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !available {
            println!(
                "pathological: running as root without setpriv: permissions do not stop root \
                 from reading, so unreadable files cannot be made; the case is not tested"
            );
            return None;
        }
        let mut c = Command::new("setpriv");
        c.args(["--bounding-set=-dac_override,-dac_read_search", "--", bin]);
        c
    } else {
        Command::new(bin)
    };
    let started = Instant::now();
    let o = cmd
        .current_dir(dir)
        .args(args)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    println!(
        "pathological: unreadable file and directory{}: {:.2} s",
        if root {
            " (root, capabilities dropped)"
        } else {
            ""
        },
        started.elapsed().as_secs_f64()
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    Some((o, out))
}

#[cfg(unix)]
#[test]
fn unreadable_files_and_directories_are_diagnostics() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project("src/secret.rs", LEAK.as_bytes());
    write(dir.path(), "src/locked/inner.rs", LEAK.as_bytes());
    let mode = |p: &str, m: u32| {
        std::fs::set_permissions(dir.path().join(p), std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode("src/secret.rs", 0o000);
    mode("src/locked", 0o000);
    let result = check_without_override(dir.path());
    mode("src/locked", 0o755);
    mode("src/secret.rs", 0o644);
    let Some((o, out)) = result else { return };
    let err = String::from_utf8_lossy(&o.stderr);
    went_on("unreadable", &o, &format!("{out}{err}"));
    let secret = about(&out, "src/secret.rs");
    assert_eq!(secret.len(), 1, "{out}");
    assert!(
        secret[0].contains("warning[parse-error]") && secret[0].contains("cannot read file"),
        "{out}"
    );
    let locked = about(&out, "src/locked");
    assert_eq!(locked.len(), 1, "{out}");
    assert!(
        locked[0].contains("warning[parse-error]") && locked[0].contains("cannot read directory"),
        "{out}"
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_paths_are_checked_and_reported() {
    use std::os::unix::ffi::OsStrExt;
    let dir = project("src/ok.rs", b"pub fn f() {}\n");
    let name = std::ffi::OsStr::from_bytes(b"src/caf\xe9/le\xffak.rs");
    let path = dir.path().join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, LEAK).unwrap();
    let (o, out) = check("a non-UTF-8 path", dir.path());
    went_on("non-UTF-8 path", &o, &out);
    assert!(
        out.lines()
            .any(|l| l
                .starts_with("src/caf\u{fffd}/le\u{fffd}ak.rs:5:5: error[forgotten-connection]")),
        "{out}"
    );
    // Every format copes.
    for format in ["human", "json", "sarif", "github"] {
        let o = Command::cargo_bin("connlint")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", "--color", "never", "--format", format])
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{format}");
        assert!(
            !String::from_utf8_lossy(&o.stderr).contains("panicked"),
            "{format}"
        );
    }
}
