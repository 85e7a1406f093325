//! Closures, async blocks and macro calls: code that runs elsewhere or later, and code written
//! inside macro arguments.

use super::exprs::simple_name;
use super::{Place, Value, Walker};
use crate::model::{visit, Expr, ExprId, MacroArgs, Pat, Sym};
use crate::profile::Kind;
use crate::types::Ty;
use std::collections::BTreeSet;

/// Macros that await the futures they are given.
const AWAIT_MACROS: &[&str] = &[
    "join",
    "try_join",
    "select",
    "select_biased",
    "biased_select",
];
/// Macros that never return.
const DIVERGING_MACROS: &[&str] = &["panic", "unreachable", "todo", "unimplemented", "bail"];

impl Walker<'_> {
    /// Walks a closure body and returns what it evaluates to.
    pub(super) fn closure(&mut self, e: ExprId, per_item: bool, task: Option<bool>) -> Value {
        let Expr::Closure {
            params,
            body,
            moves,
            is_async,
        } = self.m.expr(e)
        else {
            unreachable!("closure is called on closures");
        };
        let at = self.m.expr_span(e);
        let saved = self.ctx;
        if is_async {
            self.ctx.in_async = true;
        }
        if per_item {
            self.ctx.loop_depth += 1;
            self.ctx.loop_at = Some(at);
            self.ctx.loop_last_break = None;
        }
        // A run-once initialiser (`OnceLock::get_or_init(|| ..)`, `Lazy::new(|| ..)`) is not
        // code that runs per call.
        if std::mem::take(&mut self.init_closure) {
            self.ctx.closure_at = None;
        } else if per_item {
            // Per-item closures are loop bodies (`loop_at` above).
        } else {
            self.ctx.closure_at = Some(at);
        }
        let captured = if task.is_some() {
            visit::names_in(self.m, body, &|mac| self.ex.idents(mac))
        } else {
            Vec::new()
        };
        let borrows = std::mem::take(&mut self.closure_borrows);
        let v = self.detached_body(moves, task, &captured, |w| {
            for input in w.m.pats_of(params) {
                // An untyped parameter named like a held connection outside (`|conn| ..`
                // called with `conn`) stands for it.
                let name = simple_name(w.m, input);
                let shadowed: Vec<u32> = match (w.m.pat(input), name) {
                    (Pat::Ident { .. }, Some(n)) => w
                        .lookup(n)
                        .map(|b| b.owns.iter().chain(&b.borrows).copied().collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                w.bind(input, Value::default());
                if let Some(name) = name {
                    if let Some(b) = w.lookup_mut(name) {
                        b.borrows = borrows.iter().chain(&shadowed).copied().collect();
                    }
                }
            }
            w.expr(body)
        });
        self.ctx = saved;
        if is_async {
            Value {
                ty: Ty::future(v.ty.clone()),
                ..v
            }
        } else {
            v
        }
    }

    pub(super) fn async_block(&mut self, e: ExprId, task: Option<bool>) -> Value {
        let Expr::Async { block, moves } = self.m.expr(e) else {
            unreachable!("async_block is called on async blocks");
        };
        let saved = self.ctx;
        self.ctx.in_async = true;
        self.ctx.in_blocking_closure = false;
        let captured = if task.is_some() {
            visit::names_in(self.m, e, &|mac| self.ex.idents(mac))
        } else {
            Vec::new()
        };
        let v = self.detached_body(moves, task, &captured, |w| w.block(block));
        self.ctx = saved;
        Value {
            ty: Ty::future(v.ty.clone()),
            ..v
        }
    }

    /// Walks the body of a closure or async block. A spawned task (`task = Some(_)`) holds only
    /// what it captures by move; anything else runs while the enclosing body's connections are
    /// still held. Connections captured by `move` leave the enclosing body.
    fn detached_body(
        &mut self,
        moved: bool,
        task: Option<bool>,
        captured: &[Sym],
        walk: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        let outer_pending = std::mem::take(&mut self.pending);
        let mark = self.mentions.len();
        self.mentions.push(Some(BTreeSet::new()));
        let outer_state = self.state.clone();
        if task.is_some() {
            self.ctx.in_task = true;
            // A task spawned per iteration runs on its own: what it opens once is opened per
            // task (a worker's connection), not per iteration of the spawning loop.
            self.ctx.loop_depth = 0;
            self.ctx.loop_at = None;
            self.ctx.loop_last_break = None;
            // Only what the task captures by move (the names it mentions) is held inside it.
            let keep: BTreeSet<u32> = if moved {
                captured
                    .iter()
                    .filter_map(|n| self.lookup(*n))
                    .flat_map(|b| b.owns.iter().copied())
                    .collect()
            } else {
                BTreeSet::new()
            };
            self.state.held.retain(|id, _| keep.contains(id));
        }
        let v = self.scoped(walk);
        let mentioned = self.unwatch();
        self.mentions.truncate(mark);
        self.pending = outer_pending;
        self.state = outer_state;
        if moved {
            for name in &mentioned {
                let owned = self
                    .lookup(*name)
                    .map(|b| b.owns.clone())
                    .unwrap_or_default();
                if !owned.is_empty() {
                    if let Some(b) = self.lookup_mut(*name) {
                        b.owns.clear();
                    }
                    self.release(&owned);
                }
            }
        }
        // Names used inside are uses for enclosing awaits and calls.
        for name in mentioned {
            self.mention(name);
        }
        v
    }

    /// Macro arguments are code: walked as the expressions they parse to, or scanned for
    /// names when they do not parse. Awaiting macros (`join!`, `select!`) are await points.
    pub(super) fn mac(&mut self, i: u32) -> Value {
        let mac = self.m.mac(i);
        let name = self.name(mac.name);
        let span = mac.span;
        // A crate-local `macro_rules!` is walked as what it expands to.
        if let Some((model, e)) = self.ex.expansion(name, &mac) {
            let outer = std::mem::replace(&mut self.m, model);
            let v = self.expr(e);
            self.m = outer;
            return v;
        }
        let awaits = AWAIT_MACROS.contains(&name);
        // Logging and formatting macros are most macros: with nothing followed, their
        // arguments can hold no hazard worth the cost of walking them.
        let tracking = !self.state.maybe.is_empty() || !self.state.manual.is_empty();
        if !tracking && !awaits && name != "vec" && !DIVERGING_MACROS.contains(&name) {
            return Value::default();
        }
        let before: BTreeSet<u32> = self.held_ids();
        let mark = self.events.len();
        self.watch();
        // Arguments parsed on demand live in a model of their own: walk them there.
        let (args_model, args) = self.ex.args(self.m, &mac);
        let outer = std::mem::replace(&mut self.m, args_model);
        let out = match args {
            MacroArgs::Exprs(l) => {
                let vals: Vec<Value> = (0..l.len())
                    .map(|k| self.expr(self.m.nth_expr(l, k)))
                    .collect();
                if name == "vec" {
                    self.collection_of(vals)
                } else {
                    Value::default()
                }
            }
            MacroArgs::Repeat { elem, len } => {
                let v = self.expr(elem);
                self.expr(len);
                if name == "vec" {
                    self.collection_of(vec![v])
                } else {
                    Value::default()
                }
            }
            MacroArgs::Idents(l) => {
                for &ident in self.m.syms(l) {
                    if self.lookup(ident).is_some() {
                        self.mention(ident);
                    }
                }
                Value::default()
            }
            MacroArgs::Lazy { .. } => Value::default(),
        };
        self.m = outer;
        let mentioned = self.unwatch();
        for n in &mentioned {
            self.mention(*n);
        }
        // `join!(work, connection)`, `select! { r = connection => .. }` drive the futures named.
        if awaits {
            for n in &mentioned {
                let driver = self.lookup(*n).is_some_and(|b| {
                    self.idx
                        .value_held(&b.ty)
                        .is_some_and(|h| h.kind == Kind::Driver)
                });
                if driver {
                    let v = Value {
                        place: Place::Local(*n),
                        direct: true,
                        ..Value::default()
                    };
                    self.consume(&v);
                }
            }
            self.await_point(span, &before, &mentioned, mark);
        }
        if DIVERGING_MACROS.contains(&name) {
            self.state.reachable = false;
        }
        out
    }
}
