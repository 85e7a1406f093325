//! `forgotten-connection`: a connection handed to something that never runs its destructor.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::EventKind;

pub struct ForgottenConnection;

static INFO: RuleInfo = RuleInfo {
    id: "forgotten-connection",
    family: Family::Escape,
    default: Severity::Error,
    summary: "connection or transaction passed to `mem::forget`, `ManuallyDrop::new`, `Box::leak` or `Box::into_raw`",
};

/// The calls that keep a value's destructor from ever running, as (type or module, function).
const LEAKERS: &[(&str, &str)] = &[
    ("mem", "forget"),
    ("ManuallyDrop", "new"),
    ("Box", "leak"),
    ("Box", "into_raw"),
    ("Arc", "into_raw"),
    ("Rc", "into_raw"),
    ("Vec", "leak"),
];

impl Rule for ForgottenConnection {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for body in cx.bodies {
            for ev in &body.events {
                let EventKind::Call(c) = &ev.kind else {
                    continue;
                };
                let path = &c.path;
                let [.., owner, func] = path.as_slice() else {
                    continue;
                };
                if !LEAKERS.iter().any(|(o, f)| o == owner && f == func) {
                    continue;
                }
                let Some(arg) = c.args.first() else { continue };
                let Some(held) = cx.held_in(arg) else {
                    continue;
                };
                if !held.kind.holds_connection() {
                    continue;
                }
                let what = cx.describe(&held);
                let noun = held.kind.noun();
                let consequence = if held.kind.holds_pool_slot() {
                    "its destructor never runs, so it is never returned to the pool and the pool permanently loses a slot"
                } else {
                    "its destructor never runs, so the connection is never closed"
                };
                let mut labels = Vec::new();
                if let Some(origin) = arg.origin {
                    labels.push((origin, format!("this {noun} comes from here")));
                }
                cx.report(
                    (ev.span, format!("`{owner}::{func}` leaks the {noun}")),
                    format!("{what} passed to `{owner}::{func}`: {consequence}"),
                    labels,
                    Some(format!(
                        "let the {noun} drop at the end of its scope (or call `drop(..)` on it); to keep it longer, return it or store it in a value that is dropped"
                    )),
                );
            }
        }
    }
}
