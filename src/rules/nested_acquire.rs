//! `nested-acquire`: a second connection taken while one is held: N concurrent requests on a
//! pool of N each hold one and wait for another that none will release.

use super::{slot_holders, Family, FileCx, Phase, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{Acquisition, EventKind, HeldRef};
use crate::model::Span;
use std::collections::BTreeSet;

pub struct NestedAcquire;

static INFO: RuleInfo = RuleInfo {
    id: "nested-acquire",
    family: Family::Hold,
    default: Severity::Error,
    summary: "a second acquisition from a pool while a connection is held: `acquire`/`begin`/`get`, the pool as an executor, or a crate-local function that acquires",
};

/// A second acquisition while connections are held.
struct Hit<'e> {
    span: Span,
    what: String,
    new_pool: Option<std::sync::Arc<str>>,
    holders: Vec<&'e HeldRef>,
    site: Option<crate::flow::AcquireSite>,
}

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
            // Second acquisitions, grouped by the connection held when they happen: one finding
            // per held connection, at the first, with a label at each of the others.
            let mut hits: Vec<Hit<'_>> = Vec::new();
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
                        // A connection of an embedded database's own pool while a server
                        // connection is held: two pools, no deadlock.
                        Some(site)
                            if site.embedded
                                && !held.iter().any(|h| cx.index.knowledge.ty(h.held.ty).embedded) => {
                            continue
                        }
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
                if holders.is_empty() {
                    continue;
                }
                let pos = crate::diagnostic::Span::from_model(ev.span).start;
                if !seen.insert(pos) {
                    continue;
                }
                hits.push(Hit {
                    span: ev.span,
                    what,
                    new_pool,
                    holders,
                    site,
                });
            }
            let mut reported = BTreeSet::new();
            for (i, hit) in hits.iter().enumerate() {
                let first = hit.holders[0];
                if !reported.insert(first.id) {
                    continue;
                }
                let name = cx.held_name(first);
                let differ = hit
                    .holders
                    .iter()
                    .any(|h| pools_differ(hit.new_pool.as_deref(), h));
                let tail = if differ {
                    format!(
                        "; they look like different pools ({} and {}), but two pools that each wait for the other deadlock too once both are exhausted",
                        hit.new_pool.as_deref().map_or("?".into(), |p| format!("`{p}`")),
                        first.pool.as_deref().map_or("?".into(), |p| format!("`{p}`"))
                    )
                } else {
                    ": with as many concurrent requests as the pool has connections, each holds one and waits for another that none will release".to_string()
                };
                let mut labels: Vec<_> = hit.holders.iter().map(|h| cx.origin_label(h)).collect();
                labels.dedup_by(|a, b| a.1 == b.1);
                labels.extend(
                    hits[i + 1..]
                        .iter()
                        .filter(|later| later.holders[0].id == first.id)
                        .map(|later| {
                            (
                                later.span,
                                format!("another acquisition while {name} is held"),
                            )
                        }),
                );
                let help = match (first.name.map(|n| cx.name(n)), &hit.site) {
                    (Some(n), _) if !first.param => format!("finish with {n} (or `drop({n})`) before taking another connection, or pass `&mut *{n}` to the code that needs one"),
                    (_, Some(_)) => "pass the connection you hold to the callee (`&mut *conn` / `&mut tx`) instead of letting it acquire its own".to_string(),
                    _ => "reuse the connection you hold for this work instead of taking a second one".to_string(),
                };
                cx.report(
                    (hit.span, "second acquisition here".to_string()),
                    format!("{} while {name} is still held{tail}", hit.what),
                    labels,
                    Some(help),
                );
            }
        }
    }
}
