//! Calls and method calls: what they acquire, move, build, block on or hand to crate-local
//! code; and the manual acquire/release pairs of the configuration.

use super::state::Manual;
use super::{
    Acquisition, CalleeKey, DropHow, EventKind, MethodEvent, Place, Resolved, Seen, Setting, Value,
    Walker,
};
use crate::model::{Expr, ExprId, List, Span, Sym};
use crate::profile::{Kind, Role};
use crate::resolve::{Types, IDENTITY_METHODS, KEEP_FALLIBLE, LOCK_METHODS, UNWRAP_METHODS};
use crate::types::Ty;
use std::collections::BTreeSet;

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
pub(super) const JOINERS: &[&str] = &["join_all", "try_join_all", "join", "try_join"];
/// Calls whose closure runs on a blocking thread: blocking inside is the point.
pub(super) const BLOCKING_WRAPPERS: &[&str] = &[
    "spawn_blocking",
    "block_in_place",
    "block",
    "interact",
    "run",
    "unblock",
];
/// Calls that run their argument as an independent task.
pub(super) const SPAWNERS: &[&str] = &[
    "spawn",
    "spawn_local",
    "spawn_blocking",
    "spawn_with_handle",
];
/// Calls that run a request guard or extractor named by their turbofish
/// (`request.guard::<User>()`, `parts.extract::<DbConn>()`).
pub(super) const EXTRACT_CALLS: &[&str] = &[
    "guard",
    "extract",
    "extract_with_state",
    "extract_parts",
    "extract_parts_with_state",
];
/// Calls whose closure runs once per process: building a pool there is the normal pattern.
pub(super) const INIT_CALLS: &[&str] = &[
    "get_or_init",
    "get_or_try_init",
    "call_once",
    "call_once_force",
    "init_once",
];

