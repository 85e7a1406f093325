//! `held-across-await`: a connection held across an `.await` whose future does not use it.
//! One finding per held connection per function, at its first such `.await`, with a label at
//! each of the others.

use super::{slot_holders, Family, FileCx, Phase, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{EventKind, HeldRef};
use crate::model::Span;

pub struct HeldAcrossAwait;

static INFO: RuleInfo = RuleInfo {
    id: "held-across-await",
    family: Family::Hold,
    default: Severity::Warning,
    summary: "a connection/transaction live across an `.await` whose future does not use it",
};

impl Rule for HeldAcrossAwait {
    fn phase(&self) -> Phase {
        Phase::Crate
    }

    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for body in cx.bodies {
            // Each held connection, with the awaits it is held across, in order.
            let mut held_across: Vec<(&HeldRef, Vec<Span>)> = Vec::new();
            for ev in &body.events {
                let EventKind::Await {
                    held,
                    callees,
                    acquires,
                    on_held,
                } = &ev.kind
                else {
                    continue;
                };
                // Waiting for another connection, or for a query on one, is `nested-acquire`'s
                // finding, reported where the second connection is taken.
                // (A helper that opens an embedded database's pool of its own waits on no
                // shared pool: that wait is this rule's.)
                let acquiring =
                    |c: &crate::flow::CalleeKey| cx.acquirers.site(*c).is_some_and(|s| !s.embedded);
                if *acquires || *on_held || callees.iter().any(acquiring) {
                    continue;
                }
                for h in slot_holders(cx.index, held) {
                    match held_across.iter_mut().find(|(seen, _)| seen.id == h.id) {
                        Some((_, awaits)) => awaits.push(ev.span),
                        None => held_across.push((h, vec![ev.span])),
                    }
                }
            }
            for (h, awaits) in held_across {
                let name = cx.held_name(h);
                let help = match cx.held_binding(h) {
                    Some(n) if !h.param => format!("call `drop({n})` before the first `.await` that does not use it, or put the database work in a block so `{n}` is returned to the pool first"),
                    Some(n) => format!("finish the database work before these `.await`s and let the caller return {n} to the pool, or move them out of the function that holds it"),
                    None => "finish the query before awaiting anything else".to_string(),
                };
                let more = match awaits.len() {
                    1 => String::new(),
                    n => format!(" ({n} `.await`s in `{}`)", body.name),
                };
                let mut labels = vec![cx.origin_label(h)];
                labels.extend(
                    awaits[1..]
                        .iter()
                        .map(|s| (*s, format!("{name} is still held here too"))),
                );
                cx.report(
                    (awaits[0], format!("{name} is still held while this waits")),
                    format!("{name} is held across an `.await` that does not use it{more}: its pool slot stays taken for as long as the future takes, and under load the pool runs dry"),
                    labels,
                    Some(help),
                );
            }
        }
    }
}
