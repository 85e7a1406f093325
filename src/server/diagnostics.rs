//! Findings as LSP diagnostics: the primary label's range, the rule id as `code` with a link to
//! its documentation, the help line after the message, the secondary labels as related
//! information, and the severity the configuration gives.

use super::documents::Lines;
use crate::diagnostic::{Finding, Severity, Span};
use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Range, Uri,
};
use std::str::FromStr;

/// What `source` says on every diagnostic.
pub const SOURCE: &str = "connlint";

/// `f` (a finding in the buffer of `lines`, published under `uri`) as a diagnostic.
pub fn diagnostic(f: &Finding, lines: &Lines<'_>, uri: &Uri) -> Diagnostic {
    let mut message = f.message.clone();
    if let Some(help) = &f.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = f
        .secondary
        .iter()
        .map(|l| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), range(&l.span, lines)),
            message: l.message.clone(),
        })
        .collect();
    Diagnostic {
        range: range(&f.primary.span, lines),
        severity: Some(match f.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(f.rule.to_string())),
        code_description: Uri::from_str(&crate::links::rule_doc(f.rule))
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// A span as an LSP range; an empty or inverted span becomes at least one character wide, so
/// that editors draw it.
pub fn range(span: &Span, lines: &Lines<'_>) -> Range {
    let start = lines.position(span.start.line, span.start.column);
    let mut end = lines.position(span.end.line, span.end.column);
    if end <= start {
        end = lines.position(span.start.line, span.start.column + 1);
    }
    Range::new(start, end.max(start))
}

/// The rule a diagnostic of ours is about.
pub fn rule_of(d: &Diagnostic) -> Option<&str> {
    if d.source.as_deref() != Some(SOURCE) {
        return None;
    }
    match &d.code {
        Some(NumberOrString::String(id)) => Some(id),
        _ => None,
    }
}
