//! `nested-acquire`: a second connection taken while one is held: N concurrent requests on a
//! pool of N each hold one and wait for another that none will release.

use super::{slot_holders, Family, FileCx, Phase, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{Acquisition, EventKind, HeldRef};
use std::collections::BTreeSet;

pub struct NestedAcquire;

static INFO: RuleInfo = RuleInfo {
    id: "nested-acquire",
    family: Family::Hold,
    default: Severity::Error,
    summary: "a second acquisition from a pool while a connection is held: `acquire`/`begin`/`get`, the pool as an executor, or a crate-local function that acquires",
};

fn pools_differ(new: Option<&str>, held: &HeldRef) -> bool {
    matches!((new, held.pool.as_deref()), (Some(a), Some(b)) if a != b)
}

impl Rule for NestedAcquire {
    fn phase(&self) -> Phase {
        Phase::Crate
    }

    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        let mut seen = BTreeSet::new();
        for body in cx.bodies {
            for ev in &body.events {
                let (what, new_pool, held, site) = match &ev.kind {
                    EventKind::Acquire { how, held, .. } => match how {
                        Acquisition::Direct { pool } => (
                            format!("a second connection is taken from {}", pool.as_deref().map_or("the pool".into(), |p| format!("`{p}`"))),
                            pool.clone(),
                            held,
                            None,
                        ),
                        Acquisition::Executor { pool } => (
                            format!("{} is used as an executor, which checks out a second connection", pool.as_deref().map_or("the pool".into(), |p| format!("`{p}`"))),
                            pool.clone(),
                            held,
                            None,
                        ),
                        Acquisition::Helper { callee } => (format!("`{callee}` returns a second connection"), None, held, None),
                        Acquisition::Guard { param } => (format!("the guard `{param}` takes a second connection before the handler runs"), None, held, None),
                    },
                    EventKind::LocalCall { key, held } => match cx.acquirers.site(*key) {
                        Some(site) => {
                            let via = if site.via.is_empty() { String::new() } else { format!(" (through `{}`)", site.via.join("` → `")) };
                            (
                                format!("`{}` acquires a connection{via} at {}:{}", cx.index.callee_name(*key), site.path.display(), site.pos.line),
                                // The callee names its pool in its own terms: not comparable.
                                None,
                                held,
                                Some(site.clone()),
                            )
                        }
                        None => continue,
                    },
                    _ => continue,
                };
                let holders: Vec<&HeldRef> = slot_holders(cx.index, held).collect();
                let Some(first) = holders.first() else {
                    continue;
                };
                let pos = crate::diagnostic::Span::from_model(ev.span).start;
                if !seen.insert(pos) {
                    continue;
                }
                let name = cx.held_name(first);
                let differ = holders.iter().any(|h| pools_differ(new_pool.as_deref(), h));
                let tail = if differ {
                    format!(
                        "; they look like different pools ({} and {}), but two pools that each wait for the other deadlock too once both are exhausted",
                        new_pool.as_deref().map_or("?".into(), |p| format!("`{p}`")),
                        first.pool.as_deref().map_or("?".into(), |p| format!("`{p}`"))
                    )
                } else {
                    ": with as many concurrent requests as the pool has connections, each holds one and waits for another that none will release".to_string()
                };
                let mut labels: Vec<_> = holders.iter().map(|h| cx.origin_label(h)).collect();
                labels.dedup_by(|a, b| a.1 == b.1);
                let help = match (first.name.map(|n| cx.name(n)), &site) {
                    (Some(n), _) if !first.param => format!("finish with {n} (or `drop({n})`) before taking another connection, or pass `&mut *{n}` to the code that needs one"),
                    (_, Some(_)) => "pass the connection you hold to the callee (`&mut *conn` / `&mut tx`) instead of letting it acquire its own".to_string(),
                    _ => "reuse the connection you hold for this work instead of taking a second one".to_string(),
                };
                cx.report(
                    (ev.span, "second acquisition here".to_string()),
                    format!("{what} while {name} is still held{tail}"),
                    labels,
                    Some(help),
                );
            }
        }
    }
}
