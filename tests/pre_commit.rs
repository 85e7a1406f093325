//! The pre-commit hooks (.pre-commit-hooks.yaml), run by the real `pre-commit` (from PyPI) in a
//! throwaway git repository that uses a snapshot of this working tree as its hook repository:
//! the `connlint` hook (language: rust, built by pre-commit with cargo) blocks a commit that
//! stages a leak and lets clean code through; `connlint-system` does the same with the binary
//! this test suite built.
//!
//! Without `pre-commit` on PATH the test says that it was skipped and why, and passes, so
//! `cargo test --locked` works on a fresh machine. `.ci/run` installs pre-commit and sets
//! `CONNLINT_REQUIRE_PRECOMMIT=1`, which turns a missing `pre-commit` into a failure: CI always
//! runs the real hook.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LEAK: &str = "\
use sqlx::PgPool;

pub async fn lock(pool: &PgPool) -> Result<(), sqlx::Error> {
    let conn = pool.acquire().await?;
    std::mem::forget(conn);
    Ok(())
}
";

const CLEAN: &str = "\
use sqlx::PgPool;

pub async fn lock(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query(\"SELECT pg_advisory_xact_lock(42)\").execute(&mut *conn).await?;
    Ok(())
}
";

/// Set by `.ci/run`: a missing `pre-commit` fails the test instead of skipping it.
const REQUIRE: &str = "CONNLINT_REQUIRE_PRECOMMIT";

fn pre_commit_available() -> bool {
    let found = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    let why = "`pre-commit` is not on PATH (install it with `python3 -m pip install pre-commit`)";
    if std::env::var(REQUIRE).is_ok_and(|v| v == "1") {
        panic!("{why}, and {REQUIRE}=1 requires the real hook to run");
    }
    // libtest captures `eprintln!` of a passing test; a direct write to stderr is shown.
    let _ = writeln!(
        std::io::stderr(),
        "\nSKIPPED tests/pre_commit.rs: {why}; the hook was not tested \
         (set {REQUIRE}=1 to make this a failure, as .ci/run does)\n"
    );
    false
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let o = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "connlint test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "connlint test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    o
}

fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A git repository holding this working tree's files (tracked and untracked, not ignored), so
/// the hooks are tested as they are now, committed or not. Returns its HEAD.
fn snapshot_of_this_repo(dest: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let list = Command::new("git")
        .current_dir(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .expect("git runs");
    ok(&list, "git ls-files");
    for rel in list.stdout.split(|&b| b == 0).filter(|s| !s.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).unwrap());
        if rel.starts_with("target") {
            continue;
        }
        let from = root.join(rel);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let to = dest.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    ok(&git(dest, &["init", "-q"]), "git init");
    ok(&git(dest, &["add", "-A"]), "git add");
    ok(
        &git(dest, &["commit", "-q", "-m", "snapshot"]),
        "git commit",
    );
    let head = git(dest, &["rev-parse", "HEAD"]);
    String::from_utf8(head.stdout).unwrap().trim().to_string()
}

/// A user's project using hook `id` from `hook_repo` at `rev`, with pre-commit installed.
fn user_project(dir: &Path, hook_repo: &Path, rev: &str, id: &str) {
    ok(&git(dir, &["init", "-q"]), "git init");
    std::fs::write(
        dir.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {id}\n",
            hook_repo.display()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    ok(&git(dir, &["add", "-A"]), "git add");
    ok(&git(dir, &["commit", "-q", "-m", "start"]), "git commit");
}

/// Where pre-commit keeps its environments and cargo its build, under this crate's target
/// directory so that later runs rebuild incrementally.
fn cache(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join(name)
}

fn pre_commit(dir: &Path, args: &[&str], path_prefix: Option<&Path>) -> Output {
    let mut cmd = Command::new("pre-commit");
    cmd.current_dir(dir)
        .args(args)
        .env("PRE_COMMIT_HOME", cache("pre-commit-home"))
        .env("CARGO_TARGET_DIR", cache("pre-commit-build"))
        // The hook's `cargo install` builds connlint in release mode; without optimisation it
        // builds in a fraction of the time, and the hook's behaviour is the same.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
        .env("GIT_AUTHOR_NAME", "connlint test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "connlint test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("NO_COLOR", "1");
    if let Some(p) = path_prefix {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut parts = vec![p.to_path_buf()];
        parts.extend(std::env::split_paths(&path));
        cmd.env("PATH", std::env::join_paths(parts).unwrap());
    }
    cmd.output().expect("pre-commit runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Stages a leak: the hook fails and names it; `git commit` through the installed hook is
/// refused. Then stages the fix: the hook passes and the commit goes through.
fn leak_blocked_then_fix_passes(dir: &Path, path_prefix: Option<&Path>) {
    std::fs::write(dir.join("src/lock.rs"), LEAK).unwrap();
    ok(&git(dir, &["add", "src/lock.rs"]), "git add");
    let o = pre_commit(dir, &["run"], path_prefix);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "the hook fails on a leak:\n{out}");
    assert!(
        out.contains("src/lock.rs:5:5: error[forgotten-connection]"),
        "{out}"
    );

    ok(
        &pre_commit(dir, &["install"], path_prefix),
        "pre-commit install",
    );
    let mut commit = Command::new("git");
    commit
        .current_dir(dir)
        .args(["commit", "-q", "-m", "leak"])
        .env("PRE_COMMIT_HOME", cache("pre-commit-home"))
        .env("CARGO_TARGET_DIR", cache("pre-commit-build"))
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid");
    if let Some(p) = path_prefix {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut parts = vec![p.to_path_buf()];
        parts.extend(std::env::split_paths(&path));
        commit.env("PATH", std::env::join_paths(parts).unwrap());
    }
    let o = commit.output().unwrap();
    assert!(!o.status.success(), "the commit is refused:\n{}", text(&o));

    std::fs::write(dir.join("src/lock.rs"), CLEAN).unwrap();
    ok(&git(dir, &["add", "src/lock.rs"]), "git add");
    let o = pre_commit(dir, &["run"], path_prefix);
    assert_eq!(o.status.code(), Some(0), "clean code passes:\n{}", text(&o));
    let o = commit.output().unwrap();
    assert!(o.status.success(), "the commit goes through:\n{}", text(&o));
}

#[test]
fn pre_commit_hooks_block_a_staged_leak_and_pass_clean_code() {
    if !pre_commit_available() {
        return;
    }
    let hook_repo = tempfile::tempdir().unwrap();
    let rev = snapshot_of_this_repo(hook_repo.path());

    // `connlint`: pre-commit builds the hook from the repository (language: rust).
    let project = tempfile::tempdir().unwrap();
    user_project(project.path(), hook_repo.path(), &rev, "connlint");
    leak_blocked_then_fix_passes(project.path(), None);

    // `connlint-system`: the connlint found on PATH (here, the one cargo built for the tests).
    let bin = Path::new(env!("CARGO_BIN_EXE_connlint")).parent().unwrap();
    let project = tempfile::tempdir().unwrap();
    user_project(project.path(), hook_repo.path(), &rev, "connlint-system");
    leak_blocked_then_fix_passes(project.path(), Some(bin));
}
