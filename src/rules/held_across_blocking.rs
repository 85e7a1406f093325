//! `held-across-blocking`: a connection held across a call that blocks the thread.

use super::{slot_holders, Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::EventKind;

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
            for ev in &body.events {
                let EventKind::Blocking { callee, held } = &ev.kind else {
                    continue;
                };
                for h in slot_holders(cx.index, held) {
                    let name = cx.held_name(h);
                    let help = match h.name.map(|n| cx.name(n)) {
                        Some(n) if !h.param => format!("call `drop({n})` before `{callee}`, or scope the database work in a block that ends before it"),
                        _ => format!("move `{callee}` out of the code that holds the connection"),
                    };
                    cx.report(
                        (ev.span, format!("blocks while {name} is held")),
                        format!("{name} is held across `{callee}`, which blocks the thread: the pool slot stays taken for the whole wait"),
                        vec![cx.origin_label(h)],
                        Some(help),
                    );
                }
            }
        }
    }
}
