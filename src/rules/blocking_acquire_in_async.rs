//! `blocking-acquire-in-async`: a blocking pool checkout on an async executor thread.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{Acquisition, EventKind};

pub struct BlockingAcquireInAsync;

static INFO: RuleInfo = RuleInfo {
    id: "blocking-acquire-in-async",
    family: Family::Hold,
    default: Severity::Warning,
    summary: "a blocking pool checkout (`r2d2`, `mysql`) inside `async` code not wrapped in `spawn_blocking`/`web::block`",
};

impl Rule for BlockingAcquireInAsync {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for body in cx.bodies {
            for ev in &body.events {
                let EventKind::Acquire {
                    how: Acquisition::Direct { pool },
                    blocking: true,
                    on,
                    ..
                } = &ev.kind
                else {
                    continue;
                };
                if !ev.ctx.in_async || ev.ctx.in_blocking_closure {
                    continue;
                }
                let lib = on
                    .map(|t| {
                        format!(
                            "{} `{}`",
                            cx.index.knowledge.profile(t).name,
                            cx.index.knowledge.ty(t).name
                        )
                    })
                    .unwrap_or_else(|| "the pool".into());
                let pool = pool
                    .as_deref()
                    .map_or(String::new(), |p| format!(" on `{p}`"));
                cx.report(
                    (ev.span, "blocks the executor thread".to_string()),
                    format!("blocking checkout{pool} ({lib}) in async code: while the pool is exhausted it parks an executor thread, and the tasks that would return connections cannot run"),
                    Vec::new(),
                    Some("run the checkout and the queries inside `tokio::task::spawn_blocking` (or actix `web::block`), or switch to an async pool (deadpool, bb8, diesel-async)".to_string()),
                );
            }
        }
    }
}
