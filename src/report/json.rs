use super::count;
use crate::diagnostic::{Finding, Label, Pos, Severity};
use crate::engine::Outcome;
use serde::Serialize;

/// The JSON schema version; bump it on any incompatible change.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    diagnostics: Vec<Diagnostic<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Diagnostic<'a> {
    rule: &'a str,
    severity: Severity,
    message: &'a str,
    path: String,
    span: JsonSpan,
    labels: Vec<JsonLabel<'a>>,
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSpan {
    start: Pos,
    end: Pos,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    message: &'a str,
    span: JsonSpan,
}

#[derive(Serialize)]
struct Summary {
    files_checked: usize,
    findings: usize,
    errors: usize,
    warnings: usize,
}

fn label(l: &Label) -> JsonLabel<'_> {
    JsonLabel {
        message: &l.message,
        span: JsonSpan {
            start: l.span.start,
            end: l.span.end,
        },
    }
}

fn diagnostic(f: &Finding) -> Diagnostic<'_> {
    Diagnostic {
        rule: f.rule,
        severity: f.severity,
        message: &f.message,
        path: f.path.display().to_string(),
        span: JsonSpan {
            start: f.primary.span.start,
            end: f.primary.span.end,
        },
        labels: std::iter::once(&f.primary)
            .chain(&f.secondary)
            .map(label)
            .collect(),
        help: f.help.as_deref(),
    }
}

pub fn render(outcome: &Outcome) -> String {
    let doc = Document {
        version: VERSION,
        diagnostics: outcome.findings.iter().map(diagnostic).collect(),
        summary: Summary {
            files_checked: outcome.files_checked,
            findings: outcome.findings.len(),
            errors: count(&outcome.findings, Severity::Error),
            warnings: count(&outcome.findings, Severity::Warning),
        },
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("findings serialize");
    s.push('\n');
    s
}
