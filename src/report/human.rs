use super::{count, Style};
use crate::diagnostic::{Finding, Severity};
use crate::engine::Outcome;
use crate::source::SourceFile;
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, MietteError,
    MietteSpanContents, NamedSource, Report, SourceCode, SourceSpan, SpanContents,
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
    match outcome
        .sources
        .get(&f.path)
        .and_then(|src| Window::around(f, src))
    {
        Some(window) => {
            Report::new(diag.with_labels(labels)).with_source_code(NamedSource::new(name, window))
        }
        None => {
            let at = f.primary.span.start;
            let mut help = format!("at {name}:{}:{}", at.line, at.column);
            if let Some(h) = &f.help {
                help = format!("{h}\n{help}");
            }
            Report::new(diag.with_help(help))
        }
    }
}

/// Lines shown around a label.
const CONTEXT: usize = 3;
/// A snippet bigger than this (a line of minified code) is not shown: the position is.
const MAX_WINDOW: usize = 64 * 1024;

/// The lines of a source that a finding's snippet shows, with their place in the file. miette
/// finds lines by scanning its source from the start, so handing it the whole file would cost
/// the file's length for every finding.
struct Window {
    text: String,
    /// Byte offset and 0-based line of `text` in the file.
    offset: usize,
    line: usize,
}

impl Window {
    fn around(f: &Finding, src: &SourceFile) -> Option<Window> {
        let lines = std::iter::once(&f.primary)
            .chain(&f.secondary)
            .flat_map(|l| [l.span.start.line, l.span.end.line]);
        let first = lines.clone().min()?.saturating_sub(CONTEXT).max(1);
        let last = lines.max()? + CONTEXT;
        let (start, end) = (src.line_start(first), src.line_start(last + 1));
        if end - start > MAX_WINDOW {
            return None;
        }
        Some(Window {
            text: src.text[start..end].to_string(),
            offset: start,
            line: first - 1,
        })
    }
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let local = SourceSpan::new(span.offset().saturating_sub(self.offset).into(), span.len());
        let inner = self.text.as_str().read_span(&local, before, after)?;
        Ok(Box::new(MietteSpanContents::new(
            inner.data(),
            SourceSpan::new(
                (inner.span().offset() + self.offset).into(),
                inner.span().len(),
            ),
            inner.line() + self.line,
            inner.column(),
            // miette counts these lines from the start of the source (and merges nearby
            // snippets by it): count the lines before the window too.
            inner.line_count() + self.line,
        )))
    }
}
