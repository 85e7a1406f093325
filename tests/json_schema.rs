//! The JSON output is an interface: this test pins its schema exactly (README, "JSON output").
//! Any change here is a breaking change and needs a `version` bump.

use assert_cmd::Command;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::Path;

/// Three findings in one file (two rules), one in another, and a clean file.
const HANDLERS: &str = "\
use deadpool_postgres::{ClientWrapper, Object, Pool, PoolError};
use sqlx::{pool::PoolConnection, PgPool, Postgres};

pub async fn listener(pool: &Pool) -> Result<ClientWrapper, PoolError> {
    let client = pool.get().await?;
    client.batch_execute(\"LISTEN jobs\").await?;
    Ok(Object::take(client))
}

pub async fn lock(pool: &PgPool) -> Result<(), sqlx::Error> {
    let conn = pool.acquire().await?;
    /* café */ std::mem::forget(conn);
    Ok(())
}

pub async fn lock_tx(pool: &PgPool) -> Result<(), sqlx::Error> {
    let tx = pool.begin().await?;
    std::mem::forget(tx);
    Ok(())
}
";

const REPORTS: &str = "\
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

const DB: &str = "\
use std::sync::OnceLock;
use sqlx::PgPool;

static POOL: OnceLock<PgPool> = OnceLock::new();

pub async fn conn(pool: &PgPool) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, sqlx::Error> {
    pool.acquire().await
}
";

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app/src/jobs")).unwrap();
    std::fs::write(dir.path().join("app/src/handlers.rs"), HANDLERS).unwrap();
    std::fs::write(dir.path().join("app/src/jobs/reports.rs"), REPORTS).unwrap();
    std::fs::write(dir.path().join("app/src/db.rs"), DB).unwrap();
    dir
}

