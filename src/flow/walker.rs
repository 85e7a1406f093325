//! The evaluation-order walker of one body: types every expression it can, tracks which
//! connections are held, and records events.

use super::{
    Acquisition, CalleeKey, Ctx, DropHow, Event, EventKind, HeldRef, Place, Resolved, Setting,
    SettingValue, Value,
};
use crate::index::{path_strings, CrateIndex, FileId, TRANSPARENT};
use crate::profile::{CallDef, Kind, Role, TypeId};
use crate::types::{Held, Ty};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use syn::spanned::Spanned;
use syn::visit::Visit;

#[derive(Debug, Clone, Default)]
struct Binding {
    ty: Ty,
    origin: Option<Span>,
    /// Held connections this binding owns (released when it is moved or its scope ends).
    owns: Vec<u32>,
    /// Held connections this binding borrows (`let rows = query.fetch(&mut *conn)`).
    borrows: Vec<u32>,
    pool_key: Option<String>,
    /// For pool builders: the options set so far.
    settings: Vec<Setting>,
    /// Manual acquisitions this binding holds.
    manual: Vec<u32>,
}

#[derive(Default)]
struct Scope {
    bindings: HashMap<String, Binding>,
}

/// The connections held at a point, and whether the point is reachable at all.
#[derive(Clone)]
struct State {
    /// Held on every path here (what the hold rules look at).
    held: BTreeMap<u32, HeldRef>,
    /// Held on some path here (what the close rules look at).
    maybe: BTreeMap<u32, HeldRef>,
    /// Manual acquisitions (configured `[[release]]` pairs) not yet released on some path.
    manual: BTreeMap<u32, Manual>,
    reachable: bool,
}

#[derive(Clone, Debug)]
struct Manual {
    origin: Span,
    release: String,
    /// The binding that holds it, once bound.
    name: Option<String>,
    /// Loop depth where it was acquired: a `break` out of an outer loop does not skip it.
    loop_depth: u32,
}

impl State {
    /// Held on every incoming path: a diverged path does not count.
    fn merge(a: State, b: State) -> State {
        match (a.reachable, b.reachable) {
            (false, _) => b,
            (_, false) => a,
            _ => State {
                held: a
                    .held
                    .into_iter()
                    .filter(|(id, _)| b.held.contains_key(id))
                    .collect(),
                maybe: a.maybe.into_iter().chain(b.maybe).collect(),
                manual: a.manual.into_iter().chain(b.manual).collect(),
                reachable: true,
            },
        }
    }
}

/// A point of the walk to come back to: the held set and what each binding owns.
#[derive(Clone)]
struct Snap {
    state: State,
    owns: HashMap<(usize, String), Vec<u32>>,
}

/// Methods that give back the receiver's own value (or a reference to it).
const IDENTITY_METHODS: &[&str] = &[
    "clone",
    "to_owned",
    "as_ref",
    "as_mut",
    "deref",
    "deref_mut",
    "borrow",
    "borrow_mut",
    "by_ref",
    "as_deref",
    "as_deref_mut",
    "get_ref",
    "get_mut",
    "into",
];
/// Lock methods: give a guard of the inner value (sync ones wrapped in a `Result`).
const LOCK_METHODS: &[&str] = &[
    "lock",
    "read",
    "write",
    "try_lock",
    "try_read",
    "try_write",
    "blocking_lock",
];
/// `Result`/`Option` methods that give the success value.
const UNWRAP_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_or_default",
    "unwrap_unchecked",
    "unwrap_or_else",
    "unwrap_or",
    "expect_throw",
];
/// `Result`/`Option` methods that keep the success value inside.
const KEEP_FALLIBLE: &[&str] = &[
    "ok",
    "ok_or",
    "ok_or_else",
    "map_err",
    "context",
    "with_context",
    "wrap_err",
    "wrap_err_with",
    "err_into",
    "inspect",
    "inspect_err",
    "as_ref",
    "as_mut",
    "take",
    "change_context",
    "attach_printable",
    "or_else",
    "or",
    "replace",
    "transpose",
];
/// Iterator adapters whose closure runs once per element.
const ITER_ADAPTERS: &[&str] = &[
    "map",
    "filter_map",
    "flat_map",
    "for_each",
    "then",
    "and_then",
    "try_for_each",
    "fold",
    "try_fold",
    "map_ok",
    "scan",
    "inspect",
    "filter",
    "take_while",
    "skip_while",
    "any",
    "all",
    "find_map",
    "for_each_concurrent",
    "try_for_each_concurrent",
    "buffer_unordered",
];
const ITER_SOURCES: &[&str] = &[
    "iter",
    "into_iter",
    "iter_mut",
    "drain",
    "values",
    "values_mut",
    "into_values",
    "chunks",
];
const COLLECTORS: &[&str] = &["collect", "try_collect"];
const JOINERS: &[&str] = &["join_all", "try_join_all", "join", "try_join"];
/// Calls whose closure runs on a blocking thread: blocking inside is the point.
const BLOCKING_WRAPPERS: &[&str] = &[
    "spawn_blocking",
    "block_in_place",
    "block",
    "interact",
    "run",
    "unblock",
];
/// Calls that run their argument as an independent task.
const SPAWNERS: &[&str] = &[
    "spawn",
    "spawn_local",
    "spawn_blocking",
    "spawn_with_handle",
];
/// Macros that await the futures they are given.
const AWAIT_MACROS: &[&str] = &[
    "join",
    "try_join",
    "select",
    "select_biased",
    "biased_select",
];
/// Calls whose closure runs once per process: building a pool there is the normal pattern.
const INIT_CALLS: &[&str] = &[
    "get_or_init",
    "get_or_try_init",
    "call_once",
    "call_once_force",
    "init_once",
];
/// Macros that never return.
const DIVERGING_MACROS: &[&str] = &["panic", "unreachable", "todo", "unimplemented", "bail"];

/// The evaluation-order walker of one body.
pub struct Walker<'a> {
    idx: &'a CrateIndex,
    file: FileId,
    self_ty: Option<String>,
    scopes: Vec<Scope>,
    state: State,
    /// Ids in flight in the current statement: acquired or moved out, not yet bound or consumed.
    pending: Vec<u32>,
    next_id: u32,
    /// Names mentioned while evaluating each enclosing `.await` base or call.
    mentions: Vec<Option<BTreeSet<String>>>,
    /// Held connections the parameters of the next closure stand for
    /// (`conn.transaction(|c| ..)`: `c` is `conn`).
    closure_borrows: Vec<u32>,
    /// Set while evaluating the base of a field access: the base alone is not a use.
    field_base: bool,
    /// Where the values being dropped go out of scope (a closing brace, a `return`).
    drop_at: Option<Span>,
    /// The next closure is a run-once initialiser.
    init_closure: bool,
    /// Manual acquisitions of the current statement, armed when it ends.
    pending_manual: Vec<(u32, Manual)>,
    /// The next `bind` is a `match` arm's pattern.
    arm_binding: bool,
    /// What became of each pool built here.
    fates: HashMap<u32, String>,
    /// Values carried by `break` out of each enclosing `loop`.
    break_values: Vec<Vec<u32>>,
    /// The manual acquisition the last call made, for the value it returns.
    last_manual: Option<u32>,
    pub ctx: Ctx,
    events: Vec<Event>,
}

