//! Control flow: branches (`if`, `match`) merge what is held on each path, loops run their
//! body once with what holds on entry, and exits (`return`, an endless `loop`) end what the
//! bindings own.

use super::state::Snap;
use super::{DropHow, EventKind, Value, Walker};
use crate::model::{visit, BlockId, Expr, ExprId, FileModel, List, Pat, Stmt};

impl Walker<'_> {
    pub(super) fn if_expr(&mut self, cond: ExprId, then: BlockId, els: Option<ExprId>) -> Value {
        // `if let` bindings live in the then-branch only.
        self.push_scope();
        let mark = self.pending.clone();
        self.expr(cond);
        // Temporaries of a plain condition die before the branches. Those of an `if let`
        // scrutinee (`pool.get().await?.query_opt(..)`) live to the end of the whole
        // statement, else branch included; since edition 2024, only to the end of the
        // then-branch.
        let temps = self.temps_since(&mark);
        let scrutinee = visit::binds(self.m, cond);
        if !scrutinee {
            self.release(&temps);
        }
        let early = scrutinee && self.idx.edition(self.file) >= 2024;
        let start = self.snapshot();
        let then = self.block(then);
        self.pop_scope();
        if early {
            self.release(&temps);
        }
        let after_then = self.snapshot();
        self.restore(&start);
        if early {
            self.release(&temps);
        }
        // The else block is a temporary scope of its own.
        let other = els.map(|e| self.temp_scope(|w| w.expr(e)));
        let after_else = self.snapshot();
        self.join(after_then, after_else);
        let mut out = if then.ty.is_unknown() {
            other.unwrap_or_default()
        } else {
            then
        };
        out.direct = false;
        out
    }

    pub(super) fn match_expr(&mut self, scrut_e: ExprId, arms: List) -> Value {
        self.watch();
        let scrut = self.expr(scrut_e);
        let named = self.unwatch();
        for n in &named {
            self.mention(*n);
        }
        let ids = self.take(&scrut);
        // `match self { Kind::A(conn) => conn.run(..).await, .. }`: a part bound from a held
        // value that stays where it is works on that value.
        let place = is_place(self.m, scrut_e);
        let borrowed: Vec<u32> = named
            .iter()
            .filter(|_| place)
            .filter_map(|n| self.lookup(*n))
            .flat_map(|b| b.owns.iter().chain(&b.borrows).copied())
            .filter(|id| !ids.contains(id) && self.state.held.contains_key(id))
            .collect();
        let start = self.snapshot();
        let mut merged: Option<Snap> = None;
        let mut out = Value::default();
        for i in 0..arms.len() {
            let arm = self.m.arm(self.m.list(arms)[i]);
            self.restore(&start);
            let v = self.scoped(|w| {
                w.arm_binding = true;
                w.bind(
                    arm.pat,
                    Value {
                        holds: ids.clone(),
                        ..scrut.clone()
                    },
                );
                if !borrowed.is_empty() {
                    visit::each_pat(w.m, arm.pat, &mut |p| {
                        if let Pat::Ident { name, .. } = w.m.pat(p) {
                            if let Some(b) = w.lookup_mut(name).filter(|b| b.owns.is_empty()) {
                                b.borrows.extend(borrowed.iter().copied());
                            }
                        }
                    });
                }
                // A guard and an arm's body are temporary scopes of their own; the
                // scrutinee's temporaries live on through every arm.
                if let Pat::Guard { guard, .. } = w.m.pat(arm.pat) {
                    w.temp_scope(|w| w.expr(guard));
                }
                // What the arm evaluates to leaves the arm's scope with it.
                w.temp_scope(|w| {
                    let v = w.expr(arm.body);
                    let holds = w.take(&v);
                    Value {
                        holds,
                        direct: false,
                        ..v
                    }
                })
            });
            if out.ty.is_unknown() && self.state.reachable {
                out = v;
            }
            let end = self.snapshot();
            merged = Some(match merged {
                None => end,
                Some(m) => {
                    self.join(m, end);
                    self.snapshot()
                }
            });
        }
        if let Some(m) = merged {
            self.restore(&m);
        }
        out.direct = false;
        out
    }

    /// What was put in flight since `mark` (a copy of `pending`): the temporaries of the
    /// expression walked in between.
    pub(super) fn temps_since(&self, mark: &[u32]) -> Vec<u32> {
        self.pending
            .iter()
            .filter(|id| !mark.contains(id))
            .copied()
            .collect()
    }

    /// Walks an expression that is a temporary scope of its own (an else block, a match
    /// guard or arm): its temporaries die at its end, except what its value carries on.
    pub(super) fn temp_scope(&mut self, f: impl FnOnce(&mut Self) -> Value) -> Value {
        let mark = self.pending.clone();
        let v = f(self);
        let dying: Vec<u32> = self
            .temps_since(&mark)
            .into_iter()
            .filter(|id| !v.holds.contains(id))
            .collect();
        self.release(&dying);
        v
    }

    pub(super) fn loop_expr(&mut self, e: ExprId, body: BlockId) -> Value {
        let span = self.m.expr_span(e);
        let exits = LoopExits::of(self.m, body);
        if !exits.any {
            let held = self.held_snapshot();
            self.push_event(EventKind::EndlessLoop { held }, span);
        }
        let start = self.snapshot();
        self.break_values.push(Vec::new());
        // `loop { match connect().await { Ok(c) => break c, .. } }` retries until one
        // connection succeeds: not one per iteration.
        let retry = exits.breaks_with_value;
        self.in_loop(span, |w| {
            w.ctx.loop_last_break = exits.last_break;
            if retry {
                w.ctx.loop_at = None;
                w.ctx.loop_depth -= 1;
            }
            w.block(body)
        });
        let broke = self.break_values.pop().unwrap_or_default();
        let end = self.snapshot();
        self.join(start, end);
        // Only a `break` leaves a `loop`; what it carries is the loop's value.
        self.state.reachable = exits.breaks;
        for id in &broke {
            if let Some(h) = self.state.maybe.get(id).cloned() {
                self.state.held.insert(*id, h);
            }
        }
        self.pending.extend(broke.iter().copied());
        Value {
            holds: broke,
            ..Value::default()
        }
    }

    pub(super) fn return_expr(&mut self, e: ExprId, value: Option<ExprId>) -> Value {
        let span = self.m.expr_span(e);
        let mut error_exit = false;
        if let Some(x) = value {
            error_exit = is_error_value(self.m, x);
            let v = self.expr(x);
            // Handed to the caller.
            let ids = self.take(&v);
            self.pool_fate(&ids, || super::RETURNED.to_string());
            self.pending.retain(|p| !ids.contains(p));
            self.release(&ids);
        }
        self.manual_exit(span, "`return`");
        if !error_exit {
            // A normal exit: what the bindings still own is dropped here.
            let mut ids: Vec<u32> = self
                .scopes
                .iter()
                .flat_map(|s| s.bindings.iter().flat_map(|(_, b)| b.owns.iter().copied()))
                .collect();
            ids.sort_unstable();
            ids.retain(|id| !self.state.maybe.get(id).is_some_and(|h| h.param));
            let saved = self.drop_at.replace(span);
            if self.state.reachable {
                for id in &ids {
                    if let Some(h) = self.state.maybe.get(id).cloned() {
                        self.dropped_event(*id, h, DropHow::Return, span);
                    }
                }
            }
            self.drop_at = saved;
        }
        self.state.reachable = false;
        Value::default()
    }
}

