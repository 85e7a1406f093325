//! `--format sarif` is validated against the official SARIF 2.1.0 JSON schema
//! (tests/data/sarif-schema-2.1.0.json, see tests/data/README.md for its source), and its
//! content is checked: tool metadata, every rule with help text and URL, results with regions,
//! related locations and fingerprints.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

const FORGET: &str = "\
use sqlx::PgPool;

async fn lock(pool: &PgPool) -> Result<(), sqlx::Error> {
    let conn = pool.acquire().await?;
    std::mem::forget(conn);
    Ok(())
}
";

const DETACH: &str = "\
use deadpool_postgres::{ClientWrapper, Object, Pool, PoolError};

pub async fn listener(pool: &Pool) -> Result<ClientWrapper, PoolError> {
    let client = pool.get().await?;
    client.batch_execute(\"LISTEN jobs\").await?;
    Ok(Object::take(client)) // connlint: allow(forgotten-connection) not this one
}
";

const BROKEN: &str = "use sqlx::PgPool;\nfn f(pool: &PgPool) { let x = }\n";

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn sarif(files: &[(&str, &str)]) -> (Value, i32) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let o = Command::cargo_bin("connlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "--format", "sarif"])
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&o.stdout)));
    (doc, o.status.code().unwrap())
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let v = validator();
    let (doc, code) = sarif(&[
        ("src/lock.rs", FORGET),
        ("src/net listen.rs", DETACH),
        ("src/broken.rs", BROKEN),
    ]);
    assert_eq!(code, 1);
    let errs = errors(&v, &doc);
    assert!(errs.is_empty(), "{errs:#?}");

    // Clean code gives a valid document with no results.
    let (clean, code) = sarif(&[("src/lib.rs", "pub fn f() {}\n")]);
    assert_eq!(code, 0);
    assert!(errors(&v, &clean).is_empty());
    assert_eq!(clean["runs"][0]["results"], serde_json::json!([]));

    // The validator does reject what is not SARIF.
    let mut bad = doc.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert_eq!(errors(&v, &bad).len(), 2, "{:#?}", errors(&v, &bad));
}

#[test]
fn sarif_carries_rules_with_help_and_results_with_locations() {
    let (doc, _) = sarif(&[
        ("src/lock.rs", FORGET),
        ("src/net listen.rs", DETACH),
        ("src/broken.rs", BROKEN),
    ]);
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "connlint");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["informationUri"], env!("CARGO_PKG_REPOSITORY"));

    let rules = driver["rules"].as_array().unwrap();
    for r in connlint::rules::all() {
        let id = r.info().id;
        let d = rules
            .iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(
            d["helpUri"],
            format!("{}/blob/main/lints/{id}.md", env!("CARGO_PKG_REPOSITORY"))
        );
        assert_eq!(d["shortDescription"]["text"], r.info().summary);
        // The rule's whole doc (lints/<id>.md) is the help shown beside an alert.
        let doc = connlint::rules::doc(id).unwrap_or(r.info().summary);
        assert_eq!(d["help"]["markdown"].as_str().unwrap(), doc);
        assert!(!d["help"]["text"].as_str().unwrap().is_empty());
        let level = match r.info().default {
            connlint::diagnostic::Severity::Error => "error",
            connlint::diagnostic::Severity::Warning => "warning",
        };
        assert_eq!(d["defaultConfiguration"]["level"], level);
    }
    for id in ["parse-error", "unused-suppression", "invalid-suppression"] {
        assert!(rules.iter().any(|d| d["id"] == id), "{id}");
    }

    let results = run["results"].as_array().unwrap();
    let summary: Vec<(String, String, String, u64)> = results
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["level"].as_str().unwrap().to_string(),
                loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                loc["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str, d: u64| (a.to_string(), b.to_string(), c.to_string(), d);
    assert_eq!(
        summary,
        [
            s("parse-error", "warning", "src/broken.rs", 2),
            s("forgotten-connection", "error", "src/lock.rs", 5),
            s("detached-connection", "warning", "src/net%20listen.rs", 6),
            s("unused-suppression", "warning", "src/net%20listen.rs", 6),
        ]
    );
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"], "ruleIndex points at the rule");
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
            "%SRCROOT%"
        );
        assert!(r["partialFingerprints"]["connlint/v1"].is_string());
    }
    // The forget: its region is the call, the acquisition is a related location.
    let forget = &results[1];
    assert_eq!(
        forget["locations"][0]["physicalLocation"]["region"],
        serde_json::json!({"startLine": 5, "startColumn": 5, "endLine": 5, "endColumn": 27})
    );
    let related = forget["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 1);
    assert_eq!(related[0]["id"], 1);
    assert_eq!(
        related[0]["physicalLocation"]["region"]["startLine"], 4,
        "{related:?}"
    );
    assert!(!related[0]["message"]["text"].as_str().unwrap().is_empty());
    assert!(forget["message"]["text"]
        .as_str()
        .unwrap()
        .contains("\nhelp: "));
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
}

/// `connlint check --format sarif` run with `args` from `dir`.
fn sarif_from(dir: &Path, args: &[&str]) -> Value {
    let o = Command::cargo_bin("connlint")
        .unwrap()
        .current_dir(dir)
        .args(["check", "--format", "sarif"])
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&o.stdout)))
}

fn uris(doc: &Value) -> Vec<(String, Value, String)> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            (
                a["uri"].as_str().unwrap().to_string(),
                a["uriBaseId"].clone(),
                r["partialFingerprints"]["connlint/v1"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn sarif_paths_are_relative_to_the_repository_root_wherever_the_check_ran() {
    let v = validator();
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("crates/db/src")).unwrap();
    std::fs::write(repo.join("crates/db/src/lock.rs"), FORGET).unwrap();
    let root_uri = format!(
        "file://{}/",
        std::fs::canonicalize(&repo).unwrap().display()
    );

    let abs = repo.join("crates/db/src");
    let runs = [
        (repo.clone(), vec!["."]),
        (repo.join("crates/db"), vec!["."]),
        (repo.join("crates/db/src"), vec!["lock.rs"]),
        (repo.join("crates"), vec!["db/src/../src"]),
        // Outside the repository, with an absolute path: the root is found from the path.
        (dir.path().to_path_buf(), vec![abs.to_str().unwrap()]),
    ];
    let mut first = None;
    for (cwd, args) in runs {
        let cwd = std::fs::canonicalize(cwd).unwrap();
        let doc = sarif_from(&cwd, &args);
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{errs:#?}");
        let run = &doc["runs"][0];
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"], root_uri,
            "from {cwd:?}"
        );
        let got = uris(&doc);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "crates/db/src/lock.rs", "from {cwd:?}");
        assert_eq!(got[0].1, "%SRCROOT%");
        // Same alert, same fingerprint, whatever the directory.
        assert_eq!(first.get_or_insert(got[0].2.clone()), &got[0].2);
    }

    // A file outside the repository keeps an absolute URI.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("lock.rs"), FORGET).unwrap();
    let file = std::fs::canonicalize(outside.path().join("lock.rs")).unwrap();
    let doc = sarif_from(&repo, &[".", file.to_str().unwrap()]);
    assert!(errors(&v, &doc).is_empty());
    let got = uris(&doc);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got
        .iter()
        .any(|(u, base, _)| u == &format!("file://{}", file.display()) && base.is_null()));
}
