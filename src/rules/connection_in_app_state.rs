//! `connection-in-app-state`: a connection (not a pool) kept in long-lived shared state: a
//! struct field that shares one connection through `Arc`/`Rc` (`Arc<Mutex<PgConnection>>`), so
//! every request or task that holds the state takes turns on that one connection.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::EventKind;
use crate::index::{TypeExpr, Where};
use crate::model::Item;

/// Calls that keep the closure they are given and run it later, again and again or after a
/// delay, for as long as the program runs: schedulers (clokwerk `every(..).run`,
/// tokio-cron-scheduler and job_scheduler `Job::new*`) and worker pools' delayed jobs.
const REGISTRARS: &[&str] = &[
    "run",
    "execute_after",
    "schedule",
    "add_job",
    "Job::new",
    "Job::new_async",
    "Job::new_repeated",
    "Job::new_repeated_async",
    "Job::new_one_shot",
    "Job::new_one_shot_async",
    "every",
];

pub struct ConnectionInAppState;

static INFO: RuleInfo = RuleInfo {
    id: "connection-in-app-state",
    family: Family::Escape,
    default: Severity::Warning,
    summary: "a connection (not a pool) kept in long-lived shared state: a field of `Clone`/`Arc`-shared app state or server context, or moved into a closure registered with a scheduler or callback registry",
};

impl Rule for ConnectionInAppState {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        self.registered_closures(cx);
        self.kept_by_storage(cx);
        let k = cx.index.knowledge;
        for item in &cx.model.items {
            let Item::Struct(st) = item else { continue };
            let at = Where {
                file: cx.file,
                module: st.module,
                ..Where::default()
            };
            let clone = st.attrs.derives.iter().any(|d| cx.name(*d) == "Clone");
            // A request guard or extractor is made per request: its `Arc` shares the
            // connection between that request's own tasks, not between requests.
            let own = cx
                .index
                .local_type(&at, &[cx.name(st.name).to_string()])
                .map(crate::types::Ty::Local);
            if own.is_some_and(|t| cx.index.extractor(&t).is_some()) {
                continue;
            }
            for f in &st.fields {
                // Shared through `Arc`/`Rc`: every clone of the state reaches the same one.
                if !TypeExpr::from_model(cx.model, f.ty).shared() {
                    continue;
                }
                let ty = cx.index.resolve(&at, cx.model, f.ty);
                // The connection itself, not a collection of them (`accumulated-connections`).
                let Some(held) = cx.index.kind_of(&ty) else {
                    continue;
                };
                let def = k.ty(held.ty);
                // Designed for sharing (tokio-postgres `Client`, redis multiplexed handles) or
                // an embedded database file: not a hazard.
                if !held.kind.holds_connection() || def.shareable || def.embedded {
                    continue;
                }
                let what = cx.describe(&held);
                let owner = cx.name(st.name);
                let how = if clone {
                    format!("`{owner}` derives `Clone`, and every clone shares it")
                } else {
                    format!("every holder of a `{owner}` shares it")
                };
                let slot = if held.kind.holds_pool_slot() {
                    ", and its pool slot is never returned"
                } else {
                    ""
                };
                cx.report(
                    (
                        cx.model.ty_span(f.ty),
                        format!("`{}` shares one {}", cx.name(f.name), held.kind.noun()),
                    ),
                    format!("{what} is kept in the shared state `{owner}`: {how}, so all requests and tasks take turns on this one connection (a pool of one that serialises the service), and a broken connection is never replaced{slot}"),
                    vec![],
                    Some("keep a pool in the state instead (`PgPool`, `deadpool_postgres::Pool`, `r2d2::Pool`) and take a connection where it is needed; for redis, a `MultiplexedConnection` or `ConnectionManager` is designed to be shared".to_string()),
                );
            }
        }
    }
}

impl ConnectionInAppState {
    /// A connection handed to a library value that keeps it for its whole life (a job
    /// runner's storage: `RedisStorage::new(conn)`, then the worker's backend) in start-up
    /// code. In a handler, job or loop the value is as short-lived as the call.
    fn kept_by_storage(&self, cx: &mut FileCx<'_>) {
        let k = cx.index.knowledge;
        for body in cx.bodies {
            if body.entry.is_some() {
                continue;
            }
            for ev in &body.events {
                let EventKind::Call(c) = &ev.kind else {
                    continue;
                };
                let Some(i) = c.def.as_ref().and_then(|d| d.keeps) else {
                    continue;
                };
                let Some(arg) = c.args.get(i) else { continue };
                let Some(held) = cx.kind_of(arg) else {
                    continue;
                };
                let def = k.ty(held.ty);
                if ev.ctx.loop_at.is_some()
                    || !held.kind.holds_pool_slot()
                    || def.shareable
                    || def.embedded
                {
                    continue;
                }
                let callee = c.path[c.path.len().saturating_sub(2)..].join("::");
                let mut labels = Vec::new();
                if let Some(origin) = arg.origin.filter(|o| *o != ev.span) {
                    labels.push((origin, "the connection is taken here".to_string()));
                }
                cx.report(
                    (ev.span, format!("`{callee}` keeps this connection")),
                    format!("{} is handed to `{callee}`, which keeps it for as long as the value it builds lives (a job storage lives as long as its worker): its pool slot is never returned, and every job takes turns on this one connection", cx.describe(&held)),
                    labels,
                    Some("give the storage what it is designed to share (a multiplexed client or `ConnectionManager`, or the pool itself) instead of a connection checked out of a pool".to_string()),
                );
            }
        }
    }

    /// `move` closures registered with a scheduler or callback registry that take a
    /// connection with them.
    fn registered_closures(&self, cx: &mut FileCx<'_>) {
        for body in cx.bodies {
            for ev in &body.events {
                let EventKind::Captured { callee, held } = &ev.kind else {
                    continue;
                };
                if !REGISTRARS.contains(&callee.as_str()) {
                    continue;
                }
                let k = cx.index.knowledge;
                for h in held {
                    let def = k.ty(h.held.ty);
                    if !h.held.kind.holds_connection() || def.shareable || def.embedded {
                        continue;
                    }
                    let name = cx.held_name(h);
                    let slot = if h.held.kind.holds_pool_slot() && !h.unpooled {
                        ": its pool slot is taken for as long as the closure is kept"
                    } else {
                        ": it is never replaced when it breaks, and every run takes turns on it"
                    };
                    cx.report(
                        (ev.span, format!("{name} is moved into this closure")),
                        format!("{name} ({}) is moved into a closure handed to `{callee}`, which keeps it and runs it later, for as long as the program runs{slot}", cx.describe(&h.held)),
                        vec![cx.origin_label(h)],
                        Some("move the pool (or the database URL) into the closure instead and open or check out a connection inside it, each time it runs".to_string()),
                    );
                }
            }
        }
    }
}
