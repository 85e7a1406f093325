//! `unfinished-transaction`: a transaction reaches a normal exit without commit or rollback.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{DropHow, EventKind};
use crate::profile::Kind;

pub struct UnfinishedTransaction;

static INFO: RuleInfo = RuleInfo {
    id: "unfinished-transaction",
    family: Family::Close,
    default: Severity::Warning,
    summary: "a transaction that reaches a normal (non-error) exit without `commit`/`rollback` and is not handed on",
};

impl Rule for UnfinishedTransaction {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        let mut seen = std::collections::BTreeSet::new();
        for (bi, body) in cx.bodies.iter().enumerate() {
            for ev in &body.events {
                if let EventKind::TxStateLeft {
                    held,
                    begun,
                    how,
                    maybe,
                } = &ev.kind
                {
                    if seen.insert((bi, held.id)) {
                        state_left(cx, held, *begun, *how, *maybe, ev.span);
                    }
                    continue;
                }
                let EventKind::Dropped { held, how, maybe } = &ev.kind else {
                    continue;
                };
                // `drop(tx)` is a deliberate rollback.
                // A savepoint dropped is undone on purpose more often than not.
                if held.held.kind != Kind::Transaction
                    || held.param
                    || held.nested
                    || matches!(how, DropHow::Explicit | DropHow::Closed)
                    || !seen.insert((bi, held.id))
                {
                    continue;
                }
                let name = cx.held_name(held);
                let exit = match how {
                    DropHow::Return => "this `return` leaves without committing",
                    DropHow::Discard => "`_` drops it at once",
                    DropHow::Unawaited => "the `commit()` or `rollback()` future is never awaited, so it never runs: the transaction is dropped with it",
                    DropHow::Overwritten => "replaced here without committing",
                    DropHow::ScopeEnd | DropHow::Explicit | DropHow::Closed => {
                        "it goes out of scope here without `commit` or `rollback`"
                    }
                };
                let some = if *maybe { " on some path" } else { "" };
                cx.report(
                    (held.origin, "the transaction begins here".to_string()),
                    format!("{name} reaches a normal exit without `commit` or `rollback`{some}: when it is dropped the library rolls it back, so the writes made in it are silently lost"),
                    vec![(ev.span, exit.to_string())],
                    Some(format!("call `.commit()` on every path that should keep the writes (and `.rollback()` where it should not), or return {name} to the caller")),
                );
            }
        }
    }
}

/// A connection leaves the body while a transaction kept as its state is open.
fn state_left(
    cx: &mut FileCx<'_>,
    held: &crate::flow::HeldRef,
    begun: crate::model::Span,
    how: DropHow,
    maybe: bool,
    at: crate::model::Span,
) {
    let name = cx.held_name(held);
    let some = if maybe { " on some path" } else { "" };
    let (exit, fate) = if held.held.kind.holds_pool_slot() {
        (
            "it goes back to its pool here, still inside the transaction",
            "goes back to its pool still inside the transaction: the pool discards it or hands it to the next user inside the transaction, and until then it sits `idle in transaction` holding its locks",
        )
    } else {
        (
            "it is dropped here, still inside the transaction",
            "is dropped still inside the transaction: the writes are lost with the connection, and until the server notices the close the session sits `idle in transaction` holding its locks",
        )
    };
    let exit = match how {
        DropHow::Return => "this `return` leaves with the transaction open",
        DropHow::Overwritten => "replaced here with the transaction open",
        _ => exit,
    };
    cx.report(
        (begun, "a transaction begins here, as the connection's state".to_string()),
        format!("{name} {fate}{some}"),
        vec![(at, exit.to_string())],
        Some(format!("end it with `commit_transaction` / `rollback_transaction` on {name} on every path, or use the closure form (`conn.transaction(|conn| ..)`), which commits on `Ok` and rolls back on `Err`")),
    );
}
