//! `unpolled-connection-task`: the `tokio_postgres` connection future is never driven.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{DropHow, EventKind};
use crate::profile::Kind;

pub struct UnpolledConnectionTask;

static INFO: RuleInfo = RuleInfo {
    id: "unpolled-connection-task",
    family: Family::Close,
    default: Severity::Error,
    summary: "the `tokio_postgres` connection future bound to `_`/unused, never spawned or awaited",
};

impl Rule for UnpolledConnectionTask {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for body in cx.bodies {
            for ev in &body.events {
                let EventKind::Dropped { held, how, .. } = &ev.kind else {
                    continue;
                };
                if held.held.kind != Kind::Driver || *how == DropHow::Closed {
                    continue;
                }
                let label = match (how, held.name.map(|n| cx.name(n))) {
                    (DropHow::Discard, _) => {
                        "`_` drops the connection task here, unpolled".to_string()
                    }
                    (DropHow::Explicit, _) => "dropped here before it was ever polled".to_string(),
                    (_, Some(n)) => format!("`{n}` is never spawned or awaited: dropped here"),
                    _ => "dropped here, never polled".to_string(),
                };
                cx.report(
                    (held.origin, "the client's connection task is created here".to_string()),
                    "the `Connection` half of this `connect` is never spawned or awaited: it performs all the I/O, so every query on the client waits forever".to_string(),
                    vec![(ev.span, label)],
                    Some("spawn it: `tokio::spawn(async move { if let Err(e) = connection.await { eprintln!(\"connection error: {e}\") } });`".to_string()),
                );
            }
        }
    }
}
