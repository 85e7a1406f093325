//! Statements, blocks and expressions in evaluation order: bindings, scopes, branches, loops
//! and exits.

use super::{DropHow, EventKind, Place, Value, Walker};
use crate::model::{visit, BlockId, BlockKind, Expr, ExprId, FileModel, Pat, PatId, Stmt, Sym};
use crate::profile::Kind;
use crate::types::Ty;
use std::collections::BTreeSet;

impl Walker<'_> {
    /// The body of a function: its tail value is handed to the caller.
    pub fn body_block(&mut self, b: BlockId) {
        let v = self.block(b);
        let ids = v.holds.clone();
        self.pool_fate(&ids, || super::RETURNED.to_string());
        self.pending.retain(|p| !ids.contains(p));
    }

    pub(super) fn block(&mut self, b: BlockId) -> Value {
        self.block_with(b, false)
    }

    /// A block; `tail_escapes`: what its tail expression leaves in flight outlives the
    /// block (a plain block expression before edition 2024) instead of dying with the tail.
    fn block_with(&mut self, b: BlockId, tail_escapes: bool) -> Value {
        self.push_scope();
        let mut last = Value::default();
        let stmts = self.m.block(b).stmts;
        let n = stmts.len();
        for i in 0..n {
            let stmt = self.m.stmts[self.m.list(stmts)[i] as usize];
            let tail = i + 1 == n;
            // Each statement is a temporary scope of its own: it ends what it put in flight,
            // not what the statement around this block has in flight (the scrutinee of a
            // `match` or `if let` whose arm this is).
            let outer = std::mem::take(&mut self.pending);
            let v = self.stmt(stmt, tail, tail && tail_escapes);
            let mine = std::mem::replace(&mut self.pending, outer);
            self.pending.retain(|id| self.state.maybe.contains_key(id));
            self.pending.extend(mine);
            if tail {
                last = v;
            }
        }
        // A tail expression moves what it names out of the block.
        let moved = self.take(&last);
        last.holds = moved;
        last.direct = false;
        let saved = self.drop_at.replace(self.m.block(b).close);
        self.pop_scope();
        self.drop_at = saved;
        last
    }

    pub(super) fn end_statement(&mut self, keep: &[u32]) {
        for (id, m) in std::mem::take(&mut self.pending_manual) {
            self.state.manual.insert(id, m);
        }
        let dying: Vec<u32> = self
            .pending
            .iter()
            .copied()
            .filter(|p| !keep.contains(p))
            .collect();
        self.release(&dying);
    }

    /// One statement; `tail_escapes`: a tail expression's temporaries outlive it.
    fn stmt(&mut self, s: Stmt, tail: bool, tail_escapes: bool) -> Value {
        match s {
            Stmt::Local { pat, init, diverge } => {
                let Some(init) = init else {
                    self.bind(pat, Value::default());
                    return Value::default();
                };
                let before: BTreeSet<u32> = self.held_ids();
                self.watch();
                if matches!(self.m.pat(pat), Pat::Wild) {
                    self.discarded = Some(init);
                }
                let mut v = self.expr(init);
                self.discarded = None;
                let named = self.unwatch();
                if let Some(diverge) = diverge {
                    // The `else` block runs only when the pattern fails, and never falls through.
                    let saved = self.snapshot();
                    self.expr(diverge);
                    self.restore(&saved);
                }
                v.holds = self.take(&v);
                // A value computed from a held connection without awaiting borrows it
                // (`let rows = query.fetch(&mut *conn)`).
                // Passing a connection received by reference is a reborrow, like `&mut *conn`.
                let reborrows = named
                    .iter()
                    .filter_map(|n| self.lookup(*n))
                    .flat_map(|b| &b.owns)
                    .any(|id| self.state.held.get(id).is_some_and(|h| h.param));
                let computed = v.holds.is_empty()
                    && !is_awaited(self.m, init)
                    && (reborrows || has_reference(self.m, init));
                // A closure or future that captures a held connection, or a reference to one,
                // works on it (`let op = move || async move { use(tx) }`) while it is held.
                let captures =
                    matches!(self.m.expr(init), Expr::Closure { .. } | Expr::Async { .. });
                let mut borrows: Vec<u32> = if computed || captures {
                    named
                        .iter()
                        .filter_map(|n| self.lookup(*n))
                        .flat_map(|b| b.owns.iter().chain(&b.borrows).copied())
                        .filter(|id| {
                            before.contains(id) && (computed || self.state.held.contains_key(id))
                        })
                        .collect()
                } else if matches!(self.m.expr(init), Expr::Path { .. }) {
                    // `let sink = copy_stmt;`: what the moved value borrows, this one does.
                    named
                        .iter()
                        .filter_map(|n| self.lookup(*n))
                        .flat_map(|b| b.borrows.iter().copied())
                        .collect()
                } else {
                    Vec::new()
                };
                borrows.extend(v.borrows.iter().copied());
                // Evaluated before the binding exists (`let max = max * 2;` reads the old one).
                let konst = self.const_of(init);
                self.bind(pat, v);
                if let (Some(k), Some(name)) = (konst, simple_name(self.m, pat)) {
                    if let Some(b) = self.lookup_mut(name) {
                        b.konst = Some(k);
                    }
                }
                if !borrows.is_empty() {
                    if let Some(name) = simple_name(self.m, pat) {
                        if let Some(b) = self.lookup_mut(name) {
                            b.borrows = borrows;
                        }
                    }
                }
                self.end_statement(&[]);
                Value::default()
            }
            Stmt::Expr { expr, semi } => {
                if semi {
                    self.discarded = Some(expr);
                }
                let v = self.expr(expr);
                self.discarded = None;
                if semi || !tail {
                    self.end_statement(&[]);
                    Value::default()
                } else if tail_escapes {
                    // Its temporaries die with the statement around the block.
                    let all = self.pending.clone();
                    self.end_statement(&all);
                    v
                } else {
                    let keep = v.holds.clone();
                    self.end_statement(&keep);
                    v
                }
            }
            Stmt::Macro(i) => {
                self.mac(i);
                self.end_statement(&[]);
                Value::default()
            }
            Stmt::Item => Value::default(),
        }
    }

    /// Walks an expression in evaluation order and returns the value it produces.
    pub fn expr(&mut self, e: ExprId) -> Value {
        match self.m.expr(e) {
            Expr::Path { segs, qself } => self.path_expr(segs, qself),
            Expr::Field { base, member } => self.field(base, member),
            Expr::MethodCall { .. } => self.method_call(e),
            Expr::Call { .. } => self.call(e),
            Expr::Await(base) => self.await_expr(e, base),
            Expr::Try(inner) => {
                let v = self.expr(inner);
                self.manual_exit(self.m.expr_span(e), "`?`");
                Value {
                    ty: v.ty.unwrap_fallible(),
                    direct: false,
                    ..v
                }
            }
            Expr::Reference(inner) => {
                let v = self.expr(inner);
                // A reference does not move what it points to, nor hand it on.
                Value {
                    direct: false,
                    place: Place::Temp,
                    manual: Vec::new(),
                    ..v
                }
            }
            Expr::Deref(inner) => {
                let v = self.expr(inner);
                Value {
                    direct: false,
                    holds: Vec::new(),
                    ..v
                }
            }
            Expr::Unary(inner) => {
                self.expr(inner);
                Value::default()
            }
            Expr::Block { block, kind } => match kind {
                BlockKind::Labelled => {
                    let open = self.m.block(block).open;
                    self.in_loop(open, |w| w.block(block))
                }
                BlockKind::Try => {
                    let v = self.block(block);
                    Value {
                        ty: Ty::fallible(v.ty),
                        ..v
                    }
                }
                // Before edition 2024 a block's tail temporaries outlive the block.
                BlockKind::Plain | BlockKind::Unsafe => {
                    let escapes = self.idx.edition(self.file) < 2024;
                    self.block_with(block, escapes)
                }
                BlockKind::Const => self.block(block),
            },
            Expr::Async { .. } => self.async_block(e, None),
            Expr::Closure { .. } => {
                let v = self.closure(e, false, None);
                Value {
                    ty: Ty::Unknown,
                    origin: v.origin,
                    ..Value::default()
                }
            }
            Expr::If { cond, then, els } => self.if_expr(cond, then, els),
            Expr::Let { pat, expr } => {
                let v = self.expr(expr);
                let ids = self.take(&v);
                self.bind(pat, Value { holds: ids, ..v });
                Value::default()
            }
            Expr::Match { scrut, arms } => self.match_expr(scrut, arms),
            Expr::ForLoop { pat, iter, body } => {
                let it = self.expr(iter);
                let elem = it.ty.element().cloned().unwrap_or_default();
                let start = self.snapshot();
                let last_break = super::control::LoopExits::of(self.m, body).last_break;
                self.in_loop(self.m.expr_span(e), |w| {
                    w.ctx.loop_last_break = last_break;
                    w.bind(pat, Value::of(elem));
                    w.block(body);
                });
                let end = self.snapshot();
                self.join(start, end);
                self.state.reachable = true;
                Value::default()
            }
            Expr::While { cond, body } => {
                let start = self.snapshot();
                let last_break = super::control::LoopExits::of(self.m, body).last_break;
                self.in_loop(self.m.expr_span(e), |w| {
                    w.ctx.loop_last_break = last_break;
                    // A plain condition's temporaries die before the body; those of a
                    // `while let` scrutinee live through each iteration.
                    let mark = w.pending.clone();
                    w.expr(cond);
                    let temps = w.temps_since(&mark);
                    if !visit::binds(w.m, cond) {
                        w.release(&temps);
                    }
                    w.block(body);
                    w.release(&temps);
                });
                let end = self.snapshot();
                self.join(start, end);
                self.state.reachable = true;
                Value::default()
            }
            Expr::Loop { body } => self.loop_expr(e, body),
            Expr::Assign { left, right } => self.assign(left, right),
            Expr::Binary { op, left, right } => {
                if op == crate::model::BinOp::Compound {
                    self.forget_const(left);
                }
                self.expr(left);
                self.expr(right);
                Value::default()
            }
            Expr::Index { base, index } => {
                let saved = std::mem::replace(&mut self.field_base, false);
                let base = self.expr(base);
                self.field_base = saved;
                self.expr(index);
                let ty = base.ty.element().cloned().unwrap_or_default();
                Value {
                    origin: base.origin,
                    ty,
                    place: base.place,
                    ..Value::default()
                }
            }
            Expr::Tuple(l) => {
                let vals: Vec<Value> = (0..l.len())
                    .map(|i| self.expr(self.m.nth_expr(l, i)))
                    .collect();
                let mut holds = Vec::new();
                for v in &vals {
                    holds.extend(self.take(v));
                }
                let origin = vals.iter().find_map(|v| v.origin);
                let tys: Vec<Ty> = vals.into_iter().map(|v| v.ty).collect();
                let ty = if tys.iter().all(Ty::is_unknown) {
                    Ty::Unknown
                } else {
                    Ty::Tuple(tys)
                };
                Value {
                    ty,
                    origin,
                    holds,
                    ..Value::default()
                }
            }
            Expr::Array(l) => {
                let vals: Vec<Value> = (0..l.len())
                    .map(|i| self.expr(self.m.nth_expr(l, i)))
                    .collect();
                self.collection_of(vals)
            }
            Expr::Repeat { elem, len } => {
                let v = self.expr(elem);
                self.expr(len);
                self.collection_of(vec![v])
            }
            Expr::Struct { path, fields, rest } => self.struct_lit(e, path, fields, rest),
            Expr::Cast(inner) => {
                self.expr(inner);
                Value::default()
            }
            Expr::Range { start, end } => {
                if let Some(s) = start {
                    self.expr(s);
                }
                if let Some(x) = end {
                    self.expr(x);
                }
                Value::of(Ty::iter(Ty::Unknown))
            }
            Expr::Return(value) => self.return_expr(e, value),
            Expr::Break { value, .. } => {
                if let Some(x) = value {
                    // `break conn`: the connection becomes the loop's value.
                    let v = self.expr(x);
                    let ids = self.take(&v);
                    if let Some(top) = self.break_values.last_mut() {
                        top.extend(ids);
                    }
                }
                self.manual_exit(self.m.expr_span(e), "`break`");
                self.state.reachable = false;
                Value::default()
            }
            Expr::Continue => {
                self.state.reachable = false;
                Value::default()
            }
            Expr::Yield(value) => {
                if let Some(x) = value {
                    self.expr(x);
                }
                Value::default()
            }
            Expr::Macro(i) => self.mac(i),
            Expr::RawAddr(inner) => {
                self.expr(inner);
                Value::default()
            }
            Expr::Lit(_) | Expr::Other => Value::default(),
        }
    }

    /// A local assigned again no longer has one constant value (the assignment may be on one
    /// path only).
    fn forget_const(&mut self, left: ExprId) {
        if let Expr::Path { segs, .. } = self.m.expr(left) {
            if segs.len() == 1 {
                if let Some(b) = self.lookup_mut(self.m.syms(segs)[0]) {
                    b.konst = None;
                }
            }
        }
    }

    fn assign(&mut self, left: ExprId, right: ExprId) -> Value {
        self.forget_const(left);
        let v = self.expr(right);
        let ids = self.take(&v);
        let local = match self.m.expr(left) {
            Expr::Path { segs, .. } if segs.len() == 1 => {
                let name = self.m.syms(segs)[0];
                self.lookup(name).is_some().then_some(name)
            }
            _ => None,
        };
        if let Some(name) = local {
            // The old value is dropped; the binding owns the new one.
            let old = self
                .lookup_mut(name)
                .map(|b| std::mem::take(&mut b.owns))
                .unwrap_or_default();
            self.drop_ids(&old, DropHow::Overwritten);
            self.pending.retain(|p| !ids.contains(p));
            if let Some(b) = self.lookup_mut(name) {
                b.owns = ids.clone();
            }
            self.mention(name);
        } else {
            // Stored somewhere this body does not track (a field, a static).
            let target = self.m.render(left);
            self.pool_fate(&ids, || format!("stored in `{target}`"));
            self.release(&ids);
            self.expr(left);
            // `cfg.pool = Some(PoolConfig { max_size: 16, .. })` on a builder.
            if let Expr::Field { base, member } = self.m.expr(left) {
                if let (Some(root), true) = (root_name(self.m, base), self.m.is_named(member)) {
                    let mut found = Vec::new();
                    self.settings_in(self.name(member), right, &mut found);
                    // `cfg.pool = Some(pool_cfg)`: what was set on `pool_cfg`.
                    found.extend(v.settings.iter().cloned());
                    if let Some(b) = self.lookup_mut(root) {
                        b.settings.extend(found);
                    }
                }
            }
        }
        Value::default()
    }

    fn path_expr(&mut self, segs: crate::model::SymList, qself: bool) -> Value {
        if !qself && segs.len() == 1 {
            let name = self.m.syms(segs)[0];
            if let Some(b) = self.lookup(name) {
                let v = Value {
                    ty: b.ty.clone(),
                    origin: b.origin,
                    place: Place::Local(name),
                    holds: Vec::new(),
                    pool_key: b.pool_key.clone(),
                    direct: true,
                    borrows: Vec::new(),
                    settings: b.settings.clone(),
                    manual: b.manual.clone(),
                };
                if !self.field_base {
                    self.mention(name);
                }
                return v;
            }
            if let Some(t) = self.idx.static_type(self.name(name)) {
                return Value {
                    ty: t.clone(),
                    place: Place::Static(name),
                    pool_key: Some(self.name(name).into()),
                    ..Value::default()
                };
            }
        }
        Value::default()
    }

    fn field(&mut self, base_e: ExprId, member: Sym) -> Value {
        // Only the root of a plain field chain (`state.db.pool`) is not a use by itself; in
        // `call(conn).await?.id` everything inside the base is evaluated as usual.
        let root = root_name(self.m, base_e);
        let saved = std::mem::replace(&mut self.field_base, root.is_some());
        let base = self.expr(base_e);
        self.field_base = saved;
        let field = self.name(member);
        let on_self = self.m.is_ident(base_e, "self")
            || matches!(base.place, Place::Field { on_self: true, .. });
        let ty = match base.ty.settled() {
            Ty::Local(owner) => self.idx.field(*owner, field).cloned().unwrap_or_default(),
            Ty::Tuple(ts) => field
                .parse::<usize>()
                .ok()
                .and_then(|i| ts.get(i).cloned())
                .unwrap_or_default(),
            _ => Ty::Unknown,
        };
        // Naming a field is a use of the root binding only when that field holds the
        // connection (or its type is unknown): `self.http` is not a use of `self.conn`.
        if !self.field_base && (ty.is_unknown() || self.idx.value_held(&ty).is_some()) {
            if let Some(root) = root {
                self.mention(root);
            }
        }
        let pool_key = base
            .pool_key
            .as_ref()
            .map(|k| format!("{k}.{field}").into());
        Value {
            origin: if self.idx.value_held(&ty).is_some() {
                base.origin
            } else {
                None
            },
            ty,
            place: Place::Field {
                on_self,
                field: member,
                root,
            },
            holds: Vec::new(),
            pool_key,
            direct: false,
            borrows: Vec::new(),
            settings: Vec::new(),
            manual: Vec::new(),
        }
    }

    fn await_expr(&mut self, e: ExprId, base: ExprId) -> Value {
        let before: BTreeSet<u32> = self.held_ids();
        let mark = self.events.len();
        self.watch();
        let v = self.expr(base);
        let mentioned = self.unwatch();
        // Awaiting a connection task drives it (`connection.await`).
        if v.direct
            && self
                .idx
                .value_held(&v.ty)
                .is_some_and(|h| h.kind == Kind::Driver)
        {
            self.consume(&v);
        }
        // Awaiting a crate-local `async fn` that cannot suspend waits on nothing.
        let quiet_call = matches!(
            self.m.expr(base),
            Expr::Call { .. } | Expr::MethodCall { .. }
        ) && {
            let mut callees = self.events[mark..].iter().filter_map(|ev| match &ev.kind {
                EventKind::LocalCall { key, .. } => Some(*key),
                _ => None,
            });
            let first = callees.next();
            first.is_some_and(|k| self.idx.never_suspends(k))
                && callees.all(|k| self.idx.never_suspends(k))
        };
        if !quiet_call {
            self.await_point(self.m.expr_span(e), &before, &mentioned, mark);
        }
        Value {
            ty: v.ty.clone().awaited(),
            direct: false,
            ..v
        }
    }

    /// Records an await with what its future does not use.
    pub(super) fn await_point(
        &mut self,
        span: crate::model::Span,
        before: &BTreeSet<u32>,
        mentioned: &BTreeSet<Sym>,
        mark: usize,
    ) {
        let held = self.unused(before, mentioned);
        // Only what is held across it makes an await matter to a rule.
        if held.is_empty() {
            return;
        }
        // Database work on another held connection (`execute(&mut *tx).await`, or
        // `tx.commit().await`, which consumes it)?
        let on_held = before.iter().any(|id| !held.iter().any(|h| h.id == *id));
        let mut callees = Vec::new();
        let mut acquires = false;
        for ev in &self.events[mark..] {
            match &ev.kind {
                EventKind::LocalCall { key, .. } => callees.push(*key),
                EventKind::Acquire { .. } => acquires = true,
                _ => {}
            }
        }
        self.push_event(
            EventKind::Await {
                held,
                callees,
                acquires,
                on_held,
            },
            span,
        );
    }

    fn struct_lit(
        &mut self,
        e: ExprId,
        path: crate::model::SymList,
        fields: crate::model::List,
        rest: Option<ExprId>,
    ) -> Value {
        let mut holds = Vec::new();
        // Options a field's value carries (`PoolConfig { timeouts, .. }` after
        // `let timeouts = Timeouts { wait: .., .. }`).
        let mut carried = Vec::new();
        for i in 0..fields.len() {
            let f = self.m.field_init(self.m.list(fields)[i]);
            let v = self.expr(f.expr);
            holds.extend(self.take(&v));
            carried.extend(v.settings);
        }
        if let Some(r) = rest {
            self.expr(r);
        }
        let segs = self.m.path_strings(path);
        let ty = self.idx.resolve_path(&self.at, &segs);
        // A struct literal of pool options carries them (`Config { pool: .. }`).
        let mut settings = Vec::new();
        if self
            .idx
            .value_held(&ty)
            .is_some_and(|h| h.kind == Kind::Builder)
        {
            self.settings_in("", e, &mut settings);
            settings.extend(carried);
        }
        let owner = segs.last().cloned().unwrap_or_default();
        self.pool_fate(&holds, || format!("stored in a `{owner}`"));
        if self
            .idx
            .value_held(&ty)
            .is_none_or(|h| !h.kind.holds_connection())
        {
            // Moved into a value this body does not track.
            self.release(&holds);
            holds.clear();
        }
        Value {
            ty,
            holds,
            settings,
            ..Value::default()
        }
    }
}

