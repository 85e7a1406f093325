//! `connection-in-static`: a connection (not a pool) kept in a `static`, `thread_local!` or
//! `lazy_static!`, where it is never dropped and never returned.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{EventKind, Expander, Place, Walker};
use crate::index::Where;
use crate::model::StaticVia;

pub struct ConnectionInStatic;

static INFO: RuleInfo = RuleInfo {
    id: "connection-in-static",
    family: Family::Escape,
    default: Severity::Error,
    summary: "a connection (not a pool) stored in a `static`, `thread_local!`, `lazy_static!`, `OnceCell`/`OnceLock`/`LazyLock`",
};

impl Rule for ConnectionInStatic {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for decl in &cx.model.statics {
            let ty = cx.index.resolve(&Where::file(cx.file), cx.model, decl.ty);
            let Some(held) = cx.index.held_in(&ty) else {
                continue;
            };
            if !held.kind.holds_connection() || cx.index.knowledge.ty(held.ty).shareable {
                continue;
            }
            let mut labels = vec![(
                cx.model.ty_span(decl.ty),
                format!("this type holds a {}", held.kind.noun()),
            )];
            if let Some(init) = decl.init {
                let ex = Expander::new(cx.model, None);
                let mut w = Walker::new(cx.index, cx.model, &ex, Where::file(cx.file));
                if let Some(origin) = w.expr(init).origin {
                    labels.push((origin, format!("the {} is acquired here", held.kind.noun())));
                }
            }
            // Where the program puts a connection into it (`CONN.set(conn)`, `get_or_init`).
            for body in cx.bodies {
                for ev in &body.events {
                    let EventKind::Method(m) = &ev.kind else {
                        continue;
                    };
                    if m.recv.place != Place::Static(decl.name) {
                        continue;
                    }
                    let origin = m.args.iter().find_map(|a| a.origin).or(m.result.origin);
                    if let Some(origin) = origin {
                        labels.push((
                            origin,
                            format!("a {} is stored in it here", held.kind.noun()),
                        ));
                    }
                }
            }
            let what = cx.describe(&held);
            // A `thread_local!` is not one shared connection but one per thread, kept while the
            // thread lives: on a long-lived worker pool, for good.
            let per_thread = decl.via == StaticVia::ThreadLocal;
            let consequence = match (held.kind.holds_pool_slot(), per_thread) {
                (true, false) => "it is never dropped, so its pool slot is never returned, and every thread shares (or waits on) this one connection",
                (false, false) => "it is never closed or replaced after a failure, and every caller shares (or waits on) this one connection",
                (true, true) => "each thread that uses it checks out its own connection and keeps it until the thread exits, so N threads hold N pool slots (on long-lived worker threads, for good)",
                (false, true) => "each thread that uses it opens its own connection and keeps it until the thread exits, never closed or replaced after a failure, so N threads hold N connections",
            };
            cx.report(
                (decl.span, format!("`{}` keeps a {} for the life of the program", cx.name(decl.name), held.kind.noun())),
                format!("{what} stored in {}: {consequence}", match decl.via {
                    StaticVia::Static => "a `static`",
                    StaticVia::ThreadLocal => "`thread_local!`",
                    StaticVia::LazyStatic => "`lazy_static!`",
                }),
                labels,
                Some("store the pool in the static instead (`static POOL: OnceLock<PgPool>`) and acquire a connection where it is needed".to_string()),
            );
        }
    }
}
