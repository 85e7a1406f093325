//! `unclosed-connection`: a connection or pool whose library needs an explicit async close is
//! dropped without it.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{DropHow, EventKind};
use crate::profile::Role;

pub struct UnclosedConnection;

static INFO: RuleInfo = RuleInfo {
    id: "unclosed-connection",
    family: Family::Close,
    default: Severity::Warning,
    summary: "a raw connection or pool that needs an explicit async close (`close().await`, `disconnect().await`, `shutdown().await`) dropped without it",
};

impl Rule for UnclosedConnection {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        let k = cx.index.knowledge;
        let mut seen = std::collections::BTreeSet::new();
        for (bi, body) in cx.bodies.iter().enumerate() {
            for ev in &body.events {
                let EventKind::Dropped { held, how, maybe } = &ev.kind else {
                    continue;
                };
                let ty = k.ty(held.held.ty);
                // A pool built per call is `pool-per-call`'s finding.
                let per_call = held.held.kind == crate::profile::Kind::Pool && !body.runs_once;
                if !ty.needs_close
                    || held.param
                    || held.shared
                    // A pool a crate-local function returned: its own build is judged there.
                    || held.from_helper.is_some()
                    || *how == DropHow::Closed
                    || per_call
                    || !seen.insert((bi, held.id))
                {
                    continue;
                }
                // The library's own close call, for the message and the fix.
                let close = k
                    .profile(held.held.ty)
                    .methods
                    .iter()
                    .find(|m| m.role == Role::Close && m.on.contains(&ty.name))
                    .and_then(|m| m.names.first());
                let close =
                    close.map_or("the close call".to_string(), |c| format!("`{c}().await`"));
                let why = ty
                    .drop
                    .clone()
                    .unwrap_or_else(|| "dropping it does not close it gracefully".to_string());
                let exit = match how {
                    DropHow::Return => "this `return` drops it",
                    DropHow::Discard => "`_` drops it at once",
                    DropHow::Unawaited => "the `close()` future is never awaited, so it never closes: the connection is dropped with it",
                    DropHow::Overwritten => "replaced here",
                    DropHow::ScopeEnd | DropHow::Closed => "dropped here",
                    DropHow::Explicit => "`drop` closes it here",
                };
                let some = if *maybe { " on some path" } else { "" };
                cx.report(
                    (held.origin, format!("this {} needs {close}", held.held.kind.noun())),
                    format!("{} `{}` is dropped without {close}{some}: {why}", k.profile(held.held.ty).name, ty.name),
                    vec![(ev.span, format!("{exit} without {close}"))],
                    Some(format!("call {close} before it goes out of scope, or hand it to the code that owns its lifetime")),
                );
            }
        }
    }
}