/// The name a simple pattern binds (`conn`, `mut conn`, `conn: T`).
pub(super) fn simple_name(m: &FileModel, p: PatId) -> Option<Sym> {
    match m.pat(p) {
        Pat::Ident { name, .. } => Some(name),
        Pat::Typed { pat, .. } => simple_name(m, pat),
        Pat::TupleStruct { elems, .. } if elems.len() == 1 => {
            simple_name(m, m.pats_of(elems).next()?)
        }
        _ => None,
    }
}

/// The binding at the root of a field chain (`state` in `state.db.pool`).
pub(super) fn root_name(m: &FileModel, e: ExprId) -> Option<Sym> {
    match m.expr(e) {
        Expr::Path { segs, .. } if segs.len() == 1 => Some(m.syms(segs)[0]),
        Expr::Field { base, .. } => root_name(m, base),
        _ => None,
    }
}

/// Does the expression end in an `.await` (possibly followed by `?` or unwraps)?
fn is_awaited(m: &FileModel, e: ExprId) -> bool {
    match m.expr(e) {
        Expr::Await(_) => true,
        Expr::Try(inner) => is_awaited(m, inner),
        Expr::MethodCall { recv, method, .. }
            if crate::resolve::UNWRAP_METHODS.contains(&m.name(method)) =>
        {
            is_awaited(m, recv)
        }
        _ => false,
    }
}

/// Does the expression take a reference (`&x`, `&mut *x`) somewhere (not inside closures)?
fn has_reference(m: &FileModel, e: ExprId) -> bool {
    let mut found = false;
    visit::exprs(m, e, false, &mut |x| match m.expr(x) {
        Expr::Reference(_) => {
            found = true;
            false
        }
        Expr::Closure { .. } => false,
        _ => !found,
    });
    found
}
