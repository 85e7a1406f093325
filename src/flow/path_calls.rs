//! Calls through a path: `Pool::connect(..)`, `drop(conn)`, `Box::new(conn)`, crate-local
//! helpers, spawners (`tokio::spawn(..)`) and blocking wrappers.

use super::calls::{BLOCKING_WRAPPERS, INIT_CALLS, JOINERS, SPAWNERS};
use super::{CallEvent, DropHow, EventKind, Resolved, Seen, Value, Walker};
use crate::model::{Expr, ExprId};
use crate::profile::Role;
use crate::resolve::Types;
use crate::types::Ty;
use std::collections::BTreeSet;

impl Walker<'_> {
    pub(super) fn call(&mut self, e: ExprId) -> Value {
        let Expr::Call {
            func,
            args: arg_list,
        } = self.m.expr(e)
        else {
            unreachable!("call is called on calls");
        };
        let path = match self.m.expr(func) {
            Expr::Path { segs, qself: false } => Some(self.m.path_strings(segs)),
            _ => None,
        };
        let Some(path) = path else {
            self.expr(func);
            let (args, _) = self.args(arg_list, false, false, false);
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
        // Calling a local closure uses what it captured (`op()` of `let op = || use(tx)`).
        if path.len() == 1 && self.is_binding_named(&path[0]) {
            self.expr(func);
        }
        let mark = self.events.len();
        self.init_closure = INIT_CALLS.contains(&last.as_str())
            || (last == "new"
                && full.len() >= 2
                && matches!(
                    full[full.len() - 2].as_str(),
                    "Lazy" | "LazyLock" | "LazyCell"
                ));
        self.arg_callee = Some(
            full.iter()
                .rev()
                .take(2)
                .rev()
                .cloned()
                .collect::<Vec<_>>()
                .join("::"),
        );
        let (args, closure_ret) = self.args(arg_list, false, blocking_wrapper, spawner);
        let mentioned = self.unwatch();
        for n in &mentioned {
            self.mention(*n);
        }
        let span = self.m.expr_span(e);
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
            _ if full.len() == 1 && !self.is_binding_named(&last) && self.idx.has_fn(&last) => {
                match self.idx.bare_fn(&self.at, &last) {
                    Some((key, ret)) => {
                        local_key = Some(key);
                        ret.clone()
                    }
                    None => Ty::Unknown,
                }
            }
            _ => {
                let types = Types {
                    idx: self.idx,
                    at: &self.at,
                };
                let (ty, resolved, key) = types.path_call_type(&full);
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
        let on_conn = self.arg_conns(arg_list);
        self.tx_state(def.as_ref(), &ty, &on_conn, span);
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
            for (i, v) in args.iter().enumerate() {
                // `Database::connect(opt)`: what was set on `opt`; options inside the
                // arguments (`Pool::new(OptsBuilder::default().pool_opts(..))`) count, a
                // plain argument (`Config::new(path)`) sets no option.
                result.settings.extend(v.settings.iter().cloned());
                let a = self.m.nth_expr(arg_list, i);
                self.settings_in("", a, &mut result.settings);
            }
        }
        // `PoolConfig::new(16)`, `PoolConstraints::new(5, 20)`: options given positionally; they
        // matter only if the value reaches a pool builder.
        if last == "new"
            && !arg_list.is_empty()
            && full.len() >= 2
            && full[full.len() - 2].starts_with(|c: char| c.is_ascii_uppercase())
        {
            self.settings_in("", e, &mut result.settings);
        }
        if role == Some(Role::Build) {
            self.pool_built(&mut result, None, span, span);
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
        if let (Some(key), false) = (local_key, wraps) {
            self.pool_from_helper(&mut result, key, span);
        }
        if let Some(key) = &local_key {
            let fresh = !wraps && first_arg.holds.is_empty();
            self.local_call(*key, &result, fresh, &before, &mentioned, span);
        }
        let first_is_call = !arg_list.is_empty()
            && matches!(
                self.m.expr(self.m.nth_expr(arg_list, 0)),
                Expr::Call { .. } | Expr::MethodCall { .. }
            );
        if spawner && first_is_call {
            // `tokio::spawn(worker(pool))`, `tokio::spawn(tail.run())`: the last crate-local
            // call of the argument is the task.
            let spawned = self.events[mark..]
                .iter()
                .rev()
                .find_map(|e| match &e.kind {
                    EventKind::LocalCall { key, .. } => Some(*key),
                    _ => None,
                });
            if let Some(key) = spawned {
                self.push_event(EventKind::SpawnFn { key }, span);
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
            let seen = EventKind::Call(Box::new(CallEvent {
                path: full,
                local_fn: local_key.is_some(),
                args: args.iter().map(Seen::of).collect(),
                def,
                result: Seen::of(&result),
            }));
            self.push_event(seen, span);
        }
        result
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
