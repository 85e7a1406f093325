//! GitHub Actions workflow commands: one `::error` / `::warning` line per finding, which the
//! runner turns into annotations on the pull request's diff.
//! <https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions>

use crate::diagnostic::{Finding, Severity};
use std::fmt::Write;

/// Escapes a command's message (`%`, CR, LF).
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property's value (also `:` and `,`).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let (s, e) = (f.primary.span.start, f.primary.span.end);
        let mut message = format!("{} [{}]", f.message, f.rule);
        if let Some(h) = &f.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        let _ = write!(
            out,
            "::{command} file={},line={},col={}",
            property(&f.path.display().to_string().replace('\\', "/")),
            s.line,
            s.column,
        );
        if e.line > s.line || (e.line == s.line && e.column > s.column) {
            let _ = write!(out, ",endLine={},endColumn={}", e.line, e.column);
        }
        let _ = writeln!(
            out,
            ",title={}::{}",
            property(&format!("connlint: {}", f.rule)),
            data(&message)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
