//! `detached-connection`: a pooled connection taken out of the pool's accounting.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::EventKind;
use crate::profile::{Kind, Role};

pub struct DetachedConnection;

static INFO: RuleInfo = RuleInfo {
    id: "detached-connection",
    family: Family::Escape,
    default: Severity::Warning,
    summary: "`detach()`/`leak()` (sqlx), `Object::take` (deadpool), `into_inner` (mobc), `PooledConn::unwrap` (mysql): the connection leaves pool accounting",
};

impl Rule for DetachedConnection {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for body in cx.bodies {
            for ev in &body.events {
                let Some(def) = ev.def().filter(|d| d.role == Role::Detach) else {
                    continue;
                };
                // The value detached: the receiver of a method, the subject of `Object::take(obj)`.
                let (call, subject) = match &ev.kind {
                    EventKind::Method(m) => (format!("{}()", cx.name(m.method)), &m.recv),
                    EventKind::Call(c) => {
                        let Some(arg) = c.args.first() else { continue };
                        (c.path[c.path.len().saturating_sub(2)..].join("::"), arg)
                    }
                    _ => continue,
                };
                // A detach call resolves only on an anchored receiver; the anchor may be the
                // library type itself or a crate-local wrapper's field.
                let kind = cx
                    .kind_of(subject)
                    .map(|h| h.kind)
                    .or_else(|| def.on.map(|t| cx.index.knowledge.ty(t).kind));
                if kind != Some(Kind::Connection) {
                    continue;
                }
                let lib = def
                    .on
                    .map(|t| {
                        format!(
                            "{} `{}`",
                            cx.index.knowledge.profile(t).name,
                            cx.index.knowledge.ty(t).name
                        )
                    })
                    .unwrap_or_else(|| "pooled connection".into());
                let consequence = match def.effect {
                    Some("capacity-lost") => "the pool keeps counting it as checked out, so the pool's capacity drops by one for good on every call",
                    _ => "the pool stops counting it and may open a replacement, so the application can hold more connections than the pool's maximum",
                };
                let mut labels = Vec::new();
                if let Some(origin) = subject.origin {
                    labels.push((origin, "the pooled connection comes from here".to_string()));
                }
                cx.report(
                    (ev.span, "detached from the pool here".to_string()),
                    format!("`{call}` takes this {lib} out of the pool's accounting: {consequence}"),
                    labels,
                    Some("let the pooled connection drop to return it to the pool; for a long-lived connection, open a dedicated one outside the pool and close it explicitly".to_string()),
                );
            }
        }
    }
}
