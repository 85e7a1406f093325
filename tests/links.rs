//! The project's home URL lives in one place, the `repository` field of Cargo.toml: the
//! install lines and pre-commit examples in the docs name exactly it, and the code never spells
//! it out (it uses `env!("CARGO_PKG_REPOSITORY")`, see src/links.rs).

use std::path::Path;

const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// The URLs a user copies to install connlint or to use its hooks: `--git URL` and
/// `repo: URL`.
fn project_urls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[0] == "--git" || pair[0] == "repo:" {
                out.push(pair[1].to_string());
            }
        }
    }
    out
}

#[test]
fn cargo_toml_holds_the_repository_url() {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    let repo = manifest["package"]["repository"].as_str().unwrap();
    assert_eq!(repo, REPOSITORY);
    assert!(
        repo.starts_with("https://") && !repo.ends_with('/'),
        "{repo}"
    );
}

#[test]
fn readme_and_hook_examples_name_the_repository() {
    let readme = project_urls(&read("README.md"));
    // Install without a checkout, GitHub Actions, GitLab CI, the pre-commit example.
    assert!(readme.len() >= 4, "{readme:?}");
    let hooks = project_urls(&read(".pre-commit-hooks.yaml"));
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    for url in readme.iter().chain(&hooks) {
        assert_eq!(
            url, REPOSITORY,
            "a copied URL differs from Cargo.toml's repository"
        );
    }
    // Any other mention of the project's own repository is a link below it.
    let project = REPOSITORY.trim_start_matches("https://");
    let text = read("README.md");
    for (at, _) in text.match_indices(project) {
        assert!(
            text[..at].ends_with("https://"),
            "README.md mentions {project} without https:// at byte {at}"
        );
    }
}

#[test]
fn source_code_derives_links_from_cargo_toml() {
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                files += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    !text.contains(REPOSITORY),
                    "{} spells out {REPOSITORY}; use connlint::links",
                    path.display()
                );
            }
        }
    }
    assert!(files > 10);
    assert_eq!(
        connlint::links::rule_doc("held-across-await"),
        format!("{REPOSITORY}/blob/main/lints/held-across-await.md")
    );
}
