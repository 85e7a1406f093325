//! `held-across-await`: a connection held across an `.await` whose future does not use it.

use super::{slot_holders, Family, FileCx, Phase, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::EventKind;

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
            for ev in &body.events {
                let EventKind::Await {
                    held,
                    callees,
                    acquires,
                } = &ev.kind
                else {
                    continue;
                };
                // Waiting for another connection is `nested-acquire`'s finding.
                if *acquires || callees.iter().any(|c| cx.acquirers.site(*c).is_some()) {
                    continue;
                }
                for h in slot_holders(cx.index, held) {
                    let name = cx.held_name(h);
                    let help = match h.name.map(|n| cx.name(n)) {
                        Some(n) if !h.param => format!("call `drop({n})` before this `.await`, or put the database work in a block so `{n}` is returned to the pool first"),
                        Some(n) => format!("finish the database work before this `.await` and let the caller return {n} to the pool, or move this `.await` out of the function that holds it"),
                        None => "finish the query before awaiting anything else".to_string(),
                    };
                    cx.report(
                        (ev.span, format!("{name} is still held while this waits")),
                        format!("{name} is held across an `.await` that does not use it: its pool slot stays taken for as long as this future takes, and under load the pool runs dry"),
                        vec![cx.origin_label(h)],
                        Some(help),
                    );
                }
            }
        }
    }
}
