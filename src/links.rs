//! The project's home on the web, in one place: the `repository` field of Cargo.toml. Every link
//! connlint prints (SARIF `informationUri` and help URIs, the language server's rule-doc links)
//! is derived from it, so moving the project changes one line.

/// The `repository` field of Cargo.toml.
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// Where a rule's documentation (`lints/<id>.md`) lives online; connlint's own diagnostics
/// (`parse-error`, the suppression checks) are documented in the README.
pub fn rule_doc(id: &str) -> String {
    if crate::config::DIAGNOSTIC_IDS.contains(&id) {
        format!("{REPOSITORY}/blob/main/README.md#suppressions-and-diagnostics")
    } else {
        format!("{REPOSITORY}/blob/main/lints/{id}.md")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_start_at_the_repository() {
        assert!(super::REPOSITORY.starts_with("https://"));
        assert_eq!(
            super::rule_doc("nested-acquire"),
            format!("{}/blob/main/lints/nested-acquire.md", super::REPOSITORY)
        );
        assert!(super::rule_doc("parse-error").ends_with("README.md#suppressions-and-diagnostics"));
    }
}
