//! The README's recipes, checked against the real tool: the configuration examples (README
//! and every rule doc) load, and the editor patterns (VS Code problem matcher, nvim-lint Lua
//! pattern) match `--format short` output with the right groups.

use assert_cmd::Command;
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
    Ok(Object::take(client))
}
";

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The text of a README section (`## title` to the next `## `).
fn section(text: &str, title: &str) -> String {
    let start = text
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("README has no `## {title}` section"));
    let rest = &text[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

/// Fenced code blocks of a language.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&fence) {
        let body = &rest[i + fence.len()..];
        let end = body.find("```").unwrap();
        out.push(body[..end].to_string());
        rest = &body[end..];
    }
    out
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn short_output() -> String {
    let dir = project(&[("src/lock.rs", FORGET), ("src/net listen.rs", DETACH)]);
    let o = Command::cargo_bin("connlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "--format", "short", "--quiet"])
        .output()
        .unwrap();
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
    out
}

/// Checks that `re` parses both short lines into (file, line, column, severity, code, rest).
fn check_groups(re: &regex::Regex, out: &str, names: [&str; 6]) {
    let mut got = Vec::new();
    for line in out.lines() {
        let c = re
            .captures(line)
            .unwrap_or_else(|| panic!("`{re}` does not match `{line}`"));
        let g = |n: &str| -> String {
            let i = names.iter().position(|x| *x == n).unwrap() + 1;
            c.get(i).unwrap().as_str().to_string()
        };
        assert!(!g("message").is_empty());
        got.push((g("file"), g("line"), g("column"), g("severity"), g("code")));
    }
    let s = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        (a.into(), b.into(), c.into(), d.into(), e.into())
    };
    assert_eq!(
        got,
        vec![
            s("src/lock.rs", "5", "5", "error", "forgotten-connection"),
            s(
                "src/net listen.rs",
                "6",
                "8",
                "warning",
                "detached-connection"
            ),
        ]
    );
}

#[test]
fn vscode_problem_matcher_parses_short_output() {
    let editors = section(&readme(), "Editors");
    let json = blocks(&editors, "json");
    let tasks: serde_json::Value = serde_json::from_str(&json[0]).expect("tasks.json is JSON");
    let matcher = &tasks["tasks"][0]["problemMatcher"];
    assert_eq!(
        tasks["tasks"][0]["command"],
        "connlint check --format short --quiet"
    );
    let p = &matcher["pattern"];
    let re = regex::Regex::new(p["regexp"].as_str().unwrap()).unwrap();
    let mut names = [""; 6];
    for (key, name) in [
        ("file", "file"),
        ("line", "line"),
        ("column", "column"),
        ("severity", "severity"),
        ("code", "code"),
        ("message", "message"),
    ] {
        names[p[key].as_u64().unwrap() as usize - 1] = name;
    }
    check_groups(&re, &short_output(), names);
    // The Zed task is JSON too.
    let zed: serde_json::Value = serde_json::from_str(&json[1]).expect("Zed tasks are JSON");
    assert_eq!(zed[0]["command"], "connlint");
}

/// Lua patterns use `%` escapes; this translates the subset the README uses.
fn lua_to_regex(p: &str) -> String {
    p.replace("%d", r"\d")
        .replace("%a", "[A-Za-z]")
        .replace("%w", "[A-Za-z0-9]")
        .replace("%[", r"\[")
        .replace("%]", r"\]")
        .replace("[[A-Za-z0-9]-]", "[A-Za-z0-9-]")
}

#[test]
fn nvim_lint_pattern_parses_short_output() {
    let editors = section(&readme(), "Editors");
    let lua = &blocks(&editors, "lua")[0];
    let pattern = lua
        .lines()
        .find(|l| l.trim_start().starts_with("\"^"))
        .expect("the from_pattern pattern")
        .trim()
        .trim_end_matches(',')
        .trim_matches('"')
        .to_string();
    let groups_line = lua.lines().find(|l| l.contains("\"lnum\"")).unwrap();
    let groups: Vec<&str> = groups_line.split('"').skip(1).step_by(2).collect();
    assert_eq!(
        groups,
        ["file", "lnum", "col", "severity", "code", "message"]
    );
    let re = regex::Regex::new(&lua_to_regex(&pattern)).unwrap();
    check_groups(
        &re,
        &short_output(),
        ["file", "line", "column", "severity", "code", "message"],
    );
    assert!(lua.contains("\"--stdin-filename\""));
}

