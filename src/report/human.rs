use super::{count, Style};
use crate::diagnostic::{Finding, Severity};
use crate::engine::Outcome;
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};
use std::fmt::Write;

pub fn render(outcome: &Outcome, style: &Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for f in &outcome.findings {
        let report = to_report(f, outcome);
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            // Rendering only fails on a formatter error; fall back to the one-line form.
            let _ = writeln!(out, "{}", super::short::render(std::slice::from_ref(f)));
        }
        out.push('\n');
    }
    if !style.quiet {
        let errors = count(&outcome.findings, Severity::Error);
        let warnings = count(&outcome.findings, Severity::Warning);
        let _ = write!(
            out,
            "connlint: {} in {} checked",
            summary(errors, warnings),
            plural(outcome.files_checked, "file")
        );
        let h = style.hidden;
        let mut notes = Vec::new();
        if h.suppressed > 0 {
            notes.push(format!("{} suppressed", h.suppressed));
        }
        if h.baselined > 0 {
            notes.push(format!("{} in the baseline", h.baselined));
        }
        if h.stale > 0 {
            notes.push(format!(
                "{} baselined fixed: rewrite the baseline with --write-baseline",
                h.stale
            ));
        }
        if notes.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, " ({})", notes.join(", "));
        }
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn summary(errors: usize, warnings: usize) -> String {
    match (errors, warnings) {
        (0, 0) => "no findings".into(),
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

fn to_report(f: &Finding, outcome: &Outcome) -> Report {
    let span = |s: &crate::diagnostic::Span| (s.bytes.0, s.bytes.1 - s.bytes.0);
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(f.primary.message.clone()),
        span(&f.primary.span),
    )];
    labels.extend(
        f.secondary
            .iter()
            .map(|l| LabeledSpan::new_with_span(Some(l.message.clone()), span(&l.span))),
    );
    let severity = match f.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    let mut diag = MietteDiagnostic::new(f.message.clone())
        .with_code(f.rule)
        .with_severity(severity);
    if let Some(h) = &f.help {
        diag = diag.with_help(h.clone());
    }
    let name = f.path.display().to_string();
    match outcome.sources.get(&f.path) {
        Some(src) => Report::new(diag.with_labels(labels))
            .with_source_code(NamedSource::new(name, src.text.clone())),
        None => Report::new(diag.with_help(format!("in {name}"))),
    }
}