fn check_json(cwd: &Path, arg: &str) -> Value {
    let o = Command::cargo_bin("connlint")
        .unwrap()
        .current_dir(cwd)
        .args(["check", "--format", "json", arg])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

/// A 1-based position: exactly `{line, column}`, positive integers.
fn pos(v: &Value) -> (u64, u64) {
    assert_eq!(keys(v), set(&["line", "column"]), "{v}");
    let (l, c) = (v["line"].as_u64().unwrap(), v["column"].as_u64().unwrap());
    assert!(l >= 1 && c >= 1, "positions are 1-based: {v}");
    (l, c)
}

/// A span: exactly `{start, end}`, end not before start.
fn span(v: &Value) -> ((u64, u64), (u64, u64)) {
    assert_eq!(keys(v), set(&["start", "end"]), "{v}");
    let (s, e) = (pos(&v["start"]), pos(&v["end"]));
    assert!(s <= e, "{v}");
    (s, e)
}

/// The text a span covers: columns count characters, `end` is exclusive.
fn text_at(source: &str, ((sl, sc), (el, ec)): ((u64, u64), (u64, u64))) -> String {
    let lines: Vec<&str> = source.split('\n').collect();
    let mut out = String::new();
    for l in sl..=el {
        let line: Vec<char> = lines[l as usize - 1].chars().collect();
        let from = if l == sl { sc as usize - 1 } else { 0 };
        let to = if l == el { ec as usize - 1 } else { line.len() };
        out.extend(&line[from..to]);
        if l != el {
            out.push('\n');
        }
    }
    out
}

#[test]
fn json_document_has_exactly_the_documented_schema() {
    let dir = setup();
    let doc = check_json(dir.path(), "app");

    assert_eq!(keys(&doc), set(&["version", "diagnostics", "summary"]));
    assert_eq!(doc["version"], Value::from(1));
    let summary = doc["summary"].as_object().unwrap();
    let want: Map<String, Value> =
        serde_json::from_str(r#"{"files_checked": 3, "findings": 4, "errors": 3, "warnings": 1}"#)
            .unwrap();
    assert_eq!(summary, &want);

    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 4);
    let rules: BTreeSet<&str> = connlint::rules::all()
        .iter()
        .map(|r| r.info().id)
        .chain(["parse-error"])
        .collect();
    for d in diags {
        assert_eq!(
            keys(d),
            set(&["rule", "severity", "message", "path", "span", "labels", "help"]),
            "{d}"
        );
        assert!(rules.contains(d["rule"].as_str().unwrap()), "{d}");
        assert!(
            ["error", "warning"].contains(&d["severity"].as_str().unwrap()),
            "{d}"
        );
        assert!(!d["message"].as_str().unwrap().is_empty());
        assert!(
            !d["help"].as_str().unwrap().is_empty(),
            "every finding has help: {d}"
        );
        assert!(d["path"].is_string());
        span(&d["span"]);
        let labels = d["labels"].as_array().unwrap();
        assert!(!labels.is_empty());
        assert_eq!(
            labels[0]["span"], d["span"],
            "labels[0] is the primary label: {d}"
        );
        for l in labels {
            assert_eq!(keys(l), set(&["message", "span"]), "{l}");
            assert!(!l["message"].as_str().unwrap().is_empty());
            span(&l["span"]);
        }
    }
}

#[test]
fn diagnostics_point_at_the_right_text_and_are_sorted() {
    let dir = setup();
    let doc = check_json(dir.path(), "app");
    let diags = doc["diagnostics"].as_array().unwrap();

    let got: Vec<(&str, &str, &str, String, Vec<String>)> = diags
        .iter()
        .map(|d| {
            let path = d["path"].as_str().unwrap();
            let source = std::fs::read_to_string(dir.path().join(path)).unwrap();
            let labels = d["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| text_at(&source, span(&l["span"])))
                .collect();
            (
                path,
                d["rule"].as_str().unwrap(),
                d["severity"].as_str().unwrap(),
                text_at(&source, span(&d["span"])),
                labels,
            )
        })
        .collect();

    // Sorted by path, then position; the primary span covers the hazard exactly (a `café`
    // comment before it checks that columns count characters, not bytes).
    let expected = [
        (
            "app/src/handlers.rs",
            "detached-connection",
            "warning",
            "Object::take(client)",
        ),
        (
            "app/src/handlers.rs",
            "forgotten-connection",
            "error",
            "std::mem::forget(conn)",
        ),
        (
            "app/src/handlers.rs",
            "forgotten-connection",
            "error",
            "std::mem::forget(tx)",
        ),
        (
            "app/src/jobs/reports.rs",
            "accumulated-connections",
            "error",
            "push(pool.get()?)",
        ),
    ];
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(expected) {
        assert_eq!((g.0, g.1, g.2, g.3.as_str()), e);
        assert_eq!(g.4[0], g.3);
    }
    // Secondary labels point at the acquisitions.
    assert!(got[0].4[1].contains("get()"), "{:?}", got[0].4);
    assert!(got[1].4[1].contains("acquire()"), "{:?}", got[1].4);
    assert!(got[2].4[1].contains("begin()"), "{:?}", got[2].4);

    let positions: Vec<(u64, u64)> = diags.iter().map(|d| span(&d["span"]).0).collect();
    assert_eq!(positions, [(7, 8), (12, 16), (18, 5), (10, 15)]);
}

#[test]
fn paths_are_as_reached_from_the_argument() {
    let dir = setup();
    let paths = |doc: &Value| -> Vec<String> {
        doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap().to_string())
            .collect()
    };
    // Relative arguments give relative paths, `./` dropped.
    for arg in ["app", "./app"] {
        let doc = check_json(dir.path(), arg);
        assert_eq!(
            paths(&doc),
            [
                "app/src/handlers.rs",
                "app/src/handlers.rs",
                "app/src/handlers.rs",
                "app/src/jobs/reports.rs"
            ],
            "{arg}"
        );
    }
    let doc = check_json(&dir.path().join("app/src"), "jobs");
    assert_eq!(paths(&doc), ["jobs/reports.rs"]);
    // An absolute argument gives absolute paths.
    let abs = dir.path().join("app/src/jobs");
    let doc = check_json(dir.path(), abs.to_str().unwrap());
    assert_eq!(
        paths(&doc),
        [abs.join("reports.rs").to_str().unwrap().to_string()]
    );
}
