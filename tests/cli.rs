//! The command line as users and tools see it: formats, exit codes, rules/explain, parse errors,
//! directory walking, colour, broken pipes and `cargo connlint`. Every input is a small temp tree
//! of realistic sqlx / diesel + r2d2 / deadpool code.

use assert_cmd::Command;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Output, Stdio};
use tempfile::TempDir;

// ---- inputs --------------------------------------------------------------------------------

/// forgotten-connection (error) at 5:5, on `std::mem::forget(conn)`; acquired at line 4.
const FORGET: &str = "\
use sqlx::{pool::PoolConnection, PgPool, Postgres};

async fn h(pool: &PgPool) -> Result<(), sqlx::Error> {
    let conn = pool.acquire().await?;
    std::mem::forget(conn);
    Ok(())
}
";

/// detached-connection (warning) at 6:8, on `Object::take(client)`.
const DETACH: &str = "\
use deadpool_postgres::{ClientWrapper, Object, Pool, PoolError};

pub async fn listener(pool: &Pool) -> Result<ClientWrapper, PoolError> {
    let client = pool.get().await?;
    client.batch_execute(\"LISTEN jobs\").await?;
    Ok(Object::take(client))
}
";

/// accumulated-connections (error) at 10:15, on `push(pool.get()?)`.
const ACCUMULATE: &str = "\
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PoolError, PooledConnection};

type DbPool = Pool<ConnectionManager<PgConnection>>;
type DbConn = PooledConnection<ConnectionManager<PgConnection>>;

pub fn checkout(pool: &DbPool, shards: usize) -> Result<Vec<DbConn>, PoolError> {
    let mut conns = Vec::new();
    for _ in 0..shards {
        conns.push(pool.get()?);
    }
    Ok(conns)
}
";

/// Idiomatic code: a pool in a static, a per-call connection, a connection returned.
const CLEAN: &str = "\
use std::sync::OnceLock;

use sqlx::PgPool;

static POOL: OnceLock<PgPool> = OnceLock::new();

pub async fn user_name(id: i64) -> Result<Option<String>, sqlx::Error> {
    let pool = POOL.get().expect(\"pool installed at startup\");
    let mut conn = pool.acquire().await?;
    sqlx::query_scalar(\"SELECT name FROM users WHERE id = $1\")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
}

pub async fn conn(pool: &PgPool) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, sqlx::Error> {
    pool.acquire().await
}
";

/// Mentions sqlx (so the prefilter lets it through) but does not parse: missing `;`.
const SYNTAX_ERROR: &str = "\
use sqlx::PgPool;

async fn f(pool: &PgPool) {
    let conn = pool.acquire().await.unwrap()
    let n = 1;
}
";

// ---- helpers -------------------------------------------------------------------------------

fn connlint() -> Command {
    let mut cmd = Command::cargo_bin("connlint").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

/// A temp dir holding `files` (relative path, contents).
fn tree(files: &[(&str, &[u8])]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Runs `connlint <args>` in `dir`.
fn run(dir: &Path, args: &[&str]) -> Output {
    connlint().current_dir(dir).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally, not by a signal")
}

fn json(dir: &Path, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let o = run(dir, &all);
    let doc = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(&o)));
    (doc, code(&o))
}

/// (path, line, column, rule) of every diagnostic of a JSON document.
fn findings(doc: &Value) -> Vec<(String, u64, u64, String)> {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["span"]["start"]["line"].as_u64().unwrap(),
                d["span"]["start"]["column"].as_u64().unwrap(),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn f(path: &str, line: u64, column: u64, rule: &str) -> (String, u64, u64, String) {
    (path.to_string(), line, column, rule.to_string())
}

/// Words of a text, with miette's gutter bars dropped: wrapped lines compare equal.
fn words(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "│" && *w != "·")
        .collect::<Vec<_>>()
        .join(" ")
}

fn has_ansi(s: &[u8]) -> bool {
    s.windows(2).any(|w| w == b"\x1b[")
}

fn rule_ids() -> Vec<&'static str> {
    connlint::rules::all().iter().map(|r| r.info().id).collect()
}

// ---- formats -------------------------------------------------------------------------------

#[test]
fn human_format_shows_code_snippet_labels_help_and_summary() {
    let dir = tree(&[("src/handlers.rs", FORGET.as_bytes())]);
    let o = run(dir.path(), &["check", "--color", "never", "src"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let out = stdout(&o);
    let (doc, _) = json(dir.path(), &["src"]);
    let d = &doc["diagnostics"][0];

    // The rule code heads the report, and the location points at the hazard.
    assert_eq!(out.lines().next(), Some("forgotten-connection"), "{out}");
    assert!(out.contains("[src/handlers.rs:5:5]"), "{out}");
    // The snippet shows the acquisition and the forget with both labels.
    assert!(
        out.contains("4 │     let conn = pool.acquire().await?;"),
        "{out}"
    );
    assert!(out.contains("5 │     std::mem::forget(conn);"), "{out}");
    let primary = d["labels"][0]["message"].as_str().unwrap();
    let secondary = d["labels"][1]["message"].as_str().unwrap();
    assert!(primary.contains("mem::forget"), "{primary}");
    assert!(out.contains(&format!("╰── {primary}")), "{out}");
    assert!(out.contains(&format!("╰── {secondary}")), "{out}");
    // Severity mark, message and help line (wrapped at 100 columns).
    assert!(out.contains("  × "), "an error is marked with ×:\n{out}");
    let text = words(&out);
    assert!(
        text.contains(&words(d["message"].as_str().unwrap())),
        "{out}"
    );
    let help = d["help"].as_str().unwrap();
    assert!(text.contains(&format!("help: {}", words(help))), "{out}");
    // Summary line, last.
    assert_eq!(
        out.lines().last(),
        Some("connlint: 1 error in 1 file checked")
    );
}

#[test]
fn human_summary_counts_errors_warnings_and_files() {
    let dir = tree(&[
        ("src/handlers.rs", FORGET.as_bytes()),
        ("src/notify.rs", DETACH.as_bytes()),
        ("src/reports.rs", ACCUMULATE.as_bytes()),
        ("src/db.rs", CLEAN.as_bytes()),
    ]);
    let out = stdout(&run(dir.path(), &["check", "src"]));
    assert_eq!(
        out.lines().last(),
        Some("connlint: 2 errors, 1 warning in 4 files checked"),
        "{out}"
    );
    // A warning is marked ⚠, errors ×.
    assert_eq!(out.matches("  ⚠ ").count(), 1, "{out}");
    assert_eq!(out.matches("  × ").count(), 2, "{out}");

    let o = run(dir.path(), &["check", "src/notify.rs"]);
    assert_eq!(
        stdout(&o).lines().last(),
        Some("connlint: 1 warning in 1 file checked")
    );
    let o = run(dir.path(), &["check", "src/db.rs"]);
    assert_eq!(stdout(&o), "connlint: no findings in 1 file checked\n");
}

#[test]
fn quiet_drops_the_summary_line() {
    let dir = tree(&[("a.rs", FORGET.as_bytes()), ("b.rs", CLEAN.as_bytes())]);
    let o = run(dir.path(), &["check", "--quiet", "."]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("forgotten-connection"), "{out}");
    assert!(!out.contains("connlint:"), "{out}");
    let o = run(dir.path(), &["check", "-q", "b.rs"]);
    assert_eq!(stdout(&o), "");
    assert_eq!(code(&o), 0);
}

#[test]
fn short_format_is_one_exact_line_per_finding() {
    let dir = tree(&[
        ("src/notify.rs", DETACH.as_bytes()),
        ("src/handlers.rs", FORGET.as_bytes()),
        ("src/reports.rs", ACCUMULATE.as_bytes()),
        ("src/db.rs", CLEAN.as_bytes()),
    ]);
    let o = run(dir.path(), &["check", "--format", "short", "src"]);
    assert_eq!(code(&o), 1);
    let (doc, _) = json(dir.path(), &["src"]);
    let msg = |i: usize| {
        doc["diagnostics"][i]["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let expected = format!(
        "src/handlers.rs:5:5: error[forgotten-connection]: {}\n\
         src/notify.rs:6:8: warning[detached-connection]: {}\n\
         src/reports.rs:10:15: error[accumulated-connections]: {}\n",
        msg(0),
        msg(1),
        msg(2)
    );
    assert_eq!(stdout(&o), expected);
    // Messages are single lines, so each finding is exactly one line.
    for i in 0..3 {
        assert!(!msg(i).contains('\n') && !msg(i).is_empty());
    }
    // Clean code prints nothing at all.
    let o = run(dir.path(), &["check", "--format", "short", "src/db.rs"]);
    assert_eq!((stdout(&o).as_str(), code(&o)), ("", 0));
}

#[test]
fn json_format_reports_labels_at_the_right_text() {
    let dir = tree(&[("src/handlers.rs", FORGET.as_bytes())]);
    let (doc, rc) = json(dir.path(), &["src"]);
    assert_eq!(rc, 1);
    assert_eq!(doc["version"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["rule"], "forgotten-connection");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["path"], "src/handlers.rs");
    assert_eq!(
        d["span"],
        serde_json::json!({"start": {"line": 5, "column": 5}, "end": {"line": 5, "column": 27}})
    );
    assert_eq!(d["labels"][0]["span"], d["span"]);
    // The secondary label is at the acquisition on line 4.
    assert_eq!(d["labels"][1]["span"]["start"]["line"], 4);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"files_checked": 1, "findings": 1, "errors": 1, "warnings": 0})
    );
}

// ---- exit codes and rule selection -----------------------------------------------------------

#[test]
fn exit_code_0_on_clean_code() {
    let dir = tree(&[("src/db.rs", CLEAN.as_bytes())]);
    let o = run(dir.path(), &["check", "src"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn exit_code_1_with_an_error_finding() {
    let dir = tree(&[
        ("src/db.rs", CLEAN.as_bytes()),
        ("src/leak.rs", FORGET.as_bytes()),
    ]);
    let o = run(dir.path(), &["check", "src"]);
    assert_eq!(code(&o), 1);
}

#[test]
fn warnings_alone_exit_0_unless_denied() {
    let dir = tree(&[("src/notify.rs", DETACH.as_bytes())]);
    let (doc, rc) = json(dir.path(), &["src"]);
    assert_eq!(
        findings(&doc),
        [f("src/notify.rs", 6, 8, "detached-connection")]
    );
    assert_eq!(doc["diagnostics"][0]["severity"], "warning");
    assert_eq!(rc, 0);
    let o = run(dir.path(), &["check", "--deny", "warnings", "src"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("detached-connection"));
}

#[test]
fn missing_path_exits_2() {
    let dir = tree(&[("src/db.rs", CLEAN.as_bytes())]);
    let o = run(dir.path(), &["check", "src", "no/such/dir"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no/such/dir"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn unknown_rules_exit_2_and_list_the_known_ids() {
    let dir = tree(&[("src/db.rs", CLEAN.as_bytes())]);
    for args in [
        &["explain", "no-such-rule"][..],
        &["check", "--select", "no-such-rule", "src"],
        &[
            "check",
            "--ignore",
            "forgotten-connection,no-such-rule",
            "src",
        ],
    ] {
        let o = run(dir.path(), args);
        assert_eq!(code(&o), 2, "{args:?}");
        let err = stderr(&o);
        assert!(err.contains("no-such-rule"), "{args:?}: {err}");
        for id in rule_ids() {
            assert!(err.contains(id), "{args:?}: {id} missing from\n{err}");
        }
        assert_eq!(stdout(&o), "", "{args:?}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tree(&[]);
    for args in [
        &["check", "--format", "xml"][..],
        &["check", "--color", "sometimes"],
        &["frobnicate"],
        &[],
    ] {
        let o = run(dir.path(), args);
        assert_eq!(code(&o), 2, "{args:?}");
    }
    // --help and --version are not errors.
    assert_eq!(code(&run(dir.path(), &["--help"])), 0);
    assert_eq!(code(&run(dir.path(), &["--version"])), 0);
    let help = stdout(&run(dir.path(), &["check", "--help"]));
    assert!(help.contains("Exit codes:"), "{help}");
}

#[test]
fn select_and_ignore_choose_rules() {
    let dir = tree(&[
        ("src/handlers.rs", FORGET.as_bytes()),
        ("src/notify.rs", DETACH.as_bytes()),
        ("src/reports.rs", ACCUMULATE.as_bytes()),
    ]);
    let (doc, rc) = json(dir.path(), &["--select", "detached-connection", "src"]);
    assert_eq!(
        findings(&doc),
        [f("src/notify.rs", 6, 8, "detached-connection")]
    );
    assert_eq!(rc, 0);
    let (doc, rc) = json(
        dir.path(),
        &[
            "--ignore",
            "detached-connection,forgotten-connection",
            "src",
        ],
    );
    assert_eq!(
        findings(&doc),
        [f("src/reports.rs", 10, 15, "accumulated-connections")]
    );
    assert_eq!(rc, 1);
    let (doc, _) = json(
        dir.path(),
        &[
            "--select",
            "forgotten-connection",
            "--select",
            "detached-connection",
            "src",
        ],
    );
    assert_eq!(
        findings(&doc),
        [
            f("src/handlers.rs", 5, 5, "forgotten-connection"),
            f("src/notify.rs", 6, 8, "detached-connection"),
        ]
    );
}

// ---- rules and explain -----------------------------------------------------------------------

#[test]
fn rules_lists_every_rule_with_family_and_level() {
    let o = connlint().arg("rules").output().unwrap();
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let ids = rule_ids();
    assert_eq!(rows.len(), ids.len(), "{out}");
    for r in connlint::rules::all() {
        let i = r.info();
        let level = match i.default {
            connlint::diagnostic::Severity::Error => "error",
            connlint::diagnostic::Severity::Warning => "warn",
        };
        let row = rows
            .iter()
            .find(|row| row[0] == i.id)
            .unwrap_or_else(|| panic!("{} not listed:\n{out}", i.id));
        assert_eq!(row[1..3], [i.family.as_str(), level], "{out}");
    }
    // The escape rules, pinned: their ids, families and levels are public interface.
    for (id, level) in [
        ("forgotten-connection", "error"),
        ("detached-connection", "warn"),
        ("connection-in-static", "error"),
        ("accumulated-connections", "error"),
    ] {
        assert!(
            rows.iter().any(|r| r[..3] == [id, "escape", level]),
            "{id}:\n{out}"
        );
    }
}

#[test]
fn explain_prints_the_rule_doc() {
    let o = connlint()
        .args(["explain", "forgotten-connection"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    let doc = stdout(&o);
    assert!(doc.starts_with("# forgotten-connection\n"), "{doc}");
    assert!(doc.contains("mem::forget"), "{doc}");
    for id in rule_ids() {
        let o = connlint().args(["explain", id]).output().unwrap();
        assert_eq!(code(&o), 0, "{id}");
        assert!(stdout(&o).starts_with(&format!("# {id}\n")), "{id}");
    }
}

// ---- parse errors ----------------------------------------------------------------------------

#[test]
fn syntax_error_is_a_warning_at_syns_position_and_other_files_are_checked() {
    let dir = tree(&[
        ("src/broken.rs", SYNTAX_ERROR.as_bytes()),
        ("src/handlers.rs", FORGET.as_bytes()),
        ("src/db.rs", CLEAN.as_bytes()),
    ]);
    let err = syn::parse_file(SYNTAX_ERROR).unwrap_err();
    let at = err.span().start();
    let (line, column) = (at.line as u64, at.column as u64 + 1);
    assert_eq!(
        (line, column),
        (5, 5),
        "syn reports the missing `;` at the next `let`"
    );

    let (doc, rc) = json(dir.path(), &["src"]);
    assert_eq!(
        findings(&doc),
        [
            f("src/broken.rs", line, column, "parse-error"),
            f("src/handlers.rs", 5, 5, "forgotten-connection"),
        ]
    );
    let d = &doc["diagnostics"][0];
    assert_eq!(d["severity"], "warning");
    assert!(
        d["message"].as_str().unwrap().contains(&err.to_string()),
        "{d}"
    );
    assert_eq!(doc["summary"]["files_checked"], 3);
    assert_eq!(rc, 1, "the leak drives the exit code");

    // Without the leak, a parse error alone does not fail the run, even with --deny warnings.
    std::fs::remove_file(dir.path().join("src/handlers.rs")).unwrap();
    let o = run(dir.path(), &["check", "--format", "short", "src"]);
    assert_eq!(code(&o), 0);
    assert_eq!(
        stdout(&o),
        format!(
            "src/broken.rs:5:5: warning[parse-error]: {}\n",
            d["message"].as_str().unwrap()
        )
    );
    assert_eq!(
        code(&run(dir.path(), &["check", "--deny", "warnings", "src"])),
        0
    );
}

#[test]
fn non_utf8_file_is_a_warning_and_other_files_are_checked() {
    let mut bad = b"use sqlx::PgPool;\n\nconst GREETING: &str = \"caf".to_vec();
    bad.extend_from_slice(b"\xe9\";\n"); // Latin-1 é: not UTF-8
    let dir = tree(&[
        ("src/latin1.rs", &bad),
        ("src/handlers.rs", FORGET.as_bytes()),
    ]);
    let (doc, rc) = json(dir.path(), &["src"]);
    assert_eq!(
        findings(&doc),
        [
            f("src/handlers.rs", 5, 5, "forgotten-connection"),
            f("src/latin1.rs", 3, 28, "parse-error"),
        ]
    );
    let d = &doc["diagnostics"][1];
    assert_eq!(d["severity"], "warning");
    assert!(d["message"].as_str().unwrap().contains("UTF-8"), "{d}");
    assert_eq!(rc, 1);
    // The human format still renders it (with the valid part as snippet) and does not crash.
    let o = run(dir.path(), &["check", "--color", "never", "src/latin1.rs"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("parse-error"), "{}", stdout(&o));
    assert!(stdout(&o).contains("UTF-8"));
}

// ---- walking ---------------------------------------------------------------------------------

#[test]
fn walk_skips_target_and_hidden_dirs_and_non_rust_files() {
    let leak = FORGET.as_bytes();
    let dir = tree(&[
        ("src/handlers.rs", leak),
        ("src/db.rs", CLEAN.as_bytes()),
        ("target/debug/build/out/generated.rs", leak),
        ("crates/api/target/gen.rs", leak),
        (".git/hooks/leak.rs", leak),
        ("src/.cache/leak.rs", leak),
        ("src/handlers.rs.orig", leak),
        ("notes/leak.txt", leak),
        ("README.md", leak),
    ]);
    let (doc, rc) = json(dir.path(), &["."]);
    assert_eq!(
        findings(&doc),
        [f("src/handlers.rs", 5, 5, "forgotten-connection")]
    );
    assert_eq!(doc["summary"]["files_checked"], 2);
    assert_eq!(rc, 1);

    // Named explicitly, files and directories inside skipped places are checked.
    let (doc, _) = json(
        dir.path(),
        &[
            "target/debug/build/out/generated.rs",
            "src/.cache",
            ".git/hooks/leak.rs",
        ],
    );
    assert_eq!(
        findings(&doc),
        [
            f(".git/hooks/leak.rs", 5, 5, "forgotten-connection"),
            f("src/.cache/leak.rs", 5, 5, "forgotten-connection"),
            f(
                "target/debug/build/out/generated.rs",
                5,
                5,
                "forgotten-connection"
            ),
        ]
    );
}

#[test]
fn a_file_named_with_dot_slash_is_the_same_file() {
    let dir = tree(&[("src/handlers.rs", FORGET.as_bytes())]);
    let (doc, _) = json(dir.path(), &["./src/handlers.rs"]);
    assert_eq!(
        findings(&doc),
        [f("src/handlers.rs", 5, 5, "forgotten-connection")]
    );
    let (doc, _) = json(dir.path(), &["src", "./src/handlers.rs"]);
    assert_eq!(
        findings(&doc),
        [f("src/handlers.rs", 5, 5, "forgotten-connection")]
    );
    assert_eq!(doc["summary"]["files_checked"], 1);
}

#[test]
fn paths_are_cleaned_the_same_way_whether_walked_or_named() {
    let dir = tree(&[("src/handlers.rs", FORGET.as_bytes())]);
    let (doc, _) = json(
        dir.path(),
        &["./src", "src/./handlers.rs", "./src//handlers.rs", "src/"],
    );
    assert_eq!(
        findings(&doc),
        [f("src/handlers.rs", 5, 5, "forgotten-connection")]
    );
    assert_eq!(doc["summary"]["files_checked"], 1);
}

/// Symlinked `.rs` files inside a walked directory are checked under the link's name; symlinked
/// directories are not followed (no cycles), dangling links are skipped, and a link to a file the
/// walk checks anyway does not check it twice.
#[cfg(unix)]
#[test]
fn symlinked_rust_files_are_checked_but_symlinked_dirs_are_not_followed() {
    use std::os::unix::fs::symlink;
    let leak = FORGET.as_bytes();
    let dir = tree(&[
        ("shared/handlers.rs", leak),
        ("other/leak.rs", leak),
        ("svc/src/db.rs", CLEAN.as_bytes()),
        ("svc/src/detach.rs", DETACH.as_bytes()),
    ]);
    let src = dir.path().join("svc/src");
    symlink("../../shared/handlers.rs", src.join("handlers.rs")).unwrap();
    symlink("../../other", src.join("linked")).unwrap();
    symlink("../..", src.join("loop")).unwrap();
    symlink("missing.rs", src.join("dangling.rs")).unwrap();
    symlink("detach.rs", src.join("alias.rs")).unwrap();
    symlink("../../other", src.join("dir.rs")).unwrap();
    let (doc, rc) = json(dir.path(), &["svc"]);
    assert_eq!(
        findings(&doc),
        [
            f("svc/src/detach.rs", 6, 8, "detached-connection"),
            f("svc/src/handlers.rs", 5, 5, "forgotten-connection"),
        ]
    );
    assert_eq!(doc["summary"]["files_checked"], 3);
    assert_eq!(rc, 1);
}

#[test]
fn default_path_is_the_current_directory() {
    let dir = tree(&[
        ("src/handlers.rs", FORGET.as_bytes()),
        ("src/db.rs", CLEAN.as_bytes()),
    ]);
    let (doc, _) = json(dir.path(), &[]);
    assert_eq!(
        findings(&doc),
        [f("src/handlers.rs", 5, 5, "forgotten-connection")]
    );
    assert_eq!(doc["summary"]["files_checked"], 2);
}

#[test]
fn output_is_deterministic_sorted_and_deduplicated() {
    let mut files: Vec<(String, &[u8])> = Vec::new();
    for i in 0..40 {
        let body = match i % 4 {
            0 => FORGET,
            1 => DETACH,
            2 => ACCUMULATE,
            _ => CLEAN,
        };
        files.push((
            format!("svc{}/src/m{:02}.rs", i % 3, 39 - i),
            body.as_bytes(),
        ));
    }
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), *b)).collect();
    let dir = tree(&refs);
    let first = run(
        dir.path(),
        &["check", "--format", "short", "svc2", "svc0", "svc1"],
    );
    let lines: Vec<&str> = std::str::from_utf8(&first.stdout)
        .unwrap()
        .lines()
        .collect();
    assert_eq!(lines.len(), 30, "{lines:#?}");
    // Sorted by path whatever the argument order.
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    for _ in 0..3 {
        let again = run(
            dir.path(),
            &["check", "--format", "short", "svc0", "svc1", "svc2"],
        );
        assert_eq!(again.stdout, first.stdout);
    }
    // A file reached twice is checked once.
    let (doc, _) = json(dir.path(), &["svc0", "svc0/src/m39.rs", "./svc0"]);
    assert_eq!(doc["summary"]["files_checked"], 14);
    assert_eq!(
        findings(&doc)
            .iter()
            .filter(|x| x.0 == "svc0/src/m39.rs")
            .count(),
        1
    );
}

// ---- colour ----------------------------------------------------------------------------------

#[test]
fn colour_follows_the_flag_and_the_pipe() {
    let dir = tree(&[("src/handlers.rs", FORGET.as_bytes())]);
    let o = run(dir.path(), &["check", "--color", "always", "src"]);
    assert!(has_ansi(&o.stdout), "{}", stdout(&o));
    // Colour is for the human format only.
    for format in ["short", "json"] {
        let o = run(
            dir.path(),
            &["check", "--color", "always", "--format", format, "src"],
        );
        assert!(!has_ansi(&o.stdout), "{format}: {}", stdout(&o));
    }
    let o = run(dir.path(), &["check", "--color", "never", "src"]);
    assert!(!has_ansi(&o.stdout));
    // auto, stdout piped: no colour.
    let o = run(dir.path(), &["check", "src"]);
    assert!(!has_ansi(&o.stdout));
    assert!(stdout(&o).contains("forgotten-connection"));
    // NO_COLOR does not override an explicit --color always.
    let o = connlint()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["check", "--color", "always", "src"])
        .output()
        .unwrap();
    assert!(has_ansi(&o.stdout));
}

/// Runs connlint with stdout on a pseudo-terminal; returns what it printed.
#[cfg(unix)]
fn run_on_tty(dir: &Path, args: &[&str], no_color: Option<&str>) -> Vec<u8> {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two new file descriptors, which are then owned by `File`s.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    let (mut master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    };
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("connlint"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::null());
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // closes our copy of the slave, so reads end when the child exits
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // Linux reports EIO on the master once every slave is closed.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("reading the pty: {e}"),
        }
    }
    assert_eq!(child.wait().unwrap().code(), Some(1));
    out
}

#[cfg(unix)]
#[test]
fn colour_auto_on_a_terminal_respects_no_color() {
    let dir = tree(&[("src/handlers.rs", FORGET.as_bytes())]);
    let out = run_on_tty(dir.path(), &["check", "src"], None);
    assert!(
        String::from_utf8_lossy(&out).contains("forgotten-connection"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(has_ansi(&out), "a terminal gets colour under --color auto");
    let out = run_on_tty(dir.path(), &["check", "src"], Some("1"));
    assert!(String::from_utf8_lossy(&out).contains("forgotten-connection"));
    assert!(!has_ansi(&out), "NO_COLOR=1 turns colour off");
    // An empty NO_COLOR does not count (no-color.org).
    let out = run_on_tty(dir.path(), &["check", "src"], Some(""));
    assert!(has_ansi(&out));
    let out = run_on_tty(dir.path(), &["check", "--color", "never", "src"], None);
    assert!(!has_ansi(&out));
}

// ---- broken pipe -----------------------------------------------------------------------------

#[test]
fn closing_the_pipe_early_does_not_panic() {
    let files: Vec<(String, &[u8])> = (0..300)
        .map(|i| (format!("src/h{i:03}.rs"), FORGET.as_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), *b)).collect();
    let dir = tree(&refs);
    for format in ["human", "short", "json"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("connlint"))
            .current_dir(dir.path())
            .args(["check", "--color", "never", "--format", format, "src"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        assert!(!first.is_empty(), "{format}");
        drop(reader); // the reader goes away, like `| head -1`
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!err.contains("panicked"), "{format}: {err}");
        assert_ne!(status.code(), Some(101), "{format}: {err}");
        // It ends normally (the findings still decide the exit code), not by SIGPIPE.
        assert_eq!(status.code(), Some(1), "{format}: {status:?} {err}");
    }
}

// ---- cargo connlint --------------------------------------------------------------------------

#[test]
fn cargo_connlint_works_like_connlint() {
    let dir = tree(&[
        ("src/handlers.rs", FORGET.as_bytes()),
        ("src/notify.rs", DETACH.as_bytes()),
    ]);
    let direct = run(dir.path(), &["check", "--format", "short", "src"]);
    let via_cargo = Command::cargo_bin("cargo-connlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["connlint", "check", "--format", "short", "src"])
        .output()
        .unwrap();
    assert_eq!(code(&via_cargo), 1);
    assert_eq!(stdout(&via_cargo), stdout(&direct));
    assert!(stdout(&via_cargo).starts_with("src/handlers.rs:5:5: error[forgotten-connection]: "));

    let rules = Command::cargo_bin("cargo-connlint")
        .unwrap()
        .args(["connlint", "rules"])
        .output()
        .unwrap();
    assert_eq!(code(&rules), 0);
    assert_eq!(
        stdout(&rules),
        stdout(&connlint().arg("rules").output().unwrap())
    );
    // Exit codes carry through: warnings only, denied.
    let o = Command::cargo_bin("cargo-connlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["connlint", "check", "--deny", "warnings", "src/notify.rs"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let o = Command::cargo_bin("cargo-connlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["connlint", "explain", "no-such-rule"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
}

// ---- README ----------------------------------------------------------------------------------

/// The README's rules table lists every rule id once; a rule is marked `implemented`
/// exactly when the binary registers it, with the registry's family and level.
#[test]
fn readme_rules_table_matches_the_registry() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Rules\n"))
        .expect("README has a `## Rules` section");
    let rows: Vec<Vec<&str>> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    let ids: Vec<&str> = rows.iter().map(|r| r[1].trim_matches('`')).collect();
    assert_eq!(ids.len(), connlint::rules::all().len(), "{ids:?}");
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    for row in &rows {
        let id = row[1].trim_matches('`');
        let (family, level, status) = (row[2], row[3], row[4]);
        match connlint::rules::by_id(id) {
            Some(rule) => {
                let info = rule.info();
                let want = match info.default {
                    connlint::diagnostic::Severity::Error => "error",
                    connlint::diagnostic::Severity::Warning => "warn",
                };
                assert_eq!(
                    (family, level, status),
                    (info.family.as_str(), want, "implemented"),
                    "README row for {id}"
                );
            }
            None => assert_eq!(status, "planned", "README marks {id} implemented"),
        }
    }
    for id in rule_ids() {
        assert!(
            ids.contains(&id),
            "{id} is missing from the README's rules table"
        );
    }
}

/// `.ci/run` runs the test command the README gives.
#[test]
fn readme_and_ci_share_the_test_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let command = ci
        .lines()
        .find_map(|l| l.strip_prefix("TEST_COMMAND=\""))
        .and_then(|l| l.strip_suffix('"'))
        .expect(".ci/run sets TEST_COMMAND");
    assert!(ci.lines().any(|l| l.trim() == "$TEST_COMMAND"));
    assert!(
        readme.lines().any(|l| l == command),
        "README does not show `{command}`"
    );
}

/// `connlint pools` lists every pool with its effective settings, set in code or the library
/// default, as a table and as JSON.
#[test]
fn pools_lists_each_pool_with_effective_settings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("db.rs"),
        r#"use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

pub async fn init_pool(url: &str) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(20)
        .connect(url)
        .await
}

pub fn cache_pool(cfg: deadpool_redis::Config) -> deadpool_redis::Pool {
    cfg.create_pool(Some(deadpool_redis::Runtime::Tokio1)).unwrap()
}
"#,
    )
    .unwrap();
    let out = Command::cargo_bin("connlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["pools", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    let pools = doc["pools"].as_array().unwrap();
    assert_eq!(pools.len(), 2, "{doc:#}");
    let sqlx = &pools[0];
    assert_eq!(
        (sqlx["library"].as_str(), sqlx["line"].as_u64()),
        (Some("sqlx"), Some(7))
    );
    assert_eq!(
        sqlx["max_size"],
        serde_json::json!({"value": "20", "source": "set"})
    );
    assert_eq!(
        sqlx["acquire_timeout"],
        serde_json::json!({"value": "30s", "source": "default"})
    );
    assert_eq!(sqlx["function"], "init_pool");
    assert_eq!(sqlx["fate"], "returned to the caller");
    let deadpool = &pools[1];
    assert_eq!(deadpool["library"], "deadpool");
    assert_eq!(
        deadpool["acquire_timeout"],
        serde_json::json!({"value": "unbounded", "source": "default"})
    );
    assert_eq!(deadpool["max_size"]["source"], "default");

    let table = Command::cargo_bin("connlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["pools"])
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.starts_with("LOCATION"), "{text}");
    assert!(text.contains("db.rs:7:"), "{text}");
    assert!(
        text.contains("20 (set)") && text.contains("30s (default)"),
        "{text}"
    );
    assert!(text.contains("unbounded (default)"), "{text}");
    assert!(text.trim_end().ends_with("2 pools built"), "{text}");
}
