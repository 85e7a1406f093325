//! The evaluation-order walker of one body: what it holds, and how values carrying
//! connections are followed, moved, handed on and dropped.

use super::macros::Expander;
use super::state::{Manual, Scope, State};
use super::{Ctx, DropHow, Event, EventKind, HeldRef, Place, PoolBuiltEvent, TypeId, Value};
use crate::index::{CalleeKey, CrateIndex, FileId, Where};
use crate::model::{Expr, ExprId, FileModel, Span, Sym, TyId};
use crate::profile::Kind;
use crate::types::{Held, Ty};
use std::collections::{BTreeSet, HashMap};

/// The evaluation-order walker of one body.
pub struct Walker<'a> {
    pub(super) idx: &'a CrateIndex,
    /// The model being walked: the file's, or that of the macro arguments being walked.
    pub(super) m: &'a FileModel,
    /// Parses macro arguments when the walk needs them.
    pub(super) ex: &'a Expander<'a>,
    pub(super) file: FileId,
    /// Where the body is: its module, `Self` type and generic parameters.
    pub(super) at: Where,
    pub(super) scopes: Vec<Scope>,
    pub(super) state: State,
    /// Ids in flight in the current statement: acquired or moved out, not yet bound or consumed.
    pub(super) pending: Vec<u32>,
    /// The expression of the current statement whose value is thrown away (`expr;`,
    /// `let _ = expr;`): an async `commit()`/`close()` there is never awaited.
    pub(super) discarded: Option<crate::model::ExprId>,
    next_id: u32,
    /// Names mentioned while evaluating each enclosing `.await` base or call.
    pub(super) mentions: Vec<Option<BTreeSet<Sym>>>,
    /// Held connections the parameters of the next closure stand for
    /// (`conn.transaction(|c| ..)`: `c` is `conn`).
    pub(super) closure_borrows: Vec<u32>,
    /// The call whose arguments are being walked, as written (`run`, `execute_after`,
    /// `Job::new_async`): what a `move` closure among them is registered with.
    pub(super) arg_callee: Option<String>,
    /// Set while evaluating the base of a field access: the base alone is not a use.
    pub(super) field_base: bool,
    /// Where the values being dropped go out of scope (a closing brace, a `return`).
    pub(super) drop_at: Option<Span>,
    /// The next closure is a run-once initialiser.
    pub(super) init_closure: bool,
    /// Manual acquisitions of the current statement, armed when it ends.
    pub(super) pending_manual: Vec<(u32, Manual)>,
    /// The next `bind` is a `match` arm's pattern.
    pub(super) arm_binding: bool,
    /// What became of each pool built here.
    pub(super) fates: HashMap<u32, String>,
    /// Values carried by `break` out of each enclosing `loop`.
    pub(super) break_values: Vec<Vec<u32>>,
    /// The manual acquisition the last call made, for the value it returns.
    pub(super) last_manual: Option<u32>,
    pub ctx: Ctx,
    pub(super) events: Vec<Event>,
}

