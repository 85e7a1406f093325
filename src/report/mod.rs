//! Reporters: the same sorted findings as a miette report for people, one line per finding for
//! editors and hooks, or JSON for tools.

use crate::diagnostic::{Finding, Severity};
use crate::engine::Outcome;

mod github;
mod human;
mod json;
pub mod sarif;
mod short;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Code snippets with labels and help (miette)
    Human,
    /// `path:line:col: level[rule-id]: message`, one per line
    Short,
    /// One JSON document (schema in the README)
    Json,
    /// SARIF 2.1.0, for code scanning uploads
    Sarif,
    /// GitHub Actions workflow commands (`::error file=..,line=..::`), for annotations
    Github,
}

pub struct Style {
    pub color: bool,
    pub quiet: bool,
    /// What the summary line adds: findings hidden by suppressions and by the baseline.
    pub hidden: Hidden,
    /// The repository root (absolute) that SARIF paths are relative to (`%SRCROOT%`); the
    /// current directory when `None`.
    pub srcroot: Option<std::path::PathBuf>,
}

/// Findings not shown, counted for the human summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Hidden {
    pub suppressed: usize,
    pub baselined: usize,
    /// Baseline entries that matched nothing (fixed findings).
    pub stale: usize,
}

/// Renders a run's findings in the chosen format.
pub fn render(format: Format, outcome: &Outcome, style: &Style) -> String {
    match format {
        Format::Human => human::render(outcome, style),
        Format::Short => short::render(&outcome.findings),
        Format::Json => json::render(outcome),
        Format::Sarif => sarif::render(outcome, style.srcroot.as_deref()),
        Format::Github => github::render(&outcome.findings),
    }
}

pub fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}