impl Walker<'_> {
    fn types(&self) -> Types<'_> {
        Types {
            idx: self.idx,
            at: &self.at,
        }
    }

    /// The arguments of a call, in order; closures among them are walked as closures (per
    /// item for iterator adapters, as tasks for spawners). Returns what a closure argument
    /// evaluates to.
    pub(super) fn args(
        &mut self,
        args: List,
        per_item: bool,
        blocking: bool,
        task: bool,
    ) -> (Vec<Value>, Option<Value>) {
        let mut vals = Vec::with_capacity(args.len());
        let mut closure_ret = None;
        let init = std::mem::take(&mut self.init_closure);
        let callee = self.arg_callee.take();
        for i in 0..args.len() {
            let a = self.m.nth_expr(args, i);
            let saved = self.ctx;
            self.init_closure = init;
            if blocking {
                self.ctx.in_blocking_closure = true;
                self.ctx.in_async = false;
            }
            let task = task.then_some(true);
            match self.m.expr(a) {
                Expr::Closure { moves, body, .. } => {
                    if moves && task.is_none() && !per_item && !init {
                        self.captured_by_closure(a, body, callee.as_deref());
                    }
                    let r = self.closure(a, per_item, task);
                    closure_ret = Some(r);
                    vals.push(Value::default());
                }
                Expr::Async { .. } if task.is_some() => {
                    let r = self.async_block(a, task);
                    vals.push(r);
                }
                _ => vals.push(self.expr(a)),
            }
            self.ctx = saved;
        }
        (vals, closure_ret)
    }

    /// A `move` closure handed to a call (not a task, not per item, not a run-once
    /// initialiser) that takes held connections with it: a `Captured` event, for rules that
    /// know which calls keep their closures (schedulers, callback registries).
    fn captured_by_closure(&mut self, closure: ExprId, body: ExprId, callee: Option<&str>) {
        let Some(callee) = callee else { return };
        let names = crate::model::visit::names_in(self.m, body, &|mac| self.ex.idents(mac));
        let owned: BTreeSet<u32> = names
            .iter()
            .filter_map(|n| self.lookup(*n))
            .flat_map(|b| b.owns.iter().copied())
            .collect();
        let held: Vec<super::HeldRef> = self
            .held_snapshot()
            .into_iter()
            // The receiver's own connection (`conn.run(move |c| ..)`) is worked on, not kept.
            .filter(|h| owned.contains(&h.id) && !self.closure_borrows.contains(&h.id))
            .collect();
        if !held.is_empty() {
            let span = self.m.expr_span(closure);
            self.push_event(
                EventKind::Captured {
                    callee: callee.to_string(),
                    held,
                },
                span,
            );
        }
    }

    pub(super) fn method_call(&mut self, e: ExprId) -> Value {
        let Expr::MethodCall {
            recv: recv_e,
            method: method_sym,
            args: arg_list,
        } = self.m.expr(e)
        else {
            unreachable!("method_call is called on method calls");
        };
        let before: BTreeSet<u32> = self.held_ids();
        self.watch();
        let recv = self.expr(recv_e);
        let method = self.name(method_sym);
        // `map`/`and_then` on a receiver of unknown type is as likely an `Option` as an
        // iterator; the other adapters only exist on iterators and streams.
        let per_item = ITER_ADAPTERS.contains(&method)
            && (matches!(recv.ty, Ty::Iter(_) | Ty::Collection(_))
                || (recv.ty == Ty::Unknown
                    && !matches!(method, "map" | "and_then" | "then" | "inspect" | "filter")));
        let spawner = SPAWNERS.contains(&method);
        // Closures given to these run on a thread of their own, not on the executor.
        let blocking_wrapper = BLOCKING_WRAPPERS.contains(&method) || spawner;
        // A closure given to a method of a held connection works on that connection.
        self.closure_borrows = self.ids_of(&recv);
        self.init_closure = INIT_CALLS.contains(&method);
        self.arg_callee = Some(method.to_string());
        let (args, closure_ret) = self.args(arg_list, per_item, blocking_wrapper, spawner);
        self.closure_borrows.clear();
        let mentioned = self.unwatch();
        for n in &mentioned {
            self.mention(*n);
        }
        let span = self.m.expr_span(e);
        let (ty, def) =
            self.types()
                .method_type(&recv.ty, method, closure_ret.as_ref().map(|v| &v.ty));
        let recv_kind = self.idx.value_held(&recv.ty).map(|h| h.kind);

        let mut on_conn = self.ids_of(&recv);
        on_conn.extend(self.arg_conns(arg_list));
        self.tx_state(def.as_ref(), &ty, &on_conn, span);
        // Moves: a consuming method takes its receiver; by-value arguments are consumed.
        let consumes = def
            .as_ref()
            .is_some_and(|d| self.method_consumes(d, method));
        // `tx.commit();` / `let _ = conn.close();` of an async API: the future is dropped
        // un-awaited, and the value it took with it.
        let unawaited = consumes
            && self.discarded == Some(e)
            && def.as_ref().is_some_and(|d| {
                matches!(d.role, Role::Commit | Role::Rollback | Role::Close)
                    && d.on.is_some_and(|on| {
                        self.idx
                            .knowledge
                            .method(on, method)
                            .is_some_and(|m| m.is_async)
                    })
            });
        if unawaited {
            let ids = self.take(&recv);
            self.drop_ids(&ids, DropHow::Unawaited);
        } else if consumes {
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
        // A crate-local method: the type's own, a bound trait's, or an extension's.
        let local = if def.is_none() {
            self.idx.method_on(&self.at, &recv.ty, method).cloned()
        } else {
            None
        };
        if local.as_ref().is_some_and(|m| m.takes_self) {
            self.consume(&recv);
        }
        let extracted = match (&def, &local) {
            (None, None) => self.extracted(e, method),
            _ => None,
        };
        let ty = match &extracted {
            Some((_, t)) => Ty::Fallible(Box::new(t.clone())),
            None => ty,
        };
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
        // over a fresh one (so does a guard that takes one); other unknown methods
        // (`OnceCell::get`) only give access to one stored elsewhere.
        let helper = local.is_some() || extracted.is_some();
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
                self.begin_on_held(&recv, &mut result);
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
        // `client.query_raw(..).await?`: the row stream keeps working on the connection.
        if def.as_ref().is_some_and(|d| d.streams) {
            result.borrows.extend(self.ids_of(&recv));
        }
        // `connect(..).await.unwrap()` of a tuple: what the result carried passes on.
        let passes_on = def.is_none()
            && result.holds.is_empty()
            && (UNWRAP_METHODS.contains(&method) || KEEP_FALLIBLE.contains(&method))
            && !matches!(method, "as_ref" | "as_mut" | "inspect" | "inspect_err");
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
            .any(|l| l.contains(&method))
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
            if !arg_list.is_empty() {
                let a = self.m.nth_expr(arg_list, 0);
                self.settings_in(method, a, &mut result.settings);
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
                if let Some(b) = self.lookup_mut(*name) {
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
            let start = self.m.expr_span(chain_root(self.m, e));
            self.pool_built(&mut result, builder, span, start);
        }
        if role == Some(Role::Connect) && result.holds.is_empty() {
            self.track_parts(&mut result, span);
        }
        // A cloned pool lives on in its clones.
        if method == "clone" && recv_kind == Some(Kind::Pool) {
            self.mark_shared(&recv);
        }
        // A handle made from a pool keeps it (`client.database(..)` keeps the client): storing
        // or handing on the handle hands on the pool.
        if recv_kind == Some(Kind::Pool)
            && role == Some(Role::Convert)
            && result.holds.is_empty()
            && self
                .idx
                .value_held(&result.ty)
                .is_some_and(|h| h.kind == Kind::Pool)
        {
            result.holds = self.ids_of(&recv);
        }
        let owner = match recv.ty.settled() {
            Ty::Local(o) => Some(self.idx.type_name(*o).to_string()),
            Ty::Db(t) => Some(self.idx.knowledge.ty(*t).name.clone()),
            _ => None,
        };
        self.manual_call(method, owner.as_deref(), span, &mentioned);
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
                        on: def.as_ref().and_then(|d| d.on),
                    },
                    span,
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
                        on: def.as_ref().and_then(|d| d.on),
                    },
                    span,
                );
            }
            _ => {}
        }
        if def.is_none() {
            // The pool as an executor: `.execute(&pool)`, `.fetch_one(&state.db)`.
            if let Some(pool_arg) = args.iter().find(|a| self.executor_pool(a, method)) {
                let pool = pool_arg.pool_key.clone();
                let held = self.held_snapshot();
                self.push_event(
                    EventKind::Acquire {
                        how: Acquisition::Executor { pool },
                        held,
                        blocking: false,
                        on: None,
                    },
                    span,
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
        if let Some(m) = &local {
            self.pool_from_helper(&mut result, m.key, span);
        }
        if let Some(key) = local.as_ref().map(|m| m.key).or(extracted.map(|(k, _)| k)) {
            self.local_call(key, &result, true, &before, &mentioned, span);
        }
        // Only calls a rule can care about become events: the rest is most of the code.
        if def.is_some()
            || self.involves_db(&recv)
            || self.involves_db(&result)
            || args.iter().any(|a| self.involves_db(a))
        {
            let seen = EventKind::Method(Box::new(MethodEvent {
                method: method_sym,
                recv: Seen::of(&recv),
                args: args.iter().map(Seen::of).collect(),
                def,
                result: Seen::of(&result),
            }));
            self.push_event(seen, span);
        }
        result
    }

    /// The crate-local guard or extractor a call runs (`request.guard::<User>()`): its
    /// `from_request` and the type it yields.
    fn extracted(&self, call: ExprId, method: &str) -> Option<(CalleeKey, Ty)> {
        if !EXTRACT_CALLS.contains(&method) {
            return None;
        }
        let ty = self.m.tys(self.m.turbofish(call)?).next()?;
        let ty = self.resolve_ty(ty);
        Some((self.idx.extractor(&ty)?, ty))
    }

    /// A transaction kept as connection state: a `begin` that gives no transaction value
    /// (`conn.begin_test_transaction()`, `AnsiTransactionManager::begin_transaction(&mut
    /// *conn)`) opens one on the connections it is called on or given; a `commit` or
    /// `rollback` that consumes nothing (`commit_transaction(&mut *conn)`) ends it.
    pub(super) fn tx_state(&mut self, def: Option<&Resolved>, result: &Ty, on: &[u32], span: Span) {
        let Some(d) = def else { return };
        let begun = match d.role {
            Role::Begin if self.idx.value_held(result).is_none() => Some(span),
            Role::Commit | Role::Rollback
                if d.on
                    .is_none_or(|t| self.idx.knowledge.ty(t).kind != Kind::Transaction) =>
            {
                None
            }
            _ => return,
        };
        self.set_open_tx(on, begun);
    }

    /// The connections of the bindings the arguments name, through `&`, `&mut` and `*`
    /// (`begin_transaction(&mut *conn)`): a reference does not carry its binding's.
    pub(super) fn arg_conns(&self, list: List) -> Vec<u32> {
        let mut ids = Vec::new();
        for &a in self.m.list(list) {
            let mut e = ExprId::from_raw(a);
            while let Expr::Reference(inner) | Expr::Deref(inner) = self.m.expr(e) {
                e = inner;
            }
            if let Expr::Path { segs, .. } = self.m.expr(e) {
                if segs.len() == 1 {
                    if let Some(b) = self.lookup(self.m.syms(segs)[0]) {
                        ids.extend(b.owns.iter().chain(&b.borrows));
                    }
                }
            }
        }
        ids
    }

    /// A transaction begun on a held connection: it works on that connection, takes no pool
    /// slot of its own when the connection is unpooled, and is a savepoint inside another
    /// transaction.
    fn begin_on_held(&mut self, recv: &Value, result: &mut Value) {
        result.borrows = self.ids_of(recv);
        let on = self.ids_of(recv);
        let on_raw = on
            .iter()
            .filter_map(|id| self.state.maybe.get(id))
            .any(|h| {
                h.held.kind == Kind::Raw && (!h.param || self.idx.knowledge.ty(h.held.ty).shareable)
            });
        let in_tx = on
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

    /// A call to a crate-local function or method: an acquisition when it hands over a fresh
    /// pooled connection, and a call the interprocedural summary follows either way. A helper
    /// that is given the held connection works on it, so only connections it is not given
    /// count as held.
    pub(super) fn local_call(
        &mut self,
        key: CalleeKey,
        result: &Value,
        may_acquire: bool,
        before: &BTreeSet<u32>,
        mentioned: &BTreeSet<Sym>,
        span: Span,
    ) {
        if may_acquire && self.fresh_slot(result) {
            let held = self.unused(before, mentioned);
            let how = Acquisition::Helper {
                callee: self.idx.callee_name(key).to_string(),
            };
            self.push_event(
                EventKind::Acquire {
                    how,
                    held,
                    blocking: false,
                    on: None,
                },
                span,
            );
        }
        let held = self.unused(before, mentioned);
        self.push_event(EventKind::LocalCall { key, held }, span);
    }

    /// A call the profiles say blocks the thread (other than the acquisitions in `except`,
    /// which their own rules report): records the connections held across it that it does not
    /// use. `seen` is (held before the call, names the call mentions).
    pub(super) fn blocking_point(
        &mut self,
        def: Option<&Resolved>,
        except: &[Role],
        callee: impl FnOnce() -> String,
        seen: (&BTreeSet<u32>, &BTreeSet<Sym>),
        span: Span,
    ) {
        if !def.is_some_and(|d| (d.blocking || d.role == Role::Block) && !except.contains(&d.role))
        {
            return;
        }
        let held = self.unused(seen.0, seen.1);
        let kind = EventKind::Blocking {
            callee: callee(),
            held,
        };
        self.push_event(kind, span);
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

    /// An exit while manual acquisitions are open: `release-skipped` reports it.
    pub(super) fn manual_exit(&mut self, at: Span, how: &'static str) {
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
        self.push_event(EventKind::ManualExit { open, how }, at);
    }

    /// A call that is a configured manual acquire or release (`[[release]]`).
    pub(super) fn manual_call(
        &mut self,
        name: &str,
        owner: Option<&str>,
        span: Span,
        mentioned: &BTreeSet<Sym>,
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
                        m.release == p.release && m.name.is_some_and(|n| mentioned.contains(&n))
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
                let id = self.fresh_id();
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
}

/// The expression a method chain starts from (`Pool::builder(m)` in
/// `Pool::builder(m).max_size(5).build(..)`), through `.await` and `?`.
fn chain_root(m: &crate::model::FileModel, mut e: ExprId) -> ExprId {
    loop {
        e = match m.expr(e) {
            Expr::MethodCall { recv, .. } => recv,
            Expr::Await(inner) | Expr::Try(inner) => inner,
            _ => return e,
        };
    }
}
