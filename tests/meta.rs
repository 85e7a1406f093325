//! Keeps the catalogue in step: every rule has a doc and a fixture folder and nothing else
//! does; every doc has the sections users expect and its example triggers its rule; the
//! embedded profiles load.

use connlint::engine::{self, Input};
use connlint::profile::Knowledge;
use connlint::rules;
use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn registry() -> BTreeSet<String> {
    rules::all()
        .iter()
        .map(|r| r.info().id.to_string())
        .collect()
}

fn stems(dir: &Path, want_dirs: bool, ext: Option<&str>) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir() == want_dirs && ext.is_none_or(|x| p.extension().is_some_and(|e| e == x))
        })
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn rule_ids_are_unique_and_kebab_case() {
    let ids: Vec<&str> = rules::all().iter().map(|r| r.info().id).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "duplicate rule ids in {ids:?}");
    for id in ids {
        assert!(
            id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{id} is not kebab-case"
        );
    }
}

#[test]
fn every_rule_has_a_doc_and_every_doc_a_rule() {
    assert_eq!(registry(), stems(&root().join("lints"), false, Some("md")));
    assert_eq!(
        registry(),
        rules::documented_ids().map(String::from).collect()
    );
}

#[test]
fn every_rule_has_fixtures_and_every_fixture_folder_a_rule() {
    assert_eq!(registry(), stems(&root().join("fixtures"), true, None));
    for id in registry() {
        let dir = root().join("fixtures").join(&id);
        let mut cases = stems(&dir, false, Some("rs"));
        cases.extend(stems(&dir, true, None));
        assert!(
            cases.iter().any(|c| c.starts_with("flag")),
            "{id}: no fixture it must flag"
        );
        assert!(
            cases.iter().any(|c| c.starts_with("ok")),
            "{id}: no fixture it must not flag"
        );
    }
}

#[test]
fn every_rule_file_matches_its_id() {
    let files = stems(&root().join("src/rules"), false, Some("rs"));
    let expected: BTreeSet<String> = registry()
        .iter()
        .map(|id| id.replace('-', "_"))
        .chain(["mod".to_string()])
        .collect();
    assert_eq!(files, expected);
}

/// Checks a doc's code with the `connlint.toml` shown in the doc's first ```toml block, if any
/// (`release-skipped` needs its `[[release]]` pairs).
fn check_with_doc_config(doc: &str, input: Input) -> engine::Outcome {
    let toml = doc.find("```toml\n").map(|s| {
        let body = &doc[s + 8..];
        &body[..body.find("```").unwrap()]
    });
    let Some(toml) = toml else {
        return engine::check(&[input], &|_| true);
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("connlint.toml");
    std::fs::write(&path, toml).unwrap();
    let config = connlint::config::Config::load(&path)
        .unwrap_or_else(|e| panic!("doc config: {}", e.render(false)));
    let settings = engine::Settings {
        knowledge: config
            .knowledge()
            .unwrap_or_else(|e| panic!("doc config: {}", e.render(false))),
        enabled: &|_| true,
        release: &config.release,
        timeouts: engine::DEFAULT_TIMEOUTS,
    };
    engine::check_with(&[input], &settings)
}

fn section<'a>(doc: &'a str, title: &str) -> Option<&'a str> {
    let start = doc.find(&format!("\n## {title}\n"))? + title.len() + 5;
    let rest = &doc[start..];
    Some(rest.find("\n## ").map_or(rest, |end| &rest[..end]))
}

fn first_rust_block(text: &str) -> Option<&str> {
    let start = text.find("```rust\n")? + 8;
    let len = text[start..].find("```")?;
    Some(&text[start..start + len])
}

#[test]
fn docs_have_the_sections_and_their_examples_trigger_the_rule() {
    for id in registry() {
        let doc = rules::doc(&id).unwrap();
        assert!(
            doc.starts_with(&format!("# {id}\n")),
            "{id}: doc must start with its id as title"
        );
        for title in [
            "What it finds",
            "Why it matters",
            "Example",
            "Fix",
            "Configuration",
        ] {
            assert!(
                section(doc, title).is_some(),
                "{id}: doc lacks `## {title}`"
            );
        }
        let example = first_rust_block(section(doc, "Example").unwrap())
            .unwrap_or_else(|| panic!("{id}: no rust example"));
        let input = Input {
            path: format!("{id}-example.rs").into(),
            text: Some(example.to_string()),
        };
        let outcome = check_with_doc_config(section(doc, "Example").unwrap(), input);
        let fired: Vec<&str> = outcome.findings.iter().map(|f| f.rule).collect();
        assert!(
            fired.contains(&id.as_str()),
            "{id}: the doc example does not trigger the rule (got {fired:?})"
        );
        if let Some(fix) = first_rust_block(section(doc, "Fix").unwrap()) {
            let input = Input {
                path: format!("{id}-fix.rs").into(),
                text: Some(fix.to_string()),
            };
            let outcome = check_with_doc_config(section(doc, "Example").unwrap(), input);
            let fired: Vec<&str> = outcome.findings.iter().map(|f| f.rule).collect();
            assert!(
                !fired.contains(&id.as_str()),
                "{id}: the doc's fixed code still triggers the rule"
            );
        }
    }
}

#[test]
fn builtin_profiles_load_and_cover_the_promised_crates() {
    let k = Knowledge::builtin();
    let roots: BTreeSet<&str> = k
        .profiles
        .iter()
        .flat_map(|p| p.roots.iter().map(String::as_str))
        .collect();
    for krate in [
        "sqlx",
        "diesel",
        "diesel_async",
        "deadpool",
        "deadpool_postgres",
        "deadpool_redis",
        "deadpool_diesel",
        "deadpool_lapin",
        "bb8",
        "mobc",
        "r2d2",
        "r2d2_postgres",
        "tokio_postgres",
        "postgres",
        "redis",
        "mysql_async",
        "mysql",
        "sea_orm",
        "mongodb",
        "rusqlite",
        "tiberius",
        "lapin",
    ] {
        assert!(roots.contains(krate), "no profile covers `{krate}`");
    }
    for p in &k.profiles {
        assert!(!p.sources.is_empty(), "profile {} names no sources", p.name);
        for t in &p.types {
            if t.kind == connlint::profile::Kind::Builder {
                assert!(
                    !t.options.is_empty(),
                    "{}: builder {} lists no options",
                    p.name,
                    t.name
                );
            }
        }
    }
}

#[test]
fn a_profile_with_an_unknown_key_is_rejected() {
    let bad = r#"name = "x"
roots = ["x"]
versions = "1"
[[types]]
name = "Pool"
kind = "pool"
colour = "blue"
"#;
    let err = Knowledge::load([("x".to_string(), bad.to_string())])
        .err()
        .expect("rejected");
    assert!(err.to_string().contains("colour"), "{err}");
}

#[test]
fn a_method_on_an_undeclared_type_is_rejected() {
    let bad = r#"name = "x"
roots = ["x"]
versions = "1"
[[methods]]
on = ["Nope"]
names = ["get"]
role = "acquire"
"#;
    let err = Knowledge::load([("x".to_string(), bad.to_string())])
        .err()
        .expect("rejected");
    assert!(err.to_string().contains("Nope"), "{err}");
}
