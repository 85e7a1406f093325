//! `pool-per-call`: a pool built in a loop, in a closure, or in a function that neither
//! returns, stores nor hands it on.
//!
//! What counts as run-once (never flagged for dropping its pool): `main`, tests (`#[test]`,
//! `#[tokio::test]`, `#[sqlx::test]`, code in `#[cfg(test)]` modules), start-up functions by
//! name (`init`, `setup`, `bootstrap`, `startup`, `migrate`, `seed`), and run-once initialisers
//! (`OnceLock::get_or_init`, `Lazy::new`, `LazyLock::new`).

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{DropHow, EventKind};
use crate::profile::Kind;
use std::collections::BTreeSet;

pub struct PoolPerCall;

static INFO: RuleInfo = RuleInfo {
    id: "pool-per-call",
    family: Family::Lifecycle,
    default: Severity::Error,
    summary: "a pool built in a loop, closure or handler, or in a function that neither returns nor stores it",
};

impl Rule for PoolPerCall {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        let k = cx.index.knowledge;
        for body in cx.bodies {
            let mut reported = BTreeSet::new();
            // Pools that go out of scope in this body (not handed on, stored or returned).
            let dropped: BTreeSet<u32> = body
                .events
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::Dropped { held, .. }
                        if held.held.kind == Kind::Pool && !held.shared =>
                    {
                        Some(held.id)
                    }
                    _ => None,
                })
                .collect();
            for ev in &body.events {
                let EventKind::PoolBuilt(built) = &ev.kind else {
                    continue;
                };
                let crate::flow::PoolBuiltEvent { id, pool, .. } = &**built;
                // A loop that builds one pool per shard and keeps them all runs once.
                if ev.ctx.closure_at.is_none() && id.is_none_or(|id| !dropped.contains(&id)) {
                    continue;
                }
                let lib = format!("{} `{}`", k.profile(*pool).name, k.ty(*pool).name);
                let (why, at, label) = match (ev.ctx.loop_at, ev.ctx.closure_at) {
                    (Some(lp), _) => ("inside a loop: every iteration opens a new pool with its own connections", lp, "the loop"),
                    (None, Some(cl)) => ("inside a closure: every call of the closure (every worker, every request) opens a new pool with its own connections", cl, "the closure"),
                    _ => continue,
                };
                reported.extend(*id);
                cx.report(
                    (ev.span, "a pool is built here".to_string()),
                    format!("{lib} is built {why}, and the database's connection limit is reached long before the load is"),
                    vec![(at, label.to_string())],
                    Some("build the pool once at start-up (in `main` or an init function) and share it: clone the handle, or keep it in app state or a `OnceLock`".to_string()),
                );
            }
            if body.runs_once {
                continue;
            }
            for ev in &body.events {
                let EventKind::Dropped { held, how, .. } = &ev.kind else {
                    continue;
                };
                if held.held.kind != Kind::Pool
                    || held.shared
                    || held.param
                    || reported.contains(&held.id)
                {
                    continue;
                }
                let lib = format!(
                    "{} `{}`",
                    k.profile(held.held.ty).name,
                    k.ty(held.held.ty).name
                );
                let exit = match how {
                    DropHow::Discard => "`_` drops it at once",
                    DropHow::Unawaited => "its `close()` future is never awaited: dropped here",
                    DropHow::Closed => "and closed here, before the call returns",
                    _ => "and dropped here, at the end of the call",
                };
                cx.report(
                    (held.origin, "a pool is built here".to_string()),
                    format!("{lib} is built in `{}` and dropped before it returns: every call opens a pool (and its connections) for one use, and under load the database runs out of connections", body.name),
                    vec![(ev.span, exit.to_string())],
                    Some("build the pool once at start-up and pass it in (`&PgPool`), or return it so the caller keeps it".to_string()),
                );
            }
        }
    }
}
