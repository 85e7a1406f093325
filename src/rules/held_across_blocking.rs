//! `held-across-blocking`: a connection held across a call that blocks the thread, directly
//! or through a synchronous crate-local function that blocks (the crate-wide facts).

use super::{slot_holders, Family, FileCx, Phase, Rule, RuleInfo};
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

    fn phase(&self) -> Phase {
        Phase::Crate
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for body in cx.bodies {
            // Each held connection, with the blocking calls it is held across, in order.
            let mut held_across: Vec<(&HeldRef, Vec<Blocks>)> = Vec::new();
            for ev in &body.events {
                let (b, held) = match &ev.kind {
                    EventKind::Blocking { callee, held } => (
                        Blocks {
                            at: ev.span,
                            callee: callee.clone(),
                            through: None,
                        },
                        held,
                    ),
                    EventKind::LocalCall { key, held } => match cx.acquirers.blocks(*key) {
                        Some(site) => {
                            let via: String =
                                site.via.iter().map(|v| format!("`{v}` → ")).collect();
                            let through = format!(
                                "it calls {via}`{}` at {}:{}",
                                site.callee,
                                site.path.display(),
                                site.pos.line
                            );
                            let b = Blocks {
                                at: ev.span,
                                callee: cx.index.callee_name(*key).to_string(),
                                through: Some(through),
                            };
                            (b, held)
                        }
                        None => continue,
                    },
                    _ => continue,
                };
                for h in slot_holders(cx.index, held) {
                    match held_across.iter_mut().find(|(seen, _)| seen.id == h.id) {
                        Some((_, calls)) => calls.push(b.clone()),
                        None => held_across.push((h, vec![b.clone()])),
                    }
                }
            }
            for (h, calls) in held_across {
                let name = cx.held_name(h);
                let first = &calls[0];
                let callee = &first.callee;
                let help = match cx.held_binding(h) {
                    Some(n) if !h.param => format!("call `drop({n})` before `{callee}`, or scope the database work in a block that ends before it"),
                    _ => format!("move `{callee}` out of the code that holds the connection"),
                };
                let mut labels = vec![cx.origin_label(h)];
                labels.extend(
                    calls[1..]
                        .iter()
                        .map(|b| (b.at, format!("and across `{}`, which blocks too", b.callee))),
                );
                let why = match &first.through {
                    Some(t) => format!("which blocks the thread ({t})"),
                    None => "which blocks the thread".to_string(),
                };
                cx.report(
                    (first.at, format!("blocks while {name} is held")),
                    format!("{name} is held across `{callee}`, {why}: the pool slot stays taken for the whole wait"),
                    labels,
                    Some(help),
                );
            }
        }
    }
}

/// A blocking call a connection is held across: a library call, or a crate-local function
/// that blocks (`through` says how).
#[derive(Clone)]
struct Blocks {
    at: Span,
    callee: String,
    through: Option<String>,
}
