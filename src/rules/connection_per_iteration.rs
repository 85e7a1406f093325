//! `connection-per-iteration`: a raw (unpooled) connection opened inside a loop.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{DropHow, EventKind};
use crate::model::Span;
use crate::profile::Role;

pub struct ConnectionPerIteration;

static INFO: RuleInfo = RuleInfo {
    id: "connection-per-iteration",
    family: Family::Lifecycle,
    default: Severity::Warning,
    summary: "a raw (unpooled) connection opened inside a loop",
};

impl Rule for ConnectionPerIteration {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for body in cx.bodies {
            // Connections that end inside the loop they were opened in, by where they were
            // opened. One that is returned, breaks out of the loop or is kept in a binding
            // declared outside it (a retry loop, a reconnect-when-closed loop) is not a
            // connection per iteration.
            let ended_in_loop: Vec<(Span, Span)> = body
                .events
                .iter()
                .filter_map(|ev| match &ev.kind {
                    EventKind::Dropped { held, how, .. } if *how != DropHow::Return => {
                        Some((held.origin, ev.ctx.loop_at?))
                    }
                    _ => None,
                })
                .collect();
            for ev in &body.events {
                let (Some(Role::Connect), Some(lp)) = (ev.role(), ev.ctx.loop_at) else {
                    continue;
                };
                // Values the flow does not follow (shared clients) cannot be seen to end.
                let followed = ev
                    .result()
                    .and_then(|r| cx.index.value_held(&r.ty))
                    .is_some_and(|h| h.kind.holds_connection());
                if followed
                    && !ended_in_loop.iter().any(|(origin, l)| {
                        *l == lp && origin.lo <= ev.span.hi && ev.span.lo <= origin.hi
                    })
                {
                    continue;
                }
                // A retry loop (`match connect().await { Ok(c) => { ..; break } Err(_) =>
                // sleep }`) connects again only after an attempt failed.
                if ev.ctx.retried_until_success(ev.span) {
                    continue;
                }
                let lib = ev
                    .def()
                    .and_then(|d| d.on)
                    .map(|t| format!("{} ", cx.index.knowledge.profile(t).name))
                    .unwrap_or_default();
                cx.report(
                    (ev.span, "a new connection every time round".to_string()),
                    format!("a {lib}connection is opened on every iteration: each one costs a TCP and auth handshake and a server slot, and a busy loop can exhaust the database's connection limit"),
                    vec![(lp, "the loop".to_string())],
                    Some("open one connection before the loop and reuse it, or take connections from a pool".to_string()),
                );
            }
        }
    }
}
