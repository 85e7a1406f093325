//! `accumulated-connections`: pooled connections piling up in a collection, per iteration or
//! per key of a long-lived map, each holding a pool slot.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{EventKind, Place, Seen};
use crate::types::{Held, Ty};

pub struct AccumulatedConnections;

static INFO: RuleInfo = RuleInfo {
    id: "accumulated-connections",
    family: Family::Escape,
    default: Severity::Error,
    summary: "connections pushed/inserted/collected into a collection inside a loop or iterator, or kept per key in a long-lived map",
};

/// Methods that add their argument(s) to a collection.
const ADDERS: &[&str] = &[
    "push",
    "push_back",
    "push_front",
    "insert",
    "extend",
    "append",
    "put",
    "push_str",
];
const COLLECTORS: &[&str] = &["collect", "try_collect"];
const JOINERS: &[&str] = &["join_all", "try_join_all"];

/// The pooled connection or transaction a value carries, if it carries one.
fn pool_slot(cx: &FileCx<'_>, v: &Seen) -> Option<Held> {
    cx.held_in(v).filter(|h| h.kind.holds_pool_slot())
}

impl Rule for AccumulatedConnections {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        let mut found = Vec::new();
        for body in cx.bodies {
            for ev in &body.events {
                let in_loop = ev.ctx.loop_depth > 0;
                match &ev.kind {
                    EventKind::Method(m) if ADDERS.contains(&cx.name(m.method)) => {
                        let (method, recv) = (cx.name(m.method), &m.recv);
                        // A static map is `connection-in-static`'s finding.
                        if matches!(recv.place, Place::Static(_)) {
                            continue;
                        }
                        let long_lived = matches!(recv.place, Place::Field { .. });
                        if !in_loop && !long_lived {
                            continue;
                        }
                        let Some((arg, held)) = ev
                            .args()
                            .iter()
                            .find_map(|a| pool_slot(cx, a).map(|h| (a, h)))
                        else {
                            continue;
                        };
                        let target = match &recv.place {
                            Place::Local(n) => format!("`{}`", cx.name(*n)),
                            Place::Field { field, .. } => {
                                format!("the field `{}`", cx.name(*field))
                            }
                            _ => "a collection".to_string(),
                        };
                        let why = if in_loop {
                            "inside a loop: each iteration keeps one more pool slot until the collection is dropped, so one request can drain the pool"
                        } else {
                            "in a long-lived collection: each key keeps a pool slot for as long as the owner lives, and the pool drains as keys grow"
                        };
                        found.push((
                            ev.span,
                            format!("`{method}` keeps a {} here", held.kind.noun()),
                            arg.origin,
                            held,
                            format!("{target} accumulates {{what}} {why}"),
                        ));
                    }
                    EventKind::Method(m) if COLLECTORS.contains(&cx.name(m.method)) => {
                        let Ty::Collection(elem) = m.result.ty.clone().unwrap_fallible() else {
                            continue;
                        };
                        // A collection of futures is reported where the futures are joined.
                        if matches!(elem.clone().unwrap_fallible(), Ty::Future(_)) {
                            continue;
                        }
                        let Some(held) =
                            cx.index.kind_of(&elem).filter(|h| h.kind.holds_pool_slot())
                        else {
                            continue;
                        };
                        found.push((ev.span, "collected here".to_string(), m.result.origin, held, "an iterator collects {what} into one collection: every element holds a pool slot at the same time, so one request can drain the pool".to_string()));
                    }
                    EventKind::Call(c)
                        if c.path.last().is_some_and(|l| JOINERS.contains(&l.as_str())) =>
                    {
                        let Some(arg) = c.args.first() else { continue };
                        let Some(Ty::Future(out)) = arg.ty.element() else {
                            continue;
                        };
                        let Some(held) = cx.index.kind_of(out).filter(|h| h.kind.holds_pool_slot())
                        else {
                            continue;
                        };
                        found.push((ev.span, "all acquired at once here".to_string(), arg.origin, held, "joining futures that each acquire gathers {what} at the same time: with more futures than pool slots the join waits on itself".to_string()));
                    }
                    _ => {}
                }
            }
        }
        for (span, label, origin, held, message) in found {
            let what = format!("{}s ({})", held.kind.noun(), cx.describe(&held));
            let labels = origin
                .map(|o| vec![(o, format!("each {} is acquired here", held.kind.noun()))])
                .unwrap_or_default();
            cx.report(
                (span, label),
                message.replace("{what}", &what),
                labels,
                Some("use each connection and let it drop before taking the next; to run queries concurrently, pass `&pool` as the executor and let the pool bound the concurrency".to_string()),
            );
        }
    }
}