/// Every `toml` block of the README's Configuration section and of each rule doc's
/// Configuration section is a configuration connlint accepts.
#[test]
fn configuration_examples_load() {
    let mut examples = Vec::new();
    for b in blocks(&section(&readme(), "Configuration"), "toml") {
        examples.push(("README".to_string(), b));
    }
    for r in connlint::rules::all() {
        let id = r.info().id;
        let Some(doc) = connlint::rules::doc(id) else {
            continue;
        };
        let doc = format!("\n{doc}");
        if let Some(i) = doc.find("\n## Configuration\n") {
            for b in blocks(&doc[i..], "toml") {
                examples.push((format!("lints/{id}.md"), b));
            }
        }
        assert!(
            doc.contains(&format!("// connlint: allow({id}) ")),
            "lints/{id}.md shows how to suppress it"
        );
    }
    assert!(examples.len() >= 3, "{examples:?}");
    for (from, text) in examples {
        let dir = project(&[("src/lib.rs", "pub fn f() {}\n"), ("connlint.toml", &text)]);
        let o = Command::cargo_bin("connlint")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", "--color", "never"])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{from}:\n{text}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The language-server set-ups start `connlint server`, in each editor's documented format.
#[test]
fn language_server_setups_start_connlint_server() {
    let lsp = section(&readme(), "Language server");
    // VS Code, Generic LSP Client (v2).
    let vscode: serde_json::Value =
        serde_json::from_str(&blocks(&lsp, "json")[0]).expect("settings.json is JSON");
    assert_eq!(vscode["glspc.server.command"], "connlint");
    assert_eq!(
        vscode["glspc.server.commandArguments"],
        serde_json::json!(["server"])
    );
    assert_eq!(
        vscode["glspc.server.languageId"],
        serde_json::json!(["rust"])
    );
    // Neovim, both forms.
    let lua = blocks(&lsp, "lua");
    assert_eq!(lua.len(), 2);
    for b in &lua {
        assert!(b.contains(r#"cmd = { "connlint", "server" }"#), "{b}");
    }
    assert!(lua[0].contains("vim.lsp.enable(\"connlint\")"));
    assert!(lua[1].contains("vim.lsp.start("));
    // Helix: the server is defined and added to Rust's list.
    let toml_blocks = blocks(&lsp, "toml");
    let helix: toml::Table = toml::from_str(&toml_blocks[0]).expect("languages.toml is TOML");
    let server = &helix["language-server"]["connlint"];
    assert_eq!(server["command"].as_str(), Some("connlint"));
    assert_eq!(server["args"], toml::Value::Array(vec!["server".into()]));
    let rust = &helix["language"].as_array().unwrap()[0];
    assert_eq!(rust["name"].as_str(), Some("rust"));
    let servers = rust["language-servers"].as_array().unwrap();
    assert!(servers.contains(&"connlint".into()), "{servers:?}");
    // Zed: an extension that provides the server for Rust and runs `connlint server`.
    let ext: toml::Table = toml::from_str(&toml_blocks[1]).expect("extension.toml is TOML");
    assert_eq!(
        ext["language_servers"]["connlint"]["languages"],
        toml::Value::Array(vec!["Rust".into()])
    );
    let manifest: toml::Table = toml::from_str(&toml_blocks[2]).expect("Cargo.toml is TOML");
    assert!(manifest["dependencies"].get("zed_extension_api").is_some());
    let rust_code = &blocks(&lsp, "rust")[0];
    assert!(rust_code.contains(r#"args: vec!["server".into()]"#));
    assert!(rust_code.contains(r#".which("connlint")"#));
}