impl<'a> Walker<'a> {
    pub fn new(
        idx: &'a CrateIndex,
        m: &'a FileModel,
        ex: &'a Expander<'a>,
        at: Where,
    ) -> Walker<'a> {
        Walker {
            idx,
            m,
            ex,
            file: at.file,
            at,
            scopes: vec![Scope::default()],
            state: State::new(),
            pending: Vec::new(),
            discarded: None,
            next_id: 0,
            mentions: Vec::new(),
            closure_borrows: Vec::new(),
            arg_callee: None,
            field_base: false,
            drop_at: None,
            init_closure: false,
            pending_manual: Vec::new(),
            last_manual: None,
            break_values: Vec::new(),
            fates: HashMap::new(),
            arm_binding: false,
            ctx: Ctx::default(),
            events: Vec::new(),
        }
    }

    pub fn into_events(mut self) -> Vec<Event> {
        self.events.shrink_to_fit();
        self.events
    }

    /// The end of the body: its parameters go out of scope at the closing brace.
    pub fn finish(&mut self, close: Span) {
        self.drop_at = Some(close);
        while !self.scopes.is_empty() {
            self.pop_scope();
        }
        self.drop_at = None;
        let fates = std::mem::take(&mut self.fates);
        for ev in &mut self.events {
            match &mut ev.kind {
                EventKind::PoolBuilt(p) => {
                    if let Some(id) = p.id {
                        p.fate = fates.get(&id).cloned();
                    }
                }
                EventKind::PoolFromHelper {
                    id: Some(id), fate, ..
                } => {
                    *fate = fates.get(id).cloned();
                }
                _ => {}
            }
        }
    }

    pub(super) fn name(&self, s: Sym) -> &'a str {
        self.m.name(s)
    }

    pub(super) fn resolve_ty(&self, ty: TyId) -> Ty {
        self.idx.resolve(&self.at, self.m, ty)
    }

    /// The pool options an expression sets (see `settings::settings_in`); a call of a
    /// crate-local function returning pool options stands for options not seen here.
    pub(super) fn settings_in(&self, name: &str, e: ExprId, out: &mut Vec<super::Setting>) {
        let carries = |call: ExprId| {
            let Expr::Call { func, .. } = self.m.expr(call) else {
                return false;
            };
            let Expr::Path { segs, .. } = self.m.expr(func) else {
                return false;
            };
            let path = self.m.path_strings(segs);
            let ret = match path.as_slice() {
                [name] => self.idx.bare_fn(&self.at, name),
                _ => self.idx.path_fn(&self.at, &path),
            };
            ret.and_then(|(_, ty)| self.idx.value_held(ty))
                .is_some_and(|h| h.kind == Kind::Builder)
        };
        let name_value = |segs: &[String]| self.const_named(segs);
        let ev = super::settings::Eval {
            carries: &carries,
            name: &name_value,
        };
        super::settings::settings_in(self.m, &ev, name, e, out);
    }

    /// The constant value of an expression, if constant evaluation reads one.
    pub(super) fn const_of(&self, e: ExprId) -> Option<crate::index::ConstVal> {
        crate::index::ConstExpr::of(self.m, e).eval(&|segs| self.const_named(segs))
    }

    /// The constant a name written here stands for: a local `let` of one (a local shadows
    /// items of its name), else a `const` or `static` item in scope.
    fn const_named(&self, segs: &[String]) -> Option<crate::index::ConstVal> {
        if let [name] = segs {
            if let Some(b) = self.binding_named(name) {
                return b.konst;
            }
        }
        self.idx.const_value(&self.at, segs)
    }

    pub(super) fn fresh_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    // ---- held connections ------------------------------------------------------------------

    pub(super) fn new_held(
        &mut self,
        v: &Value,
        origin: Span,
        name: Option<Sym>,
        param: bool,
    ) -> Option<u32> {
        let held = self.idx.value_held(&v.ty)?;
        if !held.kind.holds_connection() {
            return None;
        }
        self.track(held, v, origin, name, param)
    }

    /// Starts following a value: a connection, or a pool or connection task created here.
    pub(super) fn track(
        &mut self,
        held: Held,
        v: &Value,
        origin: Span,
        name: Option<Sym>,
        param: bool,
    ) -> Option<u32> {
        let id = self.fresh_id();
        let h = HeldRef {
            id,
            name,
            origin,
            held,
            pool: v.pool_key.clone(),
            param,
            shared: false,
            unpooled: false,
            nested: false,
            from_helper: None,
            open_tx: None,
        };
        self.state.held.insert(id, h.clone());
        self.state.maybe.insert(id, h);
        Some(id)
    }

    /// Remembers what became of a pool built here (for `connlint pools`).
    pub(super) fn pool_fate(&mut self, ids: &[u32], fate: impl Fn() -> String) {
        for id in ids {
            if self
                .state
                .maybe
                .get(id)
                .is_some_and(|h| h.held.kind == Kind::Pool)
            {
                self.fates.entry(*id).or_insert_with(&fate);
            }
        }
    }

    /// Ends values that were not handed on: the close rules see them go.
    pub(super) fn drop_ids(&mut self, ids: &[u32], how: DropHow) {
        self.pool_fate(ids, || "dropped when the call returns".to_string());
        if self.state.reachable {
            for id in ids {
                if let Some(h) = self.state.maybe.get(id).cloned() {
                    let at = self.drop_at.unwrap_or(h.origin);
                    self.dropped_event(*id, h, how, at);
                }
            }
        }
        self.release(ids);
    }

    /// A tracked value stops being this body's at `at`: the close rules see it go, and
    /// `unfinished-transaction` sees a connection leave inside a transaction kept as its state.
    pub(super) fn dropped_event(&mut self, id: u32, h: HeldRef, how: DropHow, at: Span) {
        let maybe = !self.state.held.contains_key(&id);
        // `drop(conn)` and `close()` say what they mean; other exits leave the
        // connection-state transaction open.
        if let (Some(begun), false) = (
            h.open_tx,
            matches!(how, DropHow::Explicit | DropHow::Closed),
        ) {
            let every = self
                .state
                .held
                .get(&id)
                .is_some_and(|e| e.open_tx.is_some());
            let kind = EventKind::TxStateLeft {
                held: Box::new(h.clone()),
                begun,
                how,
                maybe: !every,
            };
            self.push_event(kind, at);
        }
        self.push_event(
            EventKind::Dropped {
                held: Box::new(h),
                how,
                maybe,
            },
            at,
        );
    }

    pub(super) fn release(&mut self, ids: &[u32]) {
        for id in ids {
            self.state.held.remove(id);
            self.state.maybe.remove(id);
            self.pending.retain(|p| p != id);
        }
    }

    /// Moves a value out of where it is: a binding named directly gives up what it owns.
    pub(super) fn take(&mut self, v: &Value) -> Vec<u32> {
        if !v.holds.is_empty() {
            return v.holds.clone();
        }
        // `self.tx.commit()`: moving the field that holds the connection moves it out of
        // the binding it lives in.
        if let Place::Field {
            root: Some(root), ..
        } = &v.place
        {
            if self
                .idx
                .value_held(&v.ty)
                .is_some_and(|h| h.kind.holds_connection())
            {
                return self.move_out_of(*root);
            }
        }
        match &v.place {
            Place::Local(name) if v.direct => self.move_out_of(*name),
            _ => Vec::new(),
        }
    }

    /// Moves what a binding owns out of it (into flight). A connection received by reference
    /// cannot be moved: passing it on is a reborrow, so it stays.
    pub(super) fn move_out_of(&mut self, name: Sym) -> Vec<u32> {
        let by_ref: Vec<u32> = self
            .state
            .held
            .values()
            .filter(|h| h.param)
            .map(|h| h.id)
            .collect();
        let Some(b) = self.lookup_mut(name) else {
            return Vec::new();
        };
        let (ids, kept): (Vec<u32>, Vec<u32>) = std::mem::take(&mut b.owns)
            .into_iter()
            .partition(|id| !by_ref.contains(id));
        b.owns = kept;
        self.pending.extend(ids.iter().copied());
        ids
    }

    /// A value handed to something that keeps or drops it: its connections leave this body.
    pub(super) fn consume(&mut self, v: &Value) {
        let ids = self.take(v);
        self.release(&ids);
        self.hand_on_manual(v);
    }

    /// A manual acquisition handed on (to a guard, to its release call) is not skipped here.
    pub(super) fn hand_on_manual(&mut self, v: &Value) {
        let mut manual = v.manual.clone();
        if let (Place::Local(n), true) = (&v.place, v.direct) {
            manual.extend(
                self.lookup(*n)
                    .map(|b| b.manual.clone())
                    .unwrap_or_default(),
            );
        }
        for id in manual {
            self.state.manual.remove(&id);
            self.pending_manual.retain(|(p, _)| *p != id);
        }
    }

    /// A pool built here: follow it (to see whether it is handed on) and record its options.
    pub(super) fn pool_built(
        &mut self,
        result: &mut Value,
        builder: Option<TypeId>,
        span: Span,
        start: Span,
    ) {
        let Some((pool, id)) = self.track_pool(result, span) else {
            return;
        };
        let settings = std::mem::take(&mut result.settings);
        self.push_event(
            EventKind::PoolBuilt(Box::new(PoolBuiltEvent {
                id,
                start,
                pool,
                builder,
                settings,
                fate: None,
            })),
            span,
        );
    }

    /// A pool returned by a crate-local function or method: followed like a pool built here,
    /// marked with the function (whether it builds the pool is known crate-wide only).
    pub(super) fn pool_from_helper(&mut self, result: &mut Value, key: CalleeKey, span: Span) {
        if !result.holds.is_empty() {
            return;
        }
        let Some((_, id)) = self.track_pool(result, span) else {
            return;
        };
        if let Some(id) = id {
            for map in [&mut self.state.held, &mut self.state.maybe] {
                if let Some(h) = map.get_mut(&id) {
                    h.from_helper = Some(key);
                }
            }
        }
        let fate = None;
        self.push_event(EventKind::PoolFromHelper { id, key, fate }, span);
    }

    /// Follows a pool value made at `span` (built here or returned by a helper) as a
    /// temporary of the statement: its library type and its tracking id.
    fn track_pool(&mut self, result: &mut Value, span: Span) -> Option<(TypeId, Option<u32>)> {
        let h = self
            .idx
            .value_held(&result.ty)
            .filter(|h| h.kind == Kind::Pool)?;
        let pool = h.ty;
        let id = self.track(h, result, span, None, false);
        result.holds = id.into_iter().collect();
        result.origin = Some(span);
        self.pending.extend(result.holds.iter().copied());
        Some((pool, id))
    }

    /// A transaction kept as connection state begins (`Some(span)`) or ends (`None`) on these
    /// held connections (ones this body owns: a parameter's is its caller's business).
    pub(super) fn set_open_tx(&mut self, ids: &[u32], begun: Option<Span>) {
        for id in ids {
            for map in [&mut self.state.held, &mut self.state.maybe] {
                if let Some(h) = map.get_mut(id) {
                    if h.held.kind.holds_connection() && !h.param {
                        h.open_tx = begun;
                    }
                }
            }
        }
    }

    /// `tokio_postgres::connect(..)`: the client and its connection task, each followed.
    pub(super) fn track_parts(&mut self, result: &mut Value, span: Span) {
        let Ty::Tuple(parts) = result.ty.settled().clone() else {
            return;
        };
        for part in parts {
            if let Some(h) = self
                .idx
                .value_held(&part)
                .filter(|h| h.kind.holds_connection() || h.kind == Kind::Driver)
            {
                let id = self.track(h, &Value::of(part.clone()), span, None, false);
                result.holds.extend(id);
            }
        }
        self.pending.extend(result.holds.iter().copied());
        result.origin = Some(span);
    }

    pub(super) fn mark_shared(&mut self, v: &Value) {
        for id in self.ids_of(v) {
            for map in [&mut self.state.held, &mut self.state.maybe] {
                if let Some(h) = map.get_mut(&id) {
                    h.shared = true;
                }
            }
        }
    }

    /// Every held connection a value stands for: carried, owned by its binding, or borrowed.
    pub(super) fn ids_of(&self, v: &Value) -> Vec<u32> {
        let mut ids = v.holds.clone();
        ids.extend(&v.borrows);
        if let Place::Local(n) = &v.place {
            if let Some(b) = self.lookup(*n) {
                ids.extend(b.owns.iter().chain(&b.borrows));
            }
        }
        ids
    }

    /// Does this value bring a fresh pooled connection (one that takes a pool slot)?
    pub(super) fn fresh_slot(&self, v: &Value) -> bool {
        v.holds.iter().any(|id| {
            self.state
                .held
                .get(id)
                .is_some_and(|h| h.held.kind.holds_pool_slot())
        })
    }

    pub(super) fn held_snapshot(&self) -> Vec<HeldRef> {
        if !self.state.reachable {
            return Vec::new();
        }
        self.state.held.values().cloned().collect()
    }

    /// Held connections that none of `mentioned` refers to.
    pub(super) fn unused(&self, before: &BTreeSet<u32>, mentioned: &BTreeSet<Sym>) -> Vec<HeldRef> {
        if !self.state.reachable {
            return Vec::new();
        }
        let mut used: BTreeSet<u32> = BTreeSet::new();
        for name in mentioned {
            if let Some(b) = self.lookup(*name) {
                used.extend(b.owns.iter().chain(&b.borrows));
            }
        }
        self.state
            .held
            .values()
            .filter(|h| before.contains(&h.id) && !used.contains(&h.id))
            .cloned()
            .collect()
    }

    pub(super) fn mention(&mut self, name: Sym) {
        for m in self.mentions.iter_mut().flatten() {
            m.insert(name);
        }
    }

    /// Starts collecting the names an expression mentions, if anything is followed: with no
    /// connection held there is nothing a mention could be a use of.
    pub(super) fn watch(&mut self) {
        let tracking = !self.state.maybe.is_empty()
            || !self.state.manual.is_empty()
            || !self.pending_manual.is_empty();
        self.mentions.push(tracking.then(BTreeSet::new));
    }

    pub(super) fn unwatch(&mut self) -> BTreeSet<Sym> {
        self.mentions.pop().flatten().unwrap_or_default()
    }

    /// The connections held now (for `before` sets), without allocating when there are none.
    pub(super) fn held_ids(&self) -> BTreeSet<u32> {
        if self.state.held.is_empty() {
            BTreeSet::new()
        } else {
            self.state.held.keys().copied().collect()
        }
    }

    /// Does a value carry anything the rules look at: a connection, pool or builder type, a
    /// followed value, or a static?
    pub(super) fn involves_db(&self, v: &Value) -> bool {
        !v.holds.is_empty()
            || matches!(v.place, Place::Static(_))
            || self.idx.held_in(&v.ty).is_some()
    }

    pub(super) fn collection_of(&mut self, vals: Vec<Value>) -> Value {
        let origin = vals.iter().find_map(|v| v.origin);
        for v in &vals {
            self.consume(v);
        }
        let elem = vals
            .into_iter()
            .map(|v| v.ty)
            .find(|t| !t.is_unknown())
            .unwrap_or_default();
        Value {
            ty: Ty::collection(elem),
            origin,
            ..Value::default()
        }
    }

    pub(super) fn push_event(&mut self, kind: EventKind, span: Span) {
        self.events.push(Event {
            kind,
            span,
            ctx: self.ctx,
        });
    }
}
