//! Reporters: the same sorted findings as a miette report for people, one line per finding for
//! editors and hooks, or JSON for tools.

use crate::diagnostic::{Finding, Severity};
use crate::engine::Outcome;

mod human;
mod json;
mod short;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Code snippets with labels and help (miette)
    Human,
    /// `path:line:col: level[rule-id]: message`, one per line
    Short,
    /// One JSON document (schema in the README)
    Json,
}

pub struct Style {
    pub color: bool,
    pub quiet: bool,
}

/// Renders a run's findings in the chosen format.
pub fn render(format: Format, outcome: &Outcome, style: &Style) -> String {
    match format {
        Format::Human => human::render(outcome, style),
        Format::Short => short::render(&outcome.findings),
        Format::Json => json::render(outcome),
    }
}

pub fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}
