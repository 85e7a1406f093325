//! `held-across-blocking`: a connection held across a call that blocks the thread.

use super::{slot_holders, Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{EventKind, HeldRef};
use crate::model::Span;

pub struct HeldAcrossBlocking;

static INFO: RuleInfo = RuleInfo {
    id: "held-across-blocking",
    family: Family::Hold,
    default: Severity::Warning,
    summary: "a connection live across a blocking call (`thread::sleep`, blocking HTTP, `std::process`, configurable)",
};

impl Rule for HeldAcrossBlocking {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for body in cx.bodies {
            // Each held connection, with the blocking calls it is held across, in order.
            let mut held_across: Vec<(&HeldRef, Vec<(Span, &str)>)> = Vec::new();
            for ev in &body.events {
                let EventKind::Blocking { callee, held } = &ev.kind else {
                    continue;
                };
                for h in slot_holders(cx.index, held) {
                    match held_across.iter_mut().find(|(seen, _)| seen.id == h.id) {
                        Some((_, calls)) => calls.push((ev.span, callee)),
                        None => held_across.push((h, vec![(ev.span, callee)])),
                    }
                }
            }
            for (h, calls) in held_across {
                let name = cx.held_name(h);
                let (at, callee) = calls[0];
                let help = match h.name.map(|n| cx.name(n)) {
                    Some(n) if !h.param => format!("call `drop({n})` before `{callee}`, or scope the database work in a block that ends before it"),
                    _ => format!("move `{callee}` out of the code that holds the connection"),
                };
                let mut labels = vec![cx.origin_label(h)];
                labels.extend(
                    calls[1..]
                        .iter()
                        .map(|(s, c)| (*s, format!("and across `{c}`, which blocks too"))),
                );
                cx.report(
                    (at, format!("blocks while {name} is held")),
                    format!("{name} is held across `{callee}`, which blocks the thread: the pool slot stays taken for the whole wait"),
                    labels,
                    Some(help),
                );
            }
        }
    }
}
