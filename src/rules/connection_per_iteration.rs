//! `connection-per-iteration`: a raw (unpooled) connection opened inside a loop.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
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
            for ev in &body.events {
                let (Some(Role::Connect), Some(lp)) = (ev.role(), ev.ctx.loop_at) else {
                    continue;
                };
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