/// `return Err(..)`: an error exit (rollback on drop is the idiom there).
fn is_error_value(m: &FileModel, e: ExprId) -> bool {
    match m.expr(e) {
        Expr::Call { func, .. } => {
            matches!(m.expr(func), Expr::Path { segs, .. } if m.last(segs) == Some("Err"))
        }
        Expr::MethodCall { recv, method, .. } => {
            m.name(method) == "into" && is_error_value(m, recv)
        }
        _ => false,
    }
}

/// A place expression (`self`, `state.conn`, `*guard`, `&mut self.db`), not a value computed
/// from one (`find(&conn).await`).
fn is_place(m: &FileModel, e: ExprId) -> bool {
    match m.expr(e) {
        Expr::Path { .. } => true,
        Expr::Field { base, .. } | Expr::Reference(base) | Expr::Deref(base) => is_place(m, base),
        _ => false,
    }
}

/// How a `loop` can end: `break` (of this loop) or `return` anywhere in it.
pub(super) struct LoopExits {
    any: bool,
    breaks: bool,
    /// Some `break` carries a value out (a retry loop's result).
    breaks_with_value: bool,
    /// Where the last `break` of this loop is.
    pub(super) last_break: Option<crate::model::Pos>,
}

impl LoopExits {
    pub(super) fn of(m: &FileModel, body: BlockId) -> LoopExits {
        let mut exits = LoopExits {
            any: false,
            breaks: false,
            breaks_with_value: false,
            last_break: None,
        };
        let mut returns = false;
        fn walk(
            m: &FileModel,
            e: ExprId,
            depth: u32,
            exits: &mut LoopExits,
            returns: &mut bool,
        ) -> bool {
            match m.expr(e) {
                Expr::Break { value, labelled } => {
                    // An unlabeled break inside a nested loop ends that loop, not this one.
                    if depth == 0 || labelled {
                        exits.breaks = true;
                        exits.breaks_with_value |= value.is_some();
                        exits.last_break = exits.last_break.max(Some(m.expr_span(e).lo));
                    }
                    true
                }
                Expr::Return(_) => {
                    *returns = true;
                    true
                }
                Expr::Loop { body } | Expr::While { body, .. } | Expr::ForLoop { body, .. } => {
                    if let Expr::While { cond, .. } | Expr::ForLoop { iter: cond, .. } = m.expr(e) {
                        visit::exprs(m, cond, false, &mut |x| walk(m, x, depth, exits, returns));
                    }
                    if let Expr::ForLoop { pat, .. } = m.expr(e) {
                        visit::each_pat(m, pat, &mut |p| {
                            if let Pat::Guard { guard, .. } = m.pat(p) {
                                visit::exprs(m, guard, false, &mut |x| {
                                    walk(m, x, depth, exits, returns)
                                });
                            }
                        });
                    }
                    visit::block_exprs(m, body, false, &mut |x| {
                        walk(m, x, depth + 1, exits, returns)
                    });
                    false
                }
                // Closures and async blocks return from themselves, not from the loop.
                Expr::Closure { .. } | Expr::Async { .. } => false,
                // `select!` arms can `break`/`return`: look at the tokens.
                Expr::Macro(i) => {
                    macro_words(m, i, depth, exits, returns);
                    true
                }
                _ => true,
            }
        }
        fn macro_words(
            m: &FileModel,
            i: u32,
            depth: u32,
            exits: &mut LoopExits,
            returns: &mut bool,
        ) {
            let mac = m.mac(i);
            if mac.has_return {
                *returns = true;
            }
            if depth == 0 && mac.has_break {
                exits.breaks = true;
            }
        }
        for s in m.stmts(body) {
            match s {
                Stmt::Macro(i) => macro_words(m, i, 0, &mut exits, &mut returns),
                _ => {
                    let mut each = |x: ExprId| walk(m, x, 0, &mut exits, &mut returns);
                    for_stmt_exprs(m, s, &mut each);
                }
            }
        }
        exits.any = exits.breaks || returns;
        exits
    }
}

/// Visits (not macro arguments) the expressions of one statement, with `f` deciding descent.
fn for_stmt_exprs(m: &FileModel, s: Stmt, f: &mut dyn FnMut(ExprId) -> bool) {
    match s {
        Stmt::Local {
            pat, init, diverge, ..
        } => {
            visit::each_pat(m, pat, &mut |p| {
                if let Pat::Guard { guard, .. } = m.pat(p) {
                    visit::exprs(m, guard, false, f);
                }
            });
            for x in init.into_iter().chain(diverge) {
                visit::exprs(m, x, false, f);
            }
        }
        Stmt::Expr { expr, .. } => visit::exprs(m, expr, false, f),
        Stmt::Macro(_) | Stmt::Item => {}
    }
}
