//! `pool-per-call`: a pool built in a loop, in a closure, or in a function that neither
//! returns, stores nor hands it on.
//!
//! What counts as run-once (never flagged for dropping its pool): `main`, tests (`#[test]`,
//! `#[tokio::test]`, `#[sqlx::test]`, code in `#[cfg(test)]` modules), start-up functions by
//! name (`init`, `setup`, `bootstrap`, `startup`, `migrate`, `seed`), and run-once initialisers
//! (`OnceLock::get_or_init`, `Lazy::new`, `LazyLock::new`). A function run as a background
//! task that loops after building its pool keeps the pool for the task's life: not per call.
//!
//! A call of a crate-local function that builds the pool it returns (`fn db() -> SqlitePool`)
//! is a build site too, reported at the call with a label at the helper's build.

use super::{Family, FileCx, Phase, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{Body, DropHow, EventKind};
use crate::model::Span;
use crate::profile::Kind;
use std::collections::BTreeSet;

pub struct PoolPerCall;

static INFO: RuleInfo = RuleInfo {
    id: "pool-per-call",
    family: Family::Lifecycle,
    default: Severity::Error,
    summary: "a pool built in a loop, closure or handler, or in a function that neither returns nor stores it",
};

/// Is `body` a long-running task that keeps the pool it built at `built` (a worker or
/// subscriber loop run as a background task: the pool lives as long as the task)?
fn task_keeps_pool(cx: &FileCx<'_>, body: &Body, built: Span) -> bool {
    body.key.is_some_and(|k| cx.acquirers.is_spawned(k))
        && body
            .events
            .iter()
            .any(|e| e.ctx.loop_at.is_some_and(|l| l.lo > built.hi))
}

impl Rule for PoolPerCall {
    // Whether a crate-local function builds the pool it returns is a crate-wide fact.
    fn phase(&self) -> Phase {
        Phase::Crate
    }

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
                let (id, lib, mut labels) = match &ev.kind {
                    EventKind::PoolBuilt(built) => {
                        let pool = built.pool;
                        let lib = format!("{} `{}`", k.profile(pool).name, k.ty(pool).name);
                        (built.id, lib, vec![])
                    }
                    EventKind::PoolFromHelper { id, key, .. } => {
                        let Some(site) = cx.acquirers.build_site(*key) else {
                            continue;
                        };
                        let (lib, labels) = helper_build(cx, site, cx.index.callee_name(*key));
                        (*id, lib, labels)
                    }
                    _ => continue,
                };
                // A loop that builds one pool per shard and keeps them all runs once.
                if ev.ctx.closure_at.is_none() && id.is_none_or(|id| !dropped.contains(&id)) {
                    continue;
                }
                let (why, at, label) = match (ev.ctx.loop_at, ev.ctx.closure_at) {
                    // A connect-until-it-answers loop builds its next pool only after a failure.
                    (Some(_), _) if ev.ctx.retried_until_success(ev.span) => continue,
                    (Some(lp), _) => ("inside a loop: every iteration opens a new pool with its own connections", lp, "the loop"),
                    (None, Some(cl)) => ("inside a closure: every call of the closure (every worker, every request) opens a new pool with its own connections", cl, "the closure"),
                    _ => continue,
                };
                reported.extend(id);
                labels.insert(0, (at, label.to_string()));
                cx.report(
                    (ev.span, "a pool is built here".to_string()),
                    format!("{lib} is built {why}, and the database's connection limit is reached long before the load is"),
                    labels,
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
                    || task_keeps_pool(cx, body, held.origin)
                    // Dropped in a loop that stops once a pool answers: a retry.
                    || ev.ctx.retried_until_success(held.origin)
                {
                    continue;
                }
                let (lib, mut labels) = match held.from_helper {
                    None => {
                        let ty = held.held.ty;
                        (
                            format!("{} `{}`", k.profile(ty).name, k.ty(ty).name),
                            vec![],
                        )
                    }
                    Some(key) => {
                        let Some(site) = cx.acquirers.build_site(key) else {
                            continue;
                        };
                        helper_build(cx, site, cx.index.callee_name(key))
                    }
                };
                let exit = match how {
                    DropHow::Discard => "`_` drops it at once",
                    DropHow::Unawaited => "its `close()` future is never awaited: dropped here",
                    DropHow::Closed => "and closed here, before the call returns",
                    _ => "and dropped here, at the end of the call",
                };
                labels.insert(0, (ev.span, exit.to_string()));
                cx.report(
                    (held.origin, "a pool is built here".to_string()),
                    format!("{lib} is built in `{}` and dropped before it returns: every call opens a pool (and its connections) for one use, and under load the database runs out of connections", body.name),
                    labels,
                    Some("build the pool once at start-up and pass it in (`&PgPool`), or return it so the caller keeps it".to_string()),
                );
            }
        }
    }
}

/// How a helper-built pool is named, and the label at the helper's own build when it is in
/// this file (another file's build is named in the text).
fn helper_build(
    cx: &FileCx<'_>,
    site: &crate::flow::ConnectSite,
    callee: &str,
) -> (String, Vec<(Span, String)>) {
    let via = if site.via.is_empty() {
        String::new()
    } else {
        format!(" (through `{}`)", site.via.join("` → `"))
    };
    if site.path == cx.path {
        let label = format!("`{callee}` builds the pool here{via}");
        (
            format!("a new pool from `{callee}` (which builds it)"),
            vec![(site.span, label)],
        )
    } else {
        let at = format!("{}:{}", site.path.display(), site.span.lo.line);
        (
            format!("a new pool from `{callee}` (which builds it at {at}{via})"),
            vec![],
        )
    }
}
