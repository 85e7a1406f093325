use crate::diagnostic::Finding;
use std::fmt::Write;

/// `path:line:col: level[rule-id]: message`: the shape editors' problem matchers and
/// pre-commit output expect.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let p = f.primary.span.start;
        let _ = writeln!(
            out,
            "{}:{}:{}: {}[{}]: {}",
            f.path.display(),
            p.line,
            p.column,
            f.severity.as_str(),
            f.rule,
            f.message
        );
    }
    out
}