impl<'a> Walker<'a> {
    pub fn new(idx: &'a CrateIndex, file: FileId, self_ty: Option<String>) -> Walker<'a> {
        Walker {
            idx,
            file,
            self_ty,
            scopes: vec![Scope::default()],
            state: State {
                held: BTreeMap::new(),
                maybe: BTreeMap::new(),
                manual: BTreeMap::new(),
                reachable: true,
            },
            pending: Vec::new(),
            next_id: 0,
            mentions: Vec::new(),
            closure_borrows: Vec::new(),
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

    pub fn into_events(self) -> Vec<Event> {
        self.events
    }

    // ---- held connections --------------------------------------------------------------

    fn new_held(
        &mut self,
        v: &Value,
        origin: Span,
        name: Option<String>,
        param: bool,
    ) -> Option<u32> {
        let held = self.idx.value_held(&v.ty)?;
        if !held.kind.holds_connection() {
            return None;
        }
        self.track(held, v, origin, name, param)
    }

    /// Starts following a value: a connection, or a pool or connection task created here.
    fn track(
        &mut self,
        held: Held,
        v: &Value,
        origin: Span,
        name: Option<String>,
        param: bool,
    ) -> Option<u32> {
        let id = self.next_id;
        self.next_id += 1;
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
        };
        self.state.held.insert(id, h.clone());
        self.state.maybe.insert(id, h);
        Some(id)
    }

    /// Remembers what became of a pool built here (for `connlint pools`).
    fn pool_fate(&mut self, ids: &[u32], fate: impl Fn() -> String) {
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
    fn drop_ids(&mut self, ids: &[u32], how: DropHow) {
        self.pool_fate(ids, || "dropped when the call returns".to_string());
        if self.state.reachable {
            for id in ids {
                if let Some(h) = self.state.maybe.get(id).cloned() {
                    let maybe = !self.state.held.contains_key(id);
                    let at = self.drop_at.unwrap_or(h.origin);
                    self.push_event(
                        EventKind::Dropped {
                            held: h,
                            how,
                            maybe,
                        },
                        at,
                        Vec::new(),
                        None,
                        Value::default(),
                    );
                }
            }
        }
        self.release(ids);
    }

    fn release(&mut self, ids: &[u32]) {
        for id in ids {
            self.state.held.remove(id);
            self.state.maybe.remove(id);
            self.pending.retain(|p| p != id);
        }
    }

    /// Moves a value out of where it is: a binding named directly gives up what it owns.
    fn take(&mut self, v: &Value) -> Vec<u32> {
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
                return self.move_out_of(root);
            }
        }
        match &v.place {
            Place::Local(name) if v.direct => self.move_out_of(name),
            _ => Vec::new(),
        }
    }

    /// Moves what a binding owns out of it (into flight). A connection received by reference
    /// cannot be moved: passing it on is a reborrow, so it stays.
    fn move_out_of(&mut self, name: &str) -> Vec<u32> {
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
    fn consume(&mut self, v: &Value) {
        let ids = self.take(v);
        self.release(&ids);
        self.hand_on_manual(v);
    }

    /// A manual acquisition handed on (to a guard, to its release call) is not skipped here.
    fn hand_on_manual(&mut self, v: &Value) {
        let mut manual = v.manual.clone();
        if let (Place::Local(n), true) = (&v.place, v.direct) {
            manual.extend(self.lookup(n).map(|b| b.manual.clone()).unwrap_or_default());
        }
        for id in manual {
            self.state.manual.remove(&id);
            self.pending_manual.retain(|(p, _)| *p != id);
        }
    }

    /// A pool built here: follow it (to see whether it is handed on) and record its options.
    fn pool_built(&mut self, result: &mut Value, builder: Option<TypeId>, span: Span) {
        let Some(h) = self
            .idx
            .value_held(&result.ty)
            .filter(|h| h.kind == Kind::Pool)
        else {
            return;
        };
        let pool = h.ty;
        let id = self.track(h, result, span, None, false);
        result.holds = id.into_iter().collect();
        result.origin = Some(span);
        self.pending.extend(result.holds.iter().copied());
        let settings = std::mem::take(&mut result.settings);
        self.push_event(
            EventKind::PoolBuilt {
                id,
                pool,
                builder,
                settings,
                fate: None,
            },
            span,
            Vec::new(),
            None,
            Value::default(),
        );
    }

    /// `tokio_postgres::connect(..)`: the client and its connection task, each followed.
    fn track_parts(&mut self, result: &mut Value, span: Span) {
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

    fn mark_shared(&mut self, v: &Value) {
        for id in self.ids_of(v) {
            for map in [&mut self.state.held, &mut self.state.maybe] {
                if let Some(h) = map.get_mut(&id) {
                    h.shared = true;
                }
            }
        }
    }

    /// An exit while manual acquisitions are open: `release-skipped` reports it.
    fn manual_exit(&mut self, at: Span, how: &'static str) {
        if !self.state.reachable || self.state.manual.is_empty() {
            return;
        }
        // `break` leaves the loop, not the function: only what the loop acquired is skipped.
        let depth = if how == "`break`" {
            self.ctx.loop_depth
        } else {
            0
        };
        let open: Vec<(Span, String)> = self
            .state
            .manual
            .values()
            .filter(|m| m.loop_depth >= depth)
            .map(|m| (m.origin, m.release.clone()))
            .collect();
        if open.is_empty() {
            return;
        }
        self.push_event(
            EventKind::ManualExit { open, how },
            at,
            Vec::new(),
            None,
            Value::default(),
        );
    }

    /// A call that is a configured manual acquire or release (`[[release]]`).
    fn manual_call(
        &mut self,
        name: &str,
        owner: Option<&str>,
        span: Span,
        mentioned: &BTreeSet<String>,
    ) {
        let pairs = self.idx.release_pairs();
        if pairs.is_empty() {
            return;
        }
        let matches = |want: &str, on: &[String]| {
            let (t, m) = want
                .rsplit_once("::")
                .map_or((None, want), |(t, m)| (Some(t), m));
            m == name
                && t.is_none_or(|t| owner == Some(t))
                && (on.is_empty() || owner.is_some_and(|o| on.iter().any(|x| x == o)))
        };
        for p in pairs {
            if matches(&p.release, &p.on) {
                // Released: the acquisition it names (by receiver or argument), else the latest.
                let hit = self
                    .state
                    .manual
                    .iter()
                    .rev()
                    .find(|(_, m)| {
                        m.release == p.release
                            && m.name.as_ref().is_some_and(|n| mentioned.contains(n))
                    })
                    .map(|(id, _)| *id);
                let hit = hit.or_else(|| {
                    self.state
                        .manual
                        .iter()
                        .rev()
                        .find(|(_, m)| m.release == p.release)
                        .map(|(id, _)| *id)
                });
                if let Some(id) = hit {
                    self.state.manual.remove(&id);
                }
            } else if matches(&p.acquire, &p.on) {
                let id = self.next_id;
                self.next_id += 1;
                // Armed at the end of the statement: the `?` on the acquisition itself is not
                // an exit with it held.
                self.pending_manual.push((
                    id,
                    Manual {
                        origin: span,
                        release: p.release.clone(),
                        name: None,
                        loop_depth: self.ctx.loop_depth,
                    },
                ));
                self.last_manual = Some(id);
            }
        }
    }

    /// Every held connection a value stands for: carried, owned by its binding, or borrowed.
    fn ids_of(&self, v: &Value) -> Vec<u32> {
        let mut ids = v.holds.clone();
        ids.extend(&v.borrows);
        if let Place::Local(n) = &v.place {
            if let Some(b) = self.lookup(n) {
                ids.extend(b.owns.iter().chain(&b.borrows));
            }
        }
        ids
    }

    /// Does this value bring a fresh pooled connection (one that takes a pool slot)?
    fn fresh_slot(&self, v: &Value) -> bool {
        v.holds.iter().any(|id| {
            self.state
                .held
                .get(id)
                .is_some_and(|h| h.held.kind.holds_pool_slot())
        })
    }

    fn held_snapshot(&self) -> Vec<HeldRef> {
        if !self.state.reachable {
            return Vec::new();
        }
        self.state.held.values().cloned().collect()
    }

    /// Held connections that none of `mentioned` refers to.
    fn unused(&self, before: &BTreeSet<u32>, mentioned: &BTreeSet<String>) -> Vec<HeldRef> {
        if !self.state.reachable {
            return Vec::new();
        }
        let mut used: BTreeSet<u32> = BTreeSet::new();
        for name in mentioned {
            if let Some(b) = self.lookup(name) {
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

    fn mention(&mut self, name: &str) {
        for m in self.mentions.iter_mut().flatten() {
            if !m.contains(name) {
                m.insert(name.to_string());
            }
        }
    }

    /// Starts collecting the names an expression mentions, if anything is followed: with no
    /// connection held there is nothing a mention could be a use of.
    fn watch(&mut self) {
        let tracking = !self.state.maybe.is_empty()
            || !self.state.manual.is_empty()
            || !self.pending_manual.is_empty();
        self.mentions.push(tracking.then(BTreeSet::new));
    }

    fn unwatch(&mut self) -> BTreeSet<String> {
        self.mentions.pop().flatten().unwrap_or_default()
    }

    /// The connections held now (for `before` sets), without allocating when there are none.
    fn held_ids(&self) -> BTreeSet<u32> {
        if self.state.held.is_empty() {
            BTreeSet::new()
        } else {
            self.state.held.keys().copied().collect()
        }
    }

    // ---- branches --------------------------------------------------------------------------

    fn snapshot(&self) -> Snap {
        // Only bindings that own something: restoring clears every other one.
        let owns = self
            .scopes
            .iter()
            .enumerate()
            .flat_map(|(d, s)| {
                s.bindings
                    .iter()
                    .filter(|(_, b)| !b.owns.is_empty())
                    .map(move |(n, b)| ((d, n.clone()), b.owns.clone()))
            })
            .collect();
        Snap {
            state: self.state.clone(),
            owns,
        }
    }

    fn restore(&mut self, snap: &Snap) {
        self.state = snap.state.clone();
        for scope in &mut self.scopes {
            for b in scope.bindings.values_mut() {
                b.owns.clear();
            }
        }
        for ((d, n), owns) in &snap.owns {
            if let Some(b) = self.scopes.get_mut(*d).and_then(|s| s.bindings.get_mut(n)) {
                b.owns = owns.clone();
            }
        }
    }

    /// Joins two paths: held on both, owned on either (a path that moved a binding's
    /// connection no longer holds it, so the intersection already dropped it).
    fn join(&mut self, a: Snap, b: Snap) {
        let mut owns = a.owns;
        for (k, v) in b.owns {
            let e = owns.entry(k).or_default();
            for id in v {
                if !e.contains(&id) {
                    e.push(id);
                }
            }
        }
        self.restore(&Snap {
            state: State::merge(a.state, b.state),
            owns,
        });
    }

    // ---- scopes ----------------------------------------------------------------------------

    fn define(&mut self, name: &str, b: Binding) {
        let scope = self.scopes.last_mut().expect("a scope is always open");
        // Shadowing does not drop: the old value lives on, unnamed, to the end of the scope.
        if let Some(old) = scope.bindings.insert(name.to_string(), b) {
            if !old.owns.is_empty() {
                scope
                    .bindings
                    .insert(format!("{name}\u{0}shadowed{}", old.owns[0]), old);
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.bindings.get(name))
    }

    fn lookup_mut(&mut self, name: &str) -> Option<&mut Binding> {
        self.scopes
            .iter_mut()
            .rev()
            .find_map(|s| s.bindings.get_mut(name))
    }

    fn push_scope(&mut self) {
        self.scopes.push(Scope::default());
    }

    fn pop_scope(&mut self) {
        // What the scope's bindings still own dies with them; what they moved out lives on.
        // A connection received by reference is the caller's to drop.
        if let Some(scope) = self.scopes.pop() {
            let mut ids: Vec<u32> = scope
                .bindings
                .values()
                .flat_map(|b| b.owns.iter().copied())
                .collect();
            ids.sort_unstable();
            ids.retain(|id| !self.state.maybe.get(id).is_some_and(|h| h.param));
            self.drop_ids(&ids, DropHow::ScopeEnd);
        }
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
            if let EventKind::PoolBuilt {
                id: Some(id), fate, ..
            } = &mut ev.kind
            {
                *fate = fates.get(id).cloned();
            }
        }
    }

    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.push_scope();
        let out = f(self);
        self.pop_scope();
        out
    }

    fn in_loop<T>(&mut self, at: Span, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = self.ctx;
        self.ctx.loop_depth += 1;
        self.ctx.loop_at = Some(at);
        let out = self.scoped(f);
        self.ctx = Ctx {
            in_async: self.ctx.in_async,
            ..saved
        };
        out
    }

    fn resolve_ty(&self, ty: &syn::Type) -> Ty {
        self.idx.resolve(self.file, ty, self.self_ty.as_deref())
    }

    // ---- parameters and patterns -----------------------------------------------------------

    /// Binds the parameters of a signature: a connection received by reference or as a guard
    /// is held for the whole body.
    pub fn params(&mut self, sig: &syn::Signature) {
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(r) => {
                    let Some(s) = self.self_ty.clone() else {
                        continue;
                    };
                    let v = Value::of(Ty::Local(s));
                    let by_ref = !matches!(r.kind, syn::ReceiverKind::Value);
                    let owns = self
                        .new_held(&v, r.self_token.span, Some("self".into()), by_ref)
                        .into_iter()
                        .collect();
                    self.define(
                        "self",
                        Binding {
                            ty: v.ty,
                            origin: Some(r.self_token.span),
                            owns,
                            ..Binding::default()
                        },
                    );
                }
                syn::FnArg::Typed(pt) => {
                    let ty = self.resolve_ty(&pt.ty);
                    let by_ref = matches!(&*pt.ty, syn::Type::Reference(_));
                    let span = pt.pat.span();
                    let mut v = Value::of(ty);
                    let name = simple_name(&pt.pat);
                    let is_pool = self
                        .idx
                        .value_held(&v.ty)
                        .is_some_and(|h| h.kind == Kind::Pool);
                    v.pool_key = if is_pool { name.clone() } else { None };
                    let before = self.held_snapshot();
                    v.holds = self
                        .new_held(&v, span, name.clone(), by_ref)
                        .into_iter()
                        .collect();
                    // Request guards and extractors each take a connection before the body
                    // runs: a second one is a nested acquisition.
                    if !by_ref && self.fresh_slot(&v) && !before.is_empty() {
                        let how = Acquisition::Guard {
                            param: name.unwrap_or_else(|| "_".into()),
                        };
                        self.push_event(
                            EventKind::Acquire {
                                how,
                                held: before,
                                blocking: false,
                            },
                            span,
                            Vec::new(),
                            None,
                            Value::default(),
                        );
                    }
                    v.origin = Some(span);
                    self.bind(&pt.pat, v);
                }
            }
        }
        // Parameters are bound, not in flight.
        self.pending.clear();
    }

    /// Binds the names of a pattern to the parts of a value.
    fn bind(&mut self, pat: &syn::Pat, v: Value) {
        let mut owns = v.holds.clone();
        self.pending.retain(|p| !owns.contains(p));
        self.bind_part(pat, v.ty.clone(), v.origin, &mut owns, &v.pool_key);
        if let Some(name) = simple_name(pat) {
            for (_, m) in self
                .pending_manual
                .iter_mut()
                .filter(|(_, m)| m.name.is_none())
            {
                m.name = Some(name.clone());
            }
            if let Some(b) = self.lookup_mut(&name) {
                b.settings = v.settings.clone();
                b.manual = v.manual.clone();
            }
        }
        // A pattern with no binding to take the value (`let _ = ..`) drops it now; in a
        // `match`, an arm that binds nothing (`Err(e) =>`) is a path where it never existed.
        if std::mem::take(&mut self.arm_binding) {
            self.release(&owns);
        } else {
            self.drop_ids(&owns, DropHow::Discard);
        }
    }

    fn bind_part(
        &mut self,
        pat: &syn::Pat,
        ty: Ty,
        origin: Option<Span>,
        owns: &mut Vec<u32>,
        pool_key: &Option<String>,
    ) {
        match pat {
            syn::Pat::Ident(p) => {
                if let Some((_, sub)) = &p.subpat {
                    self.bind_part(sub, ty.clone(), origin, owns, pool_key);
                }
                let name = p.ident.to_string();
                let can_hold = ty.is_unknown() || self.idx.held_in(&ty).is_some();
                let mine = if owns.is_empty() || !can_hold {
                    Vec::new()
                } else {
                    std::mem::take(owns)
                };
                for id in &mine {
                    for map in [&mut self.state.held, &mut self.state.maybe] {
                        if let Some(h) = map.get_mut(id) {
                            h.name = Some(name.clone());
                        }
                    }
                }
                let holds = self.idx.value_held(&ty).is_some();
                self.define(
                    &name,
                    Binding {
                        ty,
                        origin: if holds { origin } else { None },
                        owns: mine,
                        borrows: Vec::new(),
                        pool_key: pool_key.clone().or_else(|| Some(name.clone())),
                        settings: Vec::new(),
                        manual: Vec::new(),
                    },
                );
            }
            syn::Pat::Type(pt) => {
                let declared = self.resolve_ty(&pt.ty);
                let ty = if declared.is_unknown() { ty } else { declared };
                self.bind_part(&pt.pat, ty, origin, owns, pool_key);
            }
            syn::Pat::Reference(r) => self.bind_part(&r.pat, ty, origin, owns, pool_key),
            syn::Pat::Paren(p) => self.bind_part(&p.pat, ty, origin, owns, pool_key),
            syn::Pat::Guard(g) => self.bind_part(&g.pat, ty, origin, owns, pool_key),
            syn::Pat::Or(o) => {
                for case in &o.cases {
                    self.bind_part(case, ty.clone(), origin, owns, pool_key);
                }
            }
            syn::Pat::Tuple(t) => {
                let parts: Vec<Ty> = t
                    .elems
                    .iter()
                    .enumerate()
                    .map(|(i, _)| match &ty {
                        Ty::Tuple(ts) => ts.get(i).cloned().unwrap_or_default(),
                        _ => Ty::Unknown,
                    })
                    .collect();
                // Each part takes the followed values of its own type (`(client, connection)`);
                // what matches no part goes to the first part that holds anything.
                let first = parts.iter().position(|t| self.idx.value_held(t).is_some());
                for (i, elem) in t.elems.iter().enumerate() {
                    let want = self.idx.value_held(&parts[i]).map(|h| h.ty);
                    let (mut mine, rest): (Vec<u32>, Vec<u32>) = owns.iter().partition(|id| {
                        want.is_some() && self.state.maybe.get(id).map(|h| h.held.ty) == want
                    });
                    *owns = rest;
                    if mine.is_empty()
                        && Some(i) == first
                        && parts
                            .iter()
                            .filter(|t| self.idx.value_held(t).is_some())
                            .count()
                            == 1
                    {
                        mine = std::mem::take(owns);
                    }
                    self.bind_part(elem, parts[i].clone(), origin, &mut mine, &None);
                    owns.extend(mine);
                }
            }
            syn::Pat::TupleStruct(ts) => {
                let name = ts
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                if matches!(name.as_str(), "Err" | "None") {
                    // The error side of a result carries no connection.
                    for elem in &ts.elems {
                        self.bind_part(elem, Ty::Unknown, None, &mut Vec::new(), &None);
                    }
                    return;
                }
                for (i, elem) in ts.elems.iter().enumerate() {
                    let part = match (name.as_str(), &ty) {
                        ("Some" | "Ok", t) => t.clone().unwrap_fallible(),
                        ("Err" | "None", _) => Ty::Unknown,
                        // Extractor patterns (`State(s)`, `Data(d)`): the wrapper is transparent.
                        (n, t) if TRANSPARENT.contains(&n) => t.clone(),
                        (_, Ty::Local(owner)) => self
                            .idx
                            .field(owner, &i.to_string())
                            .cloned()
                            .unwrap_or_default(),
                        _ => Ty::Unknown,
                    };
                    self.bind_part(elem, part, origin, owns, pool_key);
                }
            }
            syn::Pat::Struct(s) => {
                for fp in &s.fields {
                    let field = match &fp.member {
                        syn::Member::Named(n) => n.to_string(),
                        syn::Member::Unnamed(i) => i.index.to_string(),
                    };
                    let part = match &ty {
                        Ty::Local(owner) => {
                            self.idx.field(owner, &field).cloned().unwrap_or_default()
                        }
                        _ => Ty::Unknown,
                    };
                    self.bind_part(&fp.pat, part, origin, owns, &None);
                }
            }
            syn::Pat::Slice(s) => {
                let elem = ty.element().cloned().unwrap_or_default();
                for p in &s.elems {
                    self.bind_part(p, elem.clone(), origin, owns, &None);
                }
            }
            _ => {}
        }
    }

    // ---- statements ------------------------------------------------------------------------

    /// The body of a function: its tail value is handed to the caller.
    pub fn body_block(&mut self, b: &syn::Block) {
        let v = self.block(b);
        let ids = v.holds.clone();
        self.pool_fate(&ids, || "returned to the caller".to_string());
        self.pending.retain(|p| !ids.contains(p));
    }

    pub fn block(&mut self, b: &syn::Block) -> Value {
        self.push_scope();
        let mut last = Value::default();
        for (i, stmt) in b.stmts.iter().enumerate() {
            let tail = i + 1 == b.stmts.len();
            let v = self.stmt(stmt, tail);
            if tail {
                last = v;
            }
        }
        // A tail expression moves what it names out of the block.
        let moved = self.take(&last);
        last.holds = moved;
        last.direct = false;
        let saved = self.drop_at.replace(b.brace_token.span.close());
        self.pop_scope();
        self.drop_at = saved;
        last
    }

    fn end_statement(&mut self, keep: &[u32]) {
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

    fn stmt(&mut self, s: &syn::Stmt, tail: bool) -> Value {
        match s {
            syn::Stmt::Local(l) => {
                let Some(init) = &l.init else {
                    self.bind(&l.pat, Value::default());
                    return Value::default();
                };
                let before: BTreeSet<u32> = self.held_ids();
                self.watch();
                let mut v = self.expr(&init.expr);
                let named = self.unwatch();
                if let Some((_, diverge)) = &init.diverge {
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
                    .filter_map(|n| self.lookup(n))
                    .flat_map(|b| &b.owns)
                    .any(|id| self.state.held.get(id).is_some_and(|h| h.param));
                let borrows: Vec<u32> = if v.holds.is_empty()
                    && !is_awaited(&init.expr)
                    && (reborrows || has_reference(&init.expr))
                {
                    named
                        .iter()
                        .filter_map(|n| self.lookup(n))
                        .flat_map(|b| b.owns.iter().chain(&b.borrows).copied())
                        .filter(|id| before.contains(id))
                        .collect()
                } else {
                    Vec::new()
                };
                let mut borrows = borrows;
                borrows.extend(v.borrows.iter().copied());
                self.bind(&l.pat, v);
                if !borrows.is_empty() {
                    if let Some(name) = simple_name(&l.pat) {
                        if let Some(b) = self.lookup_mut(&name) {
                            b.borrows = borrows;
                        }
                    }
                }
                self.end_statement(&[]);
                Value::default()
            }
            syn::Stmt::Expr(e, semi) => {
                let v = self.expr(e);
                if semi.is_some() || !tail {
                    self.end_statement(&[]);
                    Value::default()
                } else {
                    let keep = v.holds.clone();
                    self.end_statement(&keep);
                    v
                }
            }
            syn::Stmt::Macro(m) => {
                self.mac(&m.mac, m.mac.path.span());
                self.end_statement(&[]);
                Value::default()
            }
            syn::Stmt::Item(_) => Value::default(),
        }
    }

    // ---- expressions -----------------------------------------------------------------------

    /// Walks an expression in evaluation order and returns the value it produces.
    pub fn expr(&mut self, e: &syn::Expr) -> Value {
        match e {
            syn::Expr::Path(p) => self.path_expr(p),
            syn::Expr::Field(f) => self.field(f),
            syn::Expr::MethodCall(mc) => self.method_call(mc),
            syn::Expr::Call(c) => self.call(c),
            syn::Expr::Await(a) => self.await_expr(a),
            syn::Expr::Try(t) => {
                let v = self.expr(&t.expr);
                self.manual_exit(t.question_token.span, "`?`");
                Value {
                    ty: v.ty.unwrap_fallible(),
                    direct: false,
                    ..v
                }
            }
            syn::Expr::Paren(p) => self.expr(&p.expr),
            syn::Expr::Group(g) => self.expr(&g.expr),
            syn::Expr::Reference(r) => {
                let v = self.expr(&r.expr);
                // A reference does not move what it points to, nor hand it on.
                Value {
                    direct: false,
                    place: Place::Temp,
                    manual: Vec::new(),
                    ..v
                }
            }
            syn::Expr::Unary(u) => {
                let v = self.expr(&u.expr);
                if matches!(u.op, syn::UnOp::Deref(_)) {
                    Value {
                        direct: false,
                        holds: Vec::new(),
                        ..v
                    }
                } else {
                    Value::default()
                }
            }
            syn::Expr::Block(b) => {
                if b.label.is_some() {
                    self.in_loop(b.block.brace_token.span.open(), |w| w.block(&b.block))
                } else {
                    self.block(&b.block)
                }
            }
            syn::Expr::Unsafe(u) => self.block(&u.block),
            syn::Expr::Const(c) => self.block(&c.block),
            syn::Expr::TryBlock(t) => {
                let v = self.block(&t.block);
                Value {
                    ty: Ty::fallible(v.ty),
                    ..v
                }
            }
            syn::Expr::Async(a) => self.async_block(a, None),
            syn::Expr::Closure(c) => {
                let v = self.closure(c, false, None);
                Value {
                    ty: Ty::Unknown,
                    origin: v.origin,
                    ..Value::default()
                }
            }
            syn::Expr::If(i) => self.if_expr(i),
            syn::Expr::Let(l) => {
                let v = self.expr(&l.expr);
                let ids = self.take(&v);
                self.bind(&l.pat, Value { holds: ids, ..v });
                Value::default()
            }
            syn::Expr::Match(m) => self.match_expr(m),
            syn::Expr::ForLoop(f) => {
                let it = self.expr(&f.expr);
                let elem = it.ty.element().cloned().unwrap_or_default();
                let start = self.snapshot();
                self.in_loop(f.for_token.span, |w| {
                    w.bind(&f.pat, Value::of(elem));
                    w.block(&f.body);
                });
                let end = self.snapshot();
                self.join(start, end);
                self.state.reachable = true;
                Value::default()
            }
            syn::Expr::While(wl) => {
                let start = self.snapshot();
                self.in_loop(wl.while_token.span, |w| {
                    w.expr(&wl.cond);
                    w.block(&wl.body);
                });
                let end = self.snapshot();
                self.join(start, end);
                self.state.reachable = true;
                Value::default()
            }
            syn::Expr::Loop(l) => {
                let exits = LoopExits::of(&l.body);
                if !exits.any {
                    let held = self.held_snapshot();
                    self.push_event(
                        EventKind::EndlessLoop { held },
                        l.loop_token.span,
                        Vec::new(),
                        None,
                        Value::default(),
                    );
                }
                let start = self.snapshot();
                self.break_values.push(Vec::new());
                // `loop { match connect().await { Ok(c) => break c, .. } }` retries until one
                // connection succeeds: not one per iteration.
                let retry = exits.breaks_with_value;
                self.in_loop(l.loop_token.span, |w| {
                    if retry {
                        w.ctx.loop_at = None;
                        w.ctx.loop_depth -= 1;
                    }
                    w.block(&l.body)
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
            syn::Expr::Assign(a) => {
                let v = self.expr(&a.right);
                let ids = self.take(&v);
                match &*a.left {
                    syn::Expr::Path(p)
                        if p.path.segments.len() == 1
                            && self.lookup(&p.path.segments[0].ident.to_string()).is_some() =>
                    {
                        // The old value is dropped; the binding owns the new one.
                        let name = p.path.segments[0].ident.to_string();
                        let old = self
                            .lookup_mut(&name)
                            .map(|b| std::mem::take(&mut b.owns))
                            .unwrap_or_default();
                        self.drop_ids(&old, DropHow::Overwritten);
                        self.pending.retain(|p| !ids.contains(p));
                        if let Some(b) = self.lookup_mut(&name) {
                            b.owns = ids.clone();
                        }
                        self.mention(&name);
                    }
                    left => {
                        // Stored somewhere this body does not track (a field, a static).
                        let target = quote::ToTokens::to_token_stream(left)
                            .to_string()
                            .replace(' ', "");
                        self.pool_fate(&ids, || format!("stored in `{target}`"));
                        self.release(&ids);
                        self.expr(left);
                        // `cfg.pool = Some(PoolConfig { max_size: 16, .. })` on a builder.
                        if let syn::Expr::Field(f) = left {
                            if let (Some(root), syn::Member::Named(field)) =
                                (root_name(&f.base), &f.member)
                            {
                                let mut found = Vec::new();
                                settings_in(&field.to_string(), &a.right, &mut found);
                                // `cfg.pool = Some(pool_cfg)`: what was set on `pool_cfg`.
                                found.extend(v.settings.iter().cloned());
                                if let Some(b) = self.lookup_mut(&root) {
                                    b.settings.extend(found);
                                }
                            }
                        }
                    }
                }
                Value::default()
            }
            syn::Expr::Binary(b) => {
                self.expr(&b.left);
                self.expr(&b.right);
                Value::default()
            }
            syn::Expr::Index(i) => {
                let saved = std::mem::replace(&mut self.field_base, false);
                let base = self.expr(&i.expr);
                self.field_base = saved;
                self.expr(&i.index);
                let ty = base.ty.element().cloned().unwrap_or_default();
                Value {
                    origin: base.origin,
                    ty,
                    place: base.place,
                    ..Value::default()
                }
            }
            syn::Expr::Tuple(t) => {
                let vals: Vec<Value> = t.elems.iter().map(|e| self.expr(e)).collect();
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
            syn::Expr::Array(a) => {
                let vals: Vec<Value> = a.elems.iter().map(|e| self.expr(e)).collect();
                self.collection_of(vals)
            }
            syn::Expr::Repeat(r) => {
                let v = self.expr(&r.expr);
                self.expr(&r.len);
                self.collection_of(vec![v])
            }
            syn::Expr::Struct(s) => {
                let mut holds = Vec::new();
                for f in &s.fields {
                    let v = self.expr(&f.expr);
                    holds.extend(self.take(&v));
                }
                if let Some(rest) = &s.rest {
                    self.expr(rest);
                }
                let segs = path_strings(&s.path);
                let ty = self
                    .idx
                    .resolve_path(self.file, &segs, self.self_ty.as_deref());
                // A struct literal of pool options carries them (`Config { pool: .. }`).
                let mut settings = Vec::new();
                if self
                    .idx
                    .value_held(&ty)
                    .is_some_and(|h| h.kind == Kind::Builder)
                {
                    settings_in("", e, &mut settings);
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
            syn::Expr::Cast(c) => {
                self.expr(&c.expr);
                Value::default()
            }
            syn::Expr::Range(r) => {
                if let Some(s) = &r.start {
                    self.expr(s);
                }
                if let Some(e) = &r.end {
                    self.expr(e);
                }
                Value::of(Ty::iter(Ty::Unknown))
            }
            syn::Expr::Return(r) => {
                let mut error_exit = false;
                if let Some(e) = &r.expr {
                    error_exit = is_error_value(e);
                    let v = self.expr(e);
                    // Handed to the caller.
                    let ids = self.take(&v);
                    self.pool_fate(&ids, || "returned to the caller".to_string());
                    self.pending.retain(|p| !ids.contains(p));
                    self.release(&ids);
                }
                self.manual_exit(r.return_token.span, "`return`");
                if !error_exit {
                    // A normal exit: what the bindings still own is dropped here.
                    let mut ids: Vec<u32> = self
                        .scopes
                        .iter()
                        .flat_map(|s| s.bindings.values().flat_map(|b| b.owns.iter().copied()))
                        .collect();
                    ids.sort_unstable();
                    ids.retain(|id| !self.state.maybe.get(id).is_some_and(|h| h.param));
                    let saved = self.drop_at.replace(r.return_token.span);
                    if self.state.reachable {
                        for id in &ids {
                            if let Some(h) = self.state.maybe.get(id).cloned() {
                                let maybe = !self.state.held.contains_key(id);
                                self.push_event(
                                    EventKind::Dropped {
                                        held: h,
                                        how: DropHow::Return,
                                        maybe,
                                    },
                                    r.return_token.span,
                                    Vec::new(),
                                    None,
                                    Value::default(),
                                );
                            }
                        }
                    }
                    self.drop_at = saved;
                }
                self.state.reachable = false;
                Value::default()
            }
            syn::Expr::Break(b) => {
                if let Some(e) = &b.expr {
                    // `break conn`: the connection becomes the loop's value.
                    let v = self.expr(e);
                    let ids = self.take(&v);
                    if let Some(top) = self.break_values.last_mut() {
                        top.extend(ids);
                    }
                }
                self.manual_exit(b.break_token.span, "`break`");
                self.state.reachable = false;
                Value::default()
            }
            syn::Expr::Continue(_) => {
                self.state.reachable = false;
                Value::default()
            }
            syn::Expr::Yield(y) => {
                if let Some(e) = &y.expr {
                    self.expr(e);
                }
                Value::default()
            }
            syn::Expr::Macro(m) => self.mac(&m.mac, m.mac.path.span()),
            syn::Expr::RawAddr(r) => {
                self.expr(&r.expr);
                Value::default()
            }
            _ => Value::default(),
        }
    }

    fn path_expr(&mut self, p: &syn::ExprPath) -> Value {
        if p.qself.is_none() && p.path.segments.len() == 1 {
            let name = p.path.segments[0].ident.to_string();
            if let Some(b) = self.lookup(&name).cloned() {
                if !self.field_base {
                    self.mention(&name);
                }
                return Value {
                    ty: b.ty,
                    origin: b.origin,
                    place: Place::Local(name),
                    holds: Vec::new(),
                    pool_key: b.pool_key,
                    direct: true,
                    borrows: Vec::new(),
                    settings: b.settings,
                    manual: b.manual,
                };
            }
            if let Some(t) = self.idx.static_type(&name) {
                return Value {
                    ty: t.clone(),
                    place: Place::Static(name.clone()),
                    pool_key: Some(name),
                    ..Value::default()
                };
            }
        }
        Value::default()
    }

    fn field(&mut self, f: &syn::ExprField) -> Value {
        // Only the root of a plain field chain (`state.db.pool`) is not a use by itself; in
        // `call(conn).await?.id` everything inside the base is evaluated as usual.
        let saved = std::mem::replace(&mut self.field_base, root_name(&f.base).is_some());
        let base = self.expr(&f.base);
        self.field_base = saved;
        let field = match &f.member {
            syn::Member::Named(n) => n.to_string(),
            syn::Member::Unnamed(i) => i.index.to_string(),
        };
        let on_self = matches!(&*f.base, syn::Expr::Path(p) if p.path.is_ident("self"))
            || matches!(base.place, Place::Field { on_self: true, .. });
        let ty = match base.ty.settled() {
            Ty::Local(owner) => self.idx.field(owner, &field).cloned().unwrap_or_default(),
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
            if let Some(root) = root_name(&f.base) {
                self.mention(&root);
            }
        }
        let pool_key = base.pool_key.as_ref().map(|k| format!("{k}.{field}"));
        Value {
            origin: if self.idx.value_held(&ty).is_some() {
                base.origin
            } else {
                None
            },
            ty,
            place: Place::Field {
                on_self,
                field,
                root: root_name(&f.base),
            },
            holds: Vec::new(),
            pool_key,
            direct: false,
            borrows: Vec::new(),
            settings: Vec::new(),
            manual: Vec::new(),
        }
    }

    fn await_expr(&mut self, a: &syn::ExprAwait) -> Value {
        let before: BTreeSet<u32> = self.held_ids();
        let mark = self.events.len();
        self.watch();
        let v = self.expr(&a.base);
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
        self.await_point(a.await_token.span, &before, &mentioned, mark);
        Value {
            ty: v.ty.clone().awaited(),
            direct: false,
            ..v
        }
    }

    /// Records an await with what its future does not use.
    fn await_point(
        &mut self,
        span: Span,
        before: &BTreeSet<u32>,
        mentioned: &BTreeSet<String>,
        mark: usize,
    ) {
        let held = self.unused(before, mentioned);
        let mut callees = Vec::new();
        let mut acquires = false;
        for ev in &self.events[mark..] {
            match &ev.kind {
                EventKind::LocalCall { key, .. } => callees.push(key.clone()),
                EventKind::Acquire { .. } => acquires = true,
                _ => {}
            }
        }
        self.push_event(
            EventKind::Await {
                held,
                callees,
                acquires,
            },
            span,
            Vec::new(),
            None,
            Value::default(),
        );
    }

    fn if_expr(&mut self, i: &syn::ExprIf) -> Value {
        // `if let` bindings live in the then-branch only.
        self.push_scope();
        self.expr(&i.cond);
        let start = self.snapshot();
        let then = self.block(&i.then_branch);
        self.pop_scope();
        let after_then = self.snapshot();
        self.restore(&start);
        let other = i.else_branch.as_ref().map(|(_, e)| self.expr(e));
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

    fn match_expr(&mut self, m: &syn::ExprMatch) -> Value {
        let scrut = self.expr(&m.expr);
        let ids = self.take(&scrut);
        let start = self.snapshot();
        let mut merged: Option<Snap> = None;
        let mut out = Value::default();
        for arm in &m.arms {
            self.restore(&start);
            let v = self.scoped(|w| {
                w.arm_binding = true;
                w.bind(
                    &arm.pat,
                    Value {
                        holds: ids.clone(),
                        ..scrut.clone()
                    },
                );
                if let syn::Pat::Guard(g) = &arm.pat {
                    w.expr(&g.guard);
                }
                // What the arm evaluates to leaves the arm's scope with it.
                let v = w.expr(&arm.body);
                let holds = w.take(&v);
                Value {
                    holds,
                    direct: false,
                    ..v
                }
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

    /// Walks a closure body and returns what it evaluates to.
    fn closure(&mut self, c: &syn::ExprClosure, per_item: bool, task: Option<bool>) -> Value {
        let saved = self.ctx;
        if c.asyncness.is_some() {
            self.ctx.in_async = true;
        }
        if per_item {
            self.ctx.loop_depth += 1;
            self.ctx.loop_at = Some(c.inputs_begin.span);
        }
        // A run-once initialiser (`OnceLock::get_or_init(|| ..)`, `Lazy::new(|| ..)`) is not
        // code that runs per call.
        if std::mem::take(&mut self.init_closure) {
            self.ctx.closure_at = None;
        } else if per_item {
            // Per-item closures are loop bodies (`loop_at` above).
        } else {
            self.ctx.closure_at = Some(c.inputs_begin.span);
        }
        let moved = c.capture.is_some();
        let body = &c.body;
        let captured = if task.is_some() {
            idents(quote!(#body))
        } else {
            Vec::new()
        };
        let borrows = std::mem::take(&mut self.closure_borrows);
        let v = self.detached_body(moved, task, &captured, |w| {
            for input in &c.inputs {
                // An untyped parameter named like a held connection outside (`|conn| ..`
                // called with `conn`) stands for it.
                let shadowed: Vec<u32> = match (input, simple_name(input)) {
                    (syn::Pat::Ident(_), Some(n)) => w
                        .lookup(&n)
                        .map(|b| b.owns.iter().chain(&b.borrows).copied().collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                w.bind(input, Value::default());
                if let Some(name) = simple_name(input) {
                    if let Some(b) = w.lookup_mut(&name) {
                        b.borrows = borrows.iter().chain(&shadowed).copied().collect();
                    }
                }
            }
            w.expr(&c.body)
        });
        self.ctx = saved;
        if c.asyncness.is_some() {
            Value {
                ty: Ty::future(v.ty.clone()),
                ..v
            }
        } else {
            v
        }
    }

    fn async_block(&mut self, a: &syn::ExprAsync, task: Option<bool>) -> Value {
        let saved = self.ctx;
        self.ctx.in_async = true;
        self.ctx.in_blocking_closure = false;
        let block = &a.block;
        let captured = if task.is_some() {
            idents(quote!(#block))
        } else {
            Vec::new()
        };
        let v = self.detached_body(a.capture.is_some(), task, &captured, |w| w.block(block));
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
        captured: &[String],
        walk: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        let outer_pending = std::mem::take(&mut self.pending);
        let mark = self.mentions.len();
        self.mentions.push(Some(BTreeSet::new()));
        let outer_state = self.state.clone();
        if task.is_some() {
            self.ctx.in_task = true;
            self.ctx.loop_depth = 0;
            // Only what the task captures by move (the names it mentions) is held inside it.
            let keep: BTreeSet<u32> = if moved {
                captured
                    .iter()
                    .filter_map(|n| self.lookup(n))
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
                    .lookup(name)
                    .map(|b| b.owns.clone())
                    .unwrap_or_default();
                if !owned.is_empty() {
                    if let Some(b) = self.lookup_mut(name) {
                        b.owns.clear();
                    }
                    self.release(&owned);
                }
            }
        }
        // Names used inside are uses for enclosing awaits and calls.
        for name in mentioned {
            self.mention(&name);
        }
        v
    }

    fn args(
        &mut self,
        args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>,
        per_item: bool,
        blocking: bool,
        task: bool,
    ) -> (Vec<Value>, Option<Value>) {
        let mut vals = Vec::with_capacity(args.len());
        let mut closure_ret = None;
        let init = std::mem::take(&mut self.init_closure);
        for a in args {
            let saved = self.ctx;
            self.init_closure = init;
            if blocking {
                self.ctx.in_blocking_closure = true;
                self.ctx.in_async = false;
            }
            let task = task.then_some(true);
            match a {
                syn::Expr::Closure(c) => {
                    let r = self.closure(c, per_item, task);
                    closure_ret = Some(r);
                    vals.push(Value::default());
                }
                syn::Expr::Async(x) if task.is_some() => {
                    let r = self.async_block(x, task);
                    vals.push(r);
                }
                _ => vals.push(self.expr(a)),
            }
            self.ctx = saved;
        }
        (vals, closure_ret)
    }

    fn method_call(&mut self, mc: &syn::ExprMethodCall) -> Value {
        let before: BTreeSet<u32> = self.held_ids();
        self.watch();
        let recv = self.expr(&mc.receiver);
        let method = mc.method.to_string();
        // `map`/`and_then` on a receiver of unknown type is as likely an `Option` as an
        // iterator; the other adapters only exist on iterators and streams.
        let per_item = ITER_ADAPTERS.contains(&method.as_str())
            && (matches!(recv.ty, Ty::Iter(_) | Ty::Collection(_))
                || (recv.ty == Ty::Unknown
                    && !matches!(
                        method.as_str(),
                        "map" | "and_then" | "then" | "inspect" | "filter"
                    )));
        let spawner = SPAWNERS.contains(&method.as_str());
        // Closures given to these run on a thread of their own, not on the executor.
        let blocking_wrapper = BLOCKING_WRAPPERS.contains(&method.as_str()) || spawner;
        // A closure given to a method of a held connection works on that connection.
        self.closure_borrows = self.ids_of(&recv);
        self.init_closure = INIT_CALLS.contains(&method.as_str());
        let (args, closure_ret) = self.args(&mc.args, per_item, blocking_wrapper, spawner);
        self.closure_borrows.clear();
        let mentioned = self.unwatch();
        for n in &mentioned {
            self.mention(n);
        }
        let span = mc
            .method
            .span()
            .join(mc.paren_token.span.close())
            .unwrap_or_else(|| mc.method.span());
        let (ty, def) = self.method_type(&recv.ty, &method, closure_ret.as_ref());
        let recv_kind = self.idx.value_held(&recv.ty).map(|h| h.kind);

        // Moves: a consuming method takes its receiver; by-value arguments are consumed.
        let consumes = def
            .as_ref()
            .is_some_and(|d| self.method_consumes(d, &method));
        if consumes {
            if def.as_ref().is_some_and(|d| d.role == Role::Close) {
                let ids = self.take(&recv);
                self.drop_ids(&ids, DropHow::Closed);
            }
            self.consume(&recv);
        }
        // A connection task's combinators (`connection.map(..)`) take it by value.
        if def.is_none() && recv_kind == Some(Kind::Driver) {
            self.consume(&recv);
        }
        let local = matches!(recv.ty.settled(), Ty::Local(_)) && def.is_none();
        if local
            && matches!(recv.ty.settled(), Ty::Local(o) if self.idx.method_takes_self(o, &method))
        {
            self.consume(&recv);
        }
        for a in &args {
            let ids = self.ids_of(a);
            self.pool_fate(&ids, || format!("passed to `.{method}()`"));
            self.consume(a);
        }

        // What the result carries: a fresh acquisition, or nothing new.
        let role = def.as_ref().map(|d| d.role);
        let produces = matches!(
            role,
            Some(Role::Acquire | Role::Begin | Role::Connect | Role::Detach)
        );
        let mut result = Value {
            ty,
            ..Value::default()
        };
        let result_holds = self
            .idx
            .value_held(&result.ty)
            .is_some_and(|h| h.kind.holds_connection());
        let recv_holds = recv_kind.is_some_and(|k| k.holds_connection());
        // A crate-local helper method returning a connection (`state.conn().await?`) hands
        // over a fresh one; other unknown methods (`OnceCell::get`) only give access to
        // one stored elsewhere.
        let helper =
            local && matches!(recv.ty.settled(), Ty::Local(o) if self.idx.has_method(o, &method));
        // A transaction begun on a held connection is a value of its own (to commit), working
        // on that connection.
        let begins_on_held = recv_holds && role == Some(Role::Begin);
        if result_holds
            && ((!recv_holds && (produces || helper)) || begins_on_held)
            && !matches!(result.ty.settled(), Ty::Collection(_) | Ty::Iter(_))
        {
            result.origin = Some(span);
            result.pool_key = recv.pool_key.clone();
            let id = self.new_held(&result, span, None, false);
            result.holds = id.into_iter().collect();
            self.pending.extend(result.holds.iter().copied());
            if begins_on_held {
                result.borrows = self.ids_of(&recv);
                let on_raw = self
                    .ids_of(&recv)
                    .iter()
                    .filter_map(|id| self.state.maybe.get(id))
                    .any(|h| {
                        h.held.kind == Kind::Raw
                            && (!h.param || self.idx.knowledge.ty(h.held.ty).shareable)
                    });
                let in_tx = self
                    .ids_of(&recv)
                    .iter()
                    .filter_map(|id| self.state.maybe.get(id))
                    .any(|h| h.held.kind == Kind::Transaction);
                for id in &result.holds {
                    for map in [&mut self.state.held, &mut self.state.maybe] {
                        if let Some(h) = map.get_mut(id) {
                            h.unpooled |= on_raw;
                            h.nested |= in_tx;
                        }
                    }
                }
            }
        } else if result_holds {
            result.origin = recv
                .origin
                .or_else(|| closure_ret.as_ref().and_then(|c| c.origin));
            // `pool.acquire().await.unwrap()`, `.context(..)`: the same connection passes on.
            if recv_holds && def.is_none() {
                result.holds = recv.holds.clone();
            }
            // `conn.begin()`, `client.transaction()`: works on the receiver's connection.
            if recv_holds {
                result.borrows = self.ids_of(&recv);
            }
        }
        if result.origin.is_none() && result_holds {
            result.origin = Some(span);
        }
        // `connect(..).await.unwrap()` of a tuple: what the result carried passes on.
        let passes_on = def.is_none()
            && result.holds.is_empty()
            && (UNWRAP_METHODS.contains(&method.as_str())
                || KEEP_FALLIBLE.contains(&method.as_str()))
            && !matches!(
                method.as_str(),
                "as_ref" | "as_mut" | "inspect" | "inspect_err"
            );
        if passes_on && !recv.holds.is_empty() {
            result.holds = recv.holds.clone();
            result.origin = recv.origin;
        } else if passes_on
            && recv.direct
            && self.idx.value_held(&recv.ty).is_none()
            && self.idx.held_in(&recv.ty).is_some()
        {
            // `result.map_err(..)?` on a binding holding a tuple of followed values moves it.
            result.holds = self.take(&recv);
            result.origin = recv.origin;
        }
        if self
            .idx
            .value_held(&result.ty)
            .is_some_and(|h| h.kind == Kind::Pool)
        {
            result.pool_key = recv.pool_key.clone();
        }
        // Locks, unwraps and borrows reach the same place (`state.map.lock().unwrap()`).
        if def.is_none()
            && [
                IDENTITY_METHODS,
                LOCK_METHODS,
                UNWRAP_METHODS,
                KEEP_FALLIBLE,
                &["get_or_init", "entry", "or_default", "or_insert_with"],
            ]
            .iter()
            .any(|l| l.contains(&method.as_str()))
        {
            result.place = recv.place.clone();
            result.pool_key = recv.pool_key.clone();
        }

        // Pool builders: the options set on the way, and the pool they build.
        if recv_kind == Some(Kind::Builder)
            || role == Some(Role::Configure)
            || role == Some(Role::Build)
        {
            result.settings = recv.settings.clone();
            let first_new = result.settings.len();
            // `.with_constraints(c)`: what was set on `c` counts.
            for v in &args {
                result.settings.extend(v.settings.iter().cloned());
            }
            for a in mc.args.iter().take(1) {
                settings_in(&method, a, &mut result.settings);
            }
            // A setter's finding points at the setter, not at its argument.
            for st in &mut result.settings[first_new..] {
                if st.setter == method {
                    st.span = span;
                }
            }
        }
        if role == Some(Role::Configure) {
            // `opt.max_connections(10)` as a statement: the setter changed `opt` in place.
            result.place = recv.place.clone();
            if let Place::Local(name) = &recv.place {
                let new: Vec<Setting> =
                    result.settings[recv.settings.len().min(result.settings.len())..].to_vec();
                if let Some(b) = self.lookup_mut(name) {
                    b.settings.extend(new);
                }
            }
        }
        if role == Some(Role::Build) {
            let builder = self
                .idx
                .value_held(&recv.ty)
                .filter(|h| h.kind == Kind::Builder)
                .map(|h| h.ty);
            self.pool_built(&mut result, builder, span);
        }
        if role == Some(Role::Connect) && result.holds.is_empty() {
            self.track_parts(&mut result, span);
        }
        // A cloned pool lives on in its clones.
        if method == "clone" && recv_kind == Some(Kind::Pool) {
            self.mark_shared(&recv);
        }
        let owner = match recv.ty.settled() {
            Ty::Local(o) => Some(o.clone()),
            Ty::Db(t) => Some(self.idx.knowledge.ty(*t).name.clone()),
            _ => None,
        };
        self.manual_call(&method, owner.as_deref(), span, &mentioned);
        result.manual.extend(self.last_manual.take());

        // Acquisitions, blocking calls, crate-local calls.
        let is_pool = recv_kind == Some(Kind::Pool);
        match role {
            Some(Role::Acquire | Role::Begin) if is_pool => {
                let blocking = def.as_ref().is_some_and(|d| d.blocking);
                let held = self
                    .held_snapshot()
                    .into_iter()
                    .filter(|h| !result.holds.contains(&h.id))
                    .collect();
                self.push_event(
                    EventKind::Acquire {
                        how: Acquisition::Direct {
                            pool: recv.pool_key.clone(),
                        },
                        held,
                        blocking,
                    },
                    span,
                    Vec::new(),
                    def.clone(),
                    Value::default(),
                );
            }
            Some(Role::Execute) if is_pool => {
                let held = self.held_snapshot();
                self.push_event(
                    EventKind::Acquire {
                        how: Acquisition::Executor {
                            pool: recv.pool_key.clone(),
                        },
                        held,
                        blocking: false,
                    },
                    span,
                    Vec::new(),
                    def.clone(),
                    Value::default(),
                );
            }
            _ => {}
        }
        if def.is_none() {
            // The pool as an executor: `.execute(&pool)`, `.fetch_one(&state.db)`.
            if let Some(pool_arg) = args.iter().find(|a| self.executor_pool(a, &method)) {
                let pool = pool_arg.pool_key.clone();
                let held = self.held_snapshot();
                self.push_event(
                    EventKind::Acquire {
                        how: Acquisition::Executor { pool },
                        held,
                        blocking: false,
                    },
                    span,
                    Vec::new(),
                    None,
                    Value::default(),
                );
            }
        }
        self.blocking_point(
            def.as_ref(),
            &[Role::Acquire, Role::Begin],
            || format!("{method}()"),
            (&before, &mentioned),
            span,
        );
        if local {
            if let Ty::Local(owner) = recv.ty.settled() {
                if self.idx.has_method(owner, &method) {
                    let key = CalleeKey::Method(owner.clone(), method.clone());
                    self.local_call(key, &result, true, &before, &mentioned, span);
                }
            }
        }
        // Only calls a rule can care about become events: the rest is most of the code.
        if def.is_some()
            || self.involves_db(&recv)
            || self.involves_db(&result)
            || args.iter().any(|a| self.involves_db(a))
        {
            self.push_event(
                EventKind::Method { method, recv },
                span,
                args,
                def,
                result.clone(),
            );
        }
        result
    }

    /// Does a value carry anything the rules look at: a connection, pool or builder type, a
    /// followed value, or a static?
    fn involves_db(&self, v: &Value) -> bool {
        !v.holds.is_empty()
            || matches!(v.place, Place::Static(_))
            || self.idx.held_in(&v.ty).is_some()
    }

    /// A call to a crate-local function or method: an acquisition when it hands over a fresh
    /// pooled connection, and a call the interprocedural summary follows either way. A helper
    /// that is given the held connection works on it, so only connections it is not given
    /// count as held.
    fn local_call(
        &mut self,
        key: CalleeKey,
        result: &Value,
        may_acquire: bool,
        before: &BTreeSet<u32>,
        mentioned: &BTreeSet<String>,
        span: Span,
    ) {
        if may_acquire && self.fresh_slot(result) {
            let held = self.unused(before, mentioned);
            let how = Acquisition::Helper {
                callee: key.to_string(),
            };
            self.push_event(
                EventKind::Acquire {
                    how,
                    held,
                    blocking: false,
                },
                span,
                Vec::new(),
                None,
                Value::default(),
            );
        }
        let held = self.unused(before, mentioned);
        self.push_event(
            EventKind::LocalCall { key, held },
            span,
            Vec::new(),
            None,
            Value::default(),
        );
    }

    /// A call the profiles say blocks the thread (other than the acquisitions in `except`,
    /// which their own rules report): records the connections held across it that it does not
    /// use. `seen` is (held before the call, names the call mentions).
    fn blocking_point(
        &mut self,
        def: Option<&Resolved>,
        except: &[Role],
        callee: impl FnOnce() -> String,
        seen: (&BTreeSet<u32>, &BTreeSet<String>),
        span: Span,
    ) {
        let Some(d) =
            def.filter(|d| (d.blocking || d.role == Role::Block) && !except.contains(&d.role))
        else {
            return;
        };
        let held = self.unused(seen.0, seen.1);
        let kind = EventKind::Blocking {
            callee: callee(),
            held,
        };
        self.push_event(kind, span, Vec::new(), Some(d.clone()), Value::default());
    }

    /// Is this argument a pool used as the executor of this method (`.execute(&pool)`)?
    fn executor_pool(&self, arg: &Value, method: &str) -> bool {
        let Some(h) = self.idx.value_held(&arg.ty) else {
            return false;
        };
        h.kind == Kind::Pool
            && self
                .idx
                .knowledge
                .method(h.ty, method)
                .is_some_and(|m| m.role == Role::Execute)
    }

    fn method_consumes(&self, d: &Resolved, method: &str) -> bool {
        let Some(on) = d.on else { return false };
        self.idx
            .knowledge
            .method(on, method)
            .is_some_and(|m| m.consumes)
    }

    /// The type a method call gives, and what the profiles say about it.
    fn method_type(
        &self,
        recv: &Ty,
        method: &str,
        closure_ret: Option<&Value>,
    ) -> (Ty, Option<Resolved>) {
        let m = method;
        match recv {
            Ty::Fallible(inner) => {
                if UNWRAP_METHODS.contains(&m) {
                    return ((**inner).clone(), None);
                }
                if KEEP_FALLIBLE.contains(&m) {
                    return (recv.clone(), None);
                }
                if m == "map" || m == "and_then" {
                    let r = closure_ret.map(|v| v.ty.clone()).unwrap_or_default();
                    return (Ty::fallible(r.unwrap_fallible()), None);
                }
                // `Option<&T>`-like receivers: look through.
                self.method_type(inner, m, closure_ret)
            }
            Ty::Db(id) => {
                if let Some(def) = self.idx.knowledge.method(*id, m) {
                    let ty = self.call_result(CallDef::Method(def), Some(*id));
                    let resolved = Resolved {
                        role: def.role,
                        on: Some(*id),
                        effect: def.effect.clone(),
                        note: def.note.clone(),
                        blocking: def.blocking,
                    };
                    return (ty, Some(resolved));
                }
                generic_method(recv, m)
            }
            Ty::Local(owner) => {
                if let Some(t) = self.idx.method_return(owner, m) {
                    return (t.clone(), None);
                }
                generic_method(recv, m)
            }
            Ty::Cell(inner) => match m {
                "get" | "take" | "into_inner" | "get_mut" => {
                    (Ty::fallible((**inner).clone()), None)
                }
                "get_or_init" | "get_unchecked" | "wait" | "force" => ((**inner).clone(), None),
                "get_or_try_init" => (Ty::fallible((**inner).clone()), None),
                _ => (Ty::Unknown, None),
            },
            Ty::Collection(elem) => match m {
                _ if ITER_SOURCES.contains(&m) => (Ty::iter((**elem).clone()), None),
                "get" | "get_mut" | "remove" | "pop" | "pop_front" | "pop_back" | "first"
                | "last" | "swap_remove" => (Ty::fallible((**elem).clone()), None),
                _ => generic_method(recv, m),
            },
            Ty::Iter(elem) => match m {
                _ if COLLECTORS.contains(&m) => (Ty::collection((**elem).clone()), None),
                "map" | "then" | "filter_map" | "flat_map" | "map_ok" => {
                    let r = closure_ret.map(|v| v.ty.clone()).unwrap_or_default();
                    let r = if m == "filter_map" {
                        r.unwrap_fallible()
                    } else {
                        r
                    };
                    (Ty::iter(r), None)
                }
                "next" | "last" | "nth" | "find" | "max" | "min" => {
                    (Ty::fallible((**elem).clone()), None)
                }
                "filter" | "take" | "skip" | "rev" | "chain" | "peekable" | "fuse" | "by_ref"
                | "buffer_unordered" | "buffered" | "inspect" => (recv.clone(), None),
                _ => (Ty::Unknown, None),
            },
            Ty::Unknown => match m {
                _ if ITER_SOURCES.contains(&m) => (Ty::iter(Ty::Unknown), None),
                "map" | "then" | "filter_map" => {
                    let r = closure_ret.map(|v| v.ty.clone()).unwrap_or_default();
                    if r.is_unknown() {
                        (Ty::Unknown, None)
                    } else {
                        (Ty::iter(r), None)
                    }
                }
                _ => (Ty::Unknown, None),
            },
            _ => generic_method(recv, m),
        }
    }

    /// The type a profile call produces (wrapped in a future and result as the profile says).
    fn call_result(&self, def: CallDef<'_>, on: Option<TypeId>) -> Ty {
        let (returns, tuple, is_async, fallible) = def.returns();
        let k = self.idx.knowledge;
        let named = |name: &str| -> Ty {
            if name == "Self" {
                return on.map_or(Ty::Unknown, Ty::Db);
            }
            on.and_then(|t| k.type_in_profile(t.profile, name))
                .map_or(Ty::Unknown, Ty::Db)
        };
        let mut ty = if !tuple.is_empty() {
            Ty::Tuple(tuple.iter().map(|n| named(n)).collect())
        } else {
            returns.map_or(Ty::Unknown, named)
        };
        if fallible {
            ty = Ty::fallible(ty);
        }
        if is_async {
            ty = Ty::future(ty);
        }
        ty
    }

    fn call(&mut self, c: &syn::ExprCall) -> Value {
        let path = match &*c.func {
            syn::Expr::Path(p) if p.qself.is_none() => Some(path_strings(&p.path)),
            _ => None,
        };
        let Some(path) = path else {
            self.expr(&c.func);
            let (args, _) = self.args(&c.args, false, false, false);
            for a in &args {
                self.consume(a);
            }
            return Value::default();
        };
        let before: BTreeSet<u32> = self.held_ids();
        let full = self.idx.scopes[self.file].expand(&path);
        let last = full.last().cloned().unwrap_or_default();
        // A crate-local wrapper (`spawn_try_task(fut)`, `run_blocking(|| ..)`) acts like
        // the call it wraps.
        let spawner = SPAWNERS.contains(&last.as_str()) || self.idx.fn_runs_tasks(&last);
        // Closures given to these run on a thread of their own, not on the executor.
        let blocking_wrapper = BLOCKING_WRAPPERS.contains(&last.as_str())
            || spawner
            || self.idx.fn_runs_blocking(&last);
        self.watch();
        let mark = self.events.len();
        self.init_closure = INIT_CALLS.contains(&last.as_str())
            || (last == "new"
                && full.len() >= 2
                && matches!(
                    full[full.len() - 2].as_str(),
                    "Lazy" | "LazyLock" | "LazyCell"
                ));
        let (args, closure_ret) = self.args(&c.args, false, blocking_wrapper, spawner);
        let mentioned = self.unwatch();
        for n in &mentioned {
            self.mention(n);
        }
        let span = match &*c.func {
            syn::Expr::Path(p) => p.path.segments.first().map(|s| s.ident.span()),
            _ => None,
        }
        .and_then(|start| start.join(c.paren_token.span.close()))
        .unwrap_or_else(|| c.paren_token.span.close());
        let first_arg = args.first().cloned().unwrap_or_default();
        let mut def = None;
        let mut local_key = None;
        // Wrappers and constructors keep the value they are given (`Box::new(conn)`).
        let mut wraps = false;
        let ty = match last.as_str() {
            "new" | "pin" | "from" if full.len() >= 2 && is_wrapper_ctor(&full[full.len() - 2]) => {
                wraps = true;
                if matches!(full[full.len() - 2].as_str(), "OnceLock" | "OnceCell") {
                    Ty::Unknown
                } else {
                    first_arg.ty.clone()
                }
            }
            "Some" | "Ok" if full.len() == 1 => {
                wraps = true;
                Ty::fallible(first_arg.ty.clone())
            }
            _ if JOINERS.contains(&last.as_str()) => match first_arg.ty.element() {
                Some(Ty::Future(out)) => Ty::future(Ty::collection((**out).clone())),
                _ => Ty::Unknown,
            },
            _ if full.len() == 1 && self.lookup(&last).is_none() && self.idx.has_fn(&last) => {
                local_key = self.idx.bare_fn_key(&last, self.file);
                self.idx.fn_return(&last).cloned().unwrap_or_default()
            }
            _ => {
                let (ty, resolved, key) = self.path_call_type(&full);
                def = resolved;
                local_key = key;
                ty
            }
        };
        let ty = match (&ty, &closure_ret) {
            (Ty::Unknown, Some(r))
                if matches!(
                    last.as_str(),
                    "new" | "get_or_init" | "spawn_blocking" | "block"
                ) =>
            {
                r.ty.clone()
            }
            _ => ty,
        };
        // `drop(x)`: gone here, on purpose.
        if matches!(full.as_slice(), [d] | [_, _, d] if d == "drop") && args.len() == 1 {
            let ids = self.take(&args[0]);
            self.drop_ids(&ids, DropHow::Explicit);
        }
        // A crate-local constructor wrapping a connection (`Repo(conn)`, `Repo::new(conn)`).
        let result_holds = self
            .idx
            .value_held(&ty)
            .is_some_and(|h| h.kind.holds_connection());
        let mut carried = Vec::new();
        for a in &args {
            let ids = self.take(a);
            if (wraps || result_holds) && !ids.is_empty() {
                carried.extend(ids);
            } else {
                self.pool_fate(&ids, || format!("passed to `{}`", full.join("::")));
                self.release(&ids);
            }
            self.hand_on_manual(a);
        }
        let role = def.as_ref().map(|d: &Resolved| d.role);
        let mut result = Value {
            ty,
            holds: carried,
            ..Value::default()
        };
        if wraps {
            result.settings = first_arg.settings.clone();
        }
        if matches!(role, Some(Role::Configure | Role::Build)) {
            for (a, v) in c.args.iter().zip(&args) {
                // `Database::connect(opt)`: what was set on `opt`; options inside the
                // arguments (`Pool::new(OptsBuilder::default().pool_opts(..))`) count, a
                // plain argument (`Config::new(path)`) sets no option.
                result.settings.extend(v.settings.iter().cloned());
                settings_in("", a, &mut result.settings);
            }
        }
        // `PoolConfig::new(16)`, `PoolConstraints::new(5, 20)`: options given positionally; they
        // matter only if the value reaches a pool builder.
        if last == "new"
            && !c.args.is_empty()
            && full.len() >= 2
            && full[full.len() - 2].starts_with(|c: char| c.is_ascii_uppercase())
        {
            settings_in("", &syn::Expr::Call(c.clone()), &mut result.settings);
        }
        if role == Some(Role::Build) {
            self.pool_built(&mut result, None, span);
        }
        if role == Some(Role::Connect) {
            self.track_parts(&mut result, span);
        }
        self.manual_call(&last, None, span, &mentioned);
        result.manual.extend(self.last_manual.take());
        let mut fresh = false;
        if result_holds
            && result.holds.is_empty()
            && !matches!(result.ty.settled(), Ty::Collection(_) | Ty::Iter(_))
        {
            // A fresh connection: an acquisition, a connect, or a helper that returns one.
            if matches!(
                role,
                Some(Role::Acquire | Role::Begin | Role::Connect | Role::Detach)
            ) || local_key.is_some()
            {
                let id = self.new_held(&result, span, None, false);
                result.holds = id.into_iter().collect();
                self.pending.extend(result.holds.iter().copied());
                fresh = !result.holds.is_empty();
            }
        }
        if result_holds {
            result.origin = if fresh {
                Some(span)
            } else {
                first_arg.origin.or(Some(span))
            };
        }
        if let Some(key) = &local_key {
            let fresh = !wraps && first_arg.holds.is_empty();
            self.local_call(key.clone(), &result, fresh, &before, &mentioned, span);
        }
        if spawner
            && matches!(
                c.args.first(),
                Some(syn::Expr::Call(_) | syn::Expr::MethodCall(_))
            )
        {
            // `tokio::spawn(worker(pool))`, `tokio::spawn(tail.run())`: the last crate-local
            // call of the argument is the task.
            let spawned = self.events[mark..]
                .iter()
                .rev()
                .find_map(|e| match &e.kind {
                    EventKind::LocalCall { key, .. } => Some(key.clone()),
                    _ => None,
                });
            if let Some(key) = spawned {
                self.push_event(
                    EventKind::SpawnFn { key },
                    span,
                    Vec::new(),
                    None,
                    Value::default(),
                );
            }
        }
        self.blocking_point(
            def.as_ref(),
            &[Role::Acquire, Role::Begin, Role::Connect],
            || full[full.len().saturating_sub(2)..].join("::"),
            (&before, &mentioned),
            span,
        );
        let leaks = matches!(full.as_slice(), [.., _, l] if matches!(l.as_str(), "forget" | "leak" | "into_raw" | "new"));
        if def.is_some()
            || local_key.is_some()
            || leaks
            || self.involves_db(&result)
            || args.iter().any(|a| self.involves_db(a))
        {
            self.push_event(
                EventKind::Call {
                    path: full,
                    local_fn: local_key.is_some(),
                },
                span,
                args,
                def,
                result.clone(),
            );
        }
        result
    }

    /// `Type::function(..)`, `crate_root::function(..)`, `module::local_fn(..)`, `Tuple(..)`.
    fn path_call_type(&self, full: &[String]) -> (Ty, Option<Resolved>, Option<CalleeKey>) {
        let Some((name, prefix)) = full.split_last() else {
            return (Ty::Unknown, None, None);
        };
        let k = self.idx.knowledge;
        if prefix.is_empty() {
            // A tuple-struct constructor (`DbConn(conn)`).
            if self.idx.is_local_type(name) {
                return (Ty::Local(name.clone()), None, None);
            }
            return (Ty::Unknown, None, None);
        }
        // Most `Type::f(..)` calls name types connlint knows nothing about (`String::new`,
        // `Duration::from_secs`): skip resolving those.
        let known = prefix
            .last()
            .is_some_and(|t| self.idx.could_be_type(self.file, t))
            || k.is_root(&prefix[0]);
        let owner = if known {
            self.idx
                .resolve_path(self.file, prefix, self.self_ty.as_deref())
        } else {
            Ty::Unknown
        };
        let resolved = |f: &crate::profile::FnDef, on: Option<TypeId>| Resolved {
            role: f.role,
            on,
            effect: f.effect.clone(),
            note: f.note.clone(),
            blocking: f.blocking,
        };
        match owner {
            Ty::Db(id) => {
                let tname = &k.ty(id).name;
                match k.function(id.profile, tname, name) {
                    Some(f) => (
                        self.call_result(CallDef::Function(f), Some(id)),
                        Some(resolved(f, Some(id))),
                        None,
                    ),
                    None => (Ty::Unknown, None, None),
                }
            }
            Ty::Local(owner) => {
                let t = self
                    .idx
                    .method_return(&owner, name)
                    .cloned()
                    .unwrap_or_default();
                let key = self
                    .idx
                    .has_method(&owner, name)
                    .then(|| CalleeKey::Method(owner.clone(), name.clone()));
                (t, None, key)
            }
            _ => {
                // `tokio_postgres::connect(..)`, `thread::sleep(..)`: a function at a crate
                // or module path.
                let pre = prefix.last().expect("non-empty");
                let roots: Vec<u16> = k.function_profiles(pre, name).collect();
                for p in roots.iter().copied() {
                    if let Some(f) = k.function(p, pre, name) {
                        // Free functions match by their last two segments; without the crate
                        // in the path, only an imported crate counts.
                        let scope = &self.idx.scopes[self.file];
                        let rooted = k.profiles[p as usize]
                            .roots
                            .iter()
                            .any(|r| full.contains(r) || scope.roots.contains(r));
                        if !rooted {
                            continue;
                        }
                        let anchor = TypeId {
                            profile: p,
                            index: 0,
                        };
                        let on = (!k.profiles[p as usize].types.is_empty()).then_some(anchor);
                        return (
                            self.call_result(CallDef::Function(f), on),
                            Some(resolved(f, None)),
                            None,
                        );
                    }
                }
                // `crate::db::get_conn(..)`, `db::get_conn(..)`.
                // The module named before the function picks among same-named functions;
                // a library path (`diesel::dsl::count`) names no local module.
                let module = prefix.last().map(String::as_str).unwrap_or_default();
                let key = match module {
                    "crate" | "self" | "super" => self.idx.fn_key(name, self.file),
                    m => self.idx.fn_key_in(m, name),
                };
                if key.is_some() {
                    return (
                        self.idx.fn_return(name).cloned().unwrap_or_default(),
                        None,
                        key,
                    );
                }
                (Ty::Unknown, None, None)
            }
        }
    }

    /// Macro arguments are code: parsed as a list of expressions where they parse, scanned for
    /// names otherwise. Awaiting macros (`join!`, `select!`) are await points.
    fn mac(&mut self, m: &syn::Macro, span: Span) -> Value {
        let name = m
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let tokens = &m.tokens;
        let awaits = AWAIT_MACROS.contains(&name.as_str());
        // Logging and formatting macros are most macros: with nothing followed, their
        // arguments can hold no hazard worth the cost of parsing them again.
        let tracking = !self.state.maybe.is_empty() || !self.state.manual.is_empty();
        if !tracking && !awaits && name != "vec" && !DIVERGING_MACROS.contains(&name.as_str()) {
            return Value::default();
        }
        let before: BTreeSet<u32> = self.held_ids();
        let mark = self.events.len();
        self.watch();
        let parsed: Option<syn::Expr> = syn::parse2(quote!([#tokens])).ok();
        let out = match parsed {
            Some(syn::Expr::Array(a)) => {
                let vals: Vec<Value> = a.elems.iter().map(|e| self.expr(e)).collect();
                if name == "vec" {
                    self.collection_of(vals)
                } else {
                    Value::default()
                }
            }
            Some(syn::Expr::Repeat(r)) => {
                let v = self.expr(&r.expr);
                self.expr(&r.len);
                if name == "vec" {
                    self.collection_of(vec![v])
                } else {
                    Value::default()
                }
            }
            _ => {
                for ident in idents(tokens.clone()) {
                    if self.lookup(&ident).is_some() {
                        self.mention(&ident);
                    }
                }
                Value::default()
            }
        };
        let mentioned = self.unwatch();
        for n in &mentioned {
            self.mention(n);
        }
        // `join!(work, connection)`, `select! { r = connection => .. }` drive the futures named.
        if awaits {
            for n in &mentioned {
                let driver = self.lookup(n).is_some_and(|b| {
                    self.idx
                        .value_held(&b.ty)
                        .is_some_and(|h| h.kind == Kind::Driver)
                });
                if driver {
                    let v = Value {
                        place: Place::Local(n.clone()),
                        direct: true,
                        ..Value::default()
                    };
                    self.consume(&v);
                }
            }
        }
        if awaits {
            self.await_point(span, &before, &mentioned, mark);
        }
        if DIVERGING_MACROS.contains(&name.as_str()) {
            self.state.reachable = false;
        }
        out
    }

    fn collection_of(&mut self, vals: Vec<Value>) -> Value {
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

    fn push_event(
        &mut self,
        kind: EventKind,
        span: Span,
        args: Vec<Value>,
        def: Option<Resolved>,
        result: Value,
    ) {
        self.events.push(Event {
            kind,
            args,
            span,
            def,
            result,
            ctx: self.ctx,
        });
    }
}

fn generic_method(recv: &Ty, m: &str) -> (Ty, Option<Resolved>) {
    if IDENTITY_METHODS.contains(&m) {
        (recv.clone(), None)
    } else if LOCK_METHODS.contains(&m) {
        (Ty::fallible(recv.clone()), None)
    } else {
        (Ty::Unknown, None)
    }
}

fn is_wrapper_ctor(name: &str) -> bool {
    matches!(
        name,
        "Box"
            | "Arc"
            | "Rc"
            | "Mutex"
            | "RwLock"
            | "RefCell"
            | "Cell"
            | "ManuallyDrop"
            | "Pin"
            | "Lazy"
            | "LazyLock"
            | "OnceLock"
            | "OnceCell"
            | "AssertUnwindSafe"
    )
}

/// The name a simple pattern binds (`conn`, `mut conn`, `conn: T`).
fn simple_name(p: &syn::Pat) -> Option<String> {
    match p {
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        syn::Pat::Type(t) => simple_name(&t.pat),
        syn::Pat::TupleStruct(ts) if ts.elems.len() == 1 => simple_name(&ts.elems[0]),
        _ => None,
    }
}

/// The binding at the root of a field chain (`state` in `state.db.pool`).
fn root_name(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Path(p) if p.path.segments.len() == 1 => {
            Some(p.path.segments[0].ident.to_string())
        }
        syn::Expr::Field(f) => root_name(&f.base),
        syn::Expr::Paren(p) => root_name(&p.expr),
        _ => None,
    }
}

/// Does the expression end in an `.await` (possibly followed by `?` or unwraps)?
fn is_awaited(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Await(_) => true,
        syn::Expr::Try(t) => is_awaited(&t.expr),
        syn::Expr::Paren(p) => is_awaited(&p.expr),
        syn::Expr::MethodCall(m) if UNWRAP_METHODS.contains(&m.method.to_string().as_str()) => {
            is_awaited(&m.receiver)
        }
        _ => false,
    }
}

/// `return Err(..)`: an error exit (rollback on drop is the idiom there).
fn is_error_value(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Call(c) => {
            matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Err"))
        }
        syn::Expr::MethodCall(m) => m.method == "into" && is_error_value(&m.receiver),
        syn::Expr::Paren(p) => is_error_value(&p.expr),
        _ => false,
    }
}

/// The pool options set by an expression given to `name`: a value (`max_connections(5)`), a
/// struct literal of options (`PoolConfig { max_size: 16, timeouts: Timeouts { .. } }`), a
/// chain of setters, or `Some(..)` of any of these.
fn settings_in(name: &str, e: &syn::Expr, out: &mut Vec<Setting>) {
    match e {
        syn::Expr::Struct(st) => {
            for f in &st.fields {
                if let syn::Member::Named(n) = &f.member {
                    settings_in(&n.to_string(), &f.expr, out);
                }
            }
        }
        // `Timeouts::wait_millis(750)`: a setter named with its unit.
        syn::Expr::Call(c)
            if c.args.len() == 1 && !is_duration(e) && unit_setter(&c.func).is_some() =>
        {
            let (setter, scale) = unit_setter(&c.func).expect("checked");
            let value = match setting_value(&c.args[0]) {
                SettingValue::Number(n) => SettingValue::Millis(n as u128 * scale),
                v => v,
            };
            out.push(Setting {
                setter,
                value,
                span: e.span(),
            });
        }
        syn::Expr::Call(c)
            if matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("Some"))
                && c.args.len() == 1 =>
        {
            let inner = &c.args[0];
            if matches!(inner, syn::Expr::Struct(_) | syn::Expr::MethodCall(_))
                && !is_duration(inner)
            {
                settings_in(name, inner, out);
            } else {
                out.push(Setting {
                    setter: name.to_string(),
                    value: setting_value(inner),
                    span: e.span(),
                });
            }
        }
        syn::Expr::MethodCall(m)
            if !is_duration(e) && !m.args.is_empty() && m.method != "unwrap" =>
        {
            settings_in(name, &m.receiver, out);
            let setter = m.method.to_string();
            settings_in(&setter, &m.args[0], out);
        }
        syn::Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => {
            settings_in(name, &m.receiver, out)
        }
        syn::Expr::Call(c)
            if !is_duration(e)
                && matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "new")) =>
        {
            // `PoolConstraints::new(5, 20)`, `PoolConfig::new(16)`: positional options.
            let ty = match &*c.func {
                syn::Expr::Path(p) if p.path.segments.len() >= 2 => {
                    p.path.segments[p.path.segments.len() - 2].ident.to_string()
                }
                _ => String::new(),
            };
            for (i, arg) in c.args.iter().enumerate() {
                out.push(Setting {
                    setter: format!("{ty}::new#{i}"),
                    value: setting_value(arg),
                    span: arg.span(),
                });
            }
        }
        syn::Expr::Paren(p) => settings_in(name, &p.expr, out),
        syn::Expr::Reference(r) => settings_in(name, &r.expr, out),
        _ => out.push(Setting {
            setter: name.to_string(),
            value: setting_value(e),
            span: e.span(),
        }),
    }
}

/// `wait_millis` → (`wait`, 1), `timeout_secs` → (`timeout`, 1000).
fn unit_setter(func: &syn::Expr) -> Option<(String, u128)> {
    let syn::Expr::Path(p) = func else {
        return None;
    };
    let name = p.path.segments.last()?.ident.to_string();
    [
        ("_millis", 1),
        ("_ms", 1),
        ("_secs", 1000),
        ("_seconds", 1000),
    ]
    .iter()
    .find_map(|(suffix, scale)| {
        name.strip_suffix(suffix)
            .map(|base| (base.to_string(), *scale))
    })
}

fn is_duration(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Call(c) => {
            matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.iter().any(|s| s.ident == "Duration"))
        }
        syn::Expr::MethodCall(m) => is_duration(&m.receiver),
        _ => false,
    }
}

/// The value of an option as written: a number, a duration, `None`.
fn setting_value(e: &syn::Expr) -> SettingValue {
    fn int(e: &syn::Expr) -> Option<u64> {
        match e {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) => i.base10_parse::<u64>().ok(),
            syn::Expr::Paren(p) => int(&p.expr),
            syn::Expr::Binary(b) => {
                let (l, r) = (int(&b.left)?, int(&b.right)?);
                match b.op {
                    syn::BinOp::Mul(_) => l.checked_mul(r),
                    syn::BinOp::Add(_) => l.checked_add(r),
                    syn::BinOp::Sub(_) => l.checked_sub(r),
                    syn::BinOp::Div(_) => l.checked_div(r),
                    _ => None,
                }
            }
            _ => None,
        }
    }
    match e {
        syn::Expr::Path(p) if p.path.is_ident("None") => SettingValue::Unbounded,
        syn::Expr::Call(c)
            if matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("Some"))
                && c.args.len() == 1 =>
        {
            setting_value(&c.args[0])
        }
        syn::Expr::Paren(p) => setting_value(&p.expr),
        syn::Expr::Cast(c) => setting_value(&c.expr),
        syn::Expr::Call(c) => {
            let Some(unit) = (match &*c.func {
                syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                _ => None,
            }) else {
                return SettingValue::Other;
            };
            let Some(n) = c.args.first().and_then(int) else {
                return SettingValue::Other;
            };
            let n = n as u128;
            match unit.as_str() {
                "from_secs" => SettingValue::Millis(n * 1000),
                "from_millis" => SettingValue::Millis(n),
                "from_micros" => SettingValue::Millis(n / 1000),
                "from_nanos" => SettingValue::Millis(n / 1_000_000),
                "from_mins" => SettingValue::Millis(n * 60_000),
                "from_hours" => SettingValue::Millis(n * 3_600_000),
                _ => SettingValue::Other,
            }
        }
        e => int(e).map_or(SettingValue::Other, SettingValue::Number),
    }
}

/// Does the expression take a reference (`&x`, `&mut *x`) somewhere?
fn has_reference(e: &syn::Expr) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_reference(&mut self, _: &'ast syn::ExprReference) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut f = Finder(false);
    f.visit_expr(e);
    f.0
}

/// Every identifier in a token stream (macro bodies that do not parse as expressions).
fn idents(tokens: TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for t in tokens {
        match t {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => out.extend(idents(g.stream())),
            _ => {}
        }
    }
    out
}

/// How a `loop` can end: `break` (of this loop) or `return` anywhere in it.
struct LoopExits {
    any: bool,
    breaks: bool,
    /// Some `break` carries a value out (a retry loop's result).
    breaks_with_value: bool,
}

impl LoopExits {
    fn of(body: &syn::Block) -> LoopExits {
        struct Finder {
            depth: u32,
            breaks: bool,
            with_value: bool,
            returns: bool,
        }
        impl<'ast> Visit<'ast> for Finder {
            fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
                // An unlabeled break inside a nested loop ends that loop, not this one.
                if self.depth == 0 || b.label.is_some() {
                    self.breaks = true;
                    self.with_value |= b.expr.is_some();
                }
                syn::visit::visit_expr_break(self, b);
            }
            fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
                self.returns = true;
                syn::visit::visit_expr_return(self, r);
            }
            fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
                self.depth += 1;
                syn::visit::visit_expr_loop(self, l);
                self.depth -= 1;
            }
            fn visit_expr_while(&mut self, l: &'ast syn::ExprWhile) {
                self.depth += 1;
                syn::visit::visit_expr_while(self, l);
                self.depth -= 1;
            }
            fn visit_expr_for_loop(&mut self, l: &'ast syn::ExprForLoop) {
                self.depth += 1;
                syn::visit::visit_expr_for_loop(self, l);
                self.depth -= 1;
            }
            // Closures and async blocks return from themselves, not from the loop.
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
            fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
            fn visit_item(&mut self, _: &'ast syn::Item) {}
            fn visit_macro(&mut self, m: &'ast syn::Macro) {
                // `select!` arms can `break`/`return`: look at the tokens.
                let words = idents(m.tokens.clone());
                if words.iter().any(|w| w == "return") {
                    self.returns = true;
                }
                if self.depth == 0 && words.iter().any(|w| w == "break") {
                    self.breaks = true;
                }
            }
        }
        let mut f = Finder {
            depth: 0,
            breaks: false,
            with_value: false,
            returns: false,
        };
        f.visit_block(body);
        LoopExits {
            any: f.breaks || f.returns,
            breaks: f.breaks,
            breaks_with_value: f.with_value,
        }
    }
}
