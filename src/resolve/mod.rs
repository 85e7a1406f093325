//! What type and role each value has: the result types of method and path calls, from the
//! profiles (library calls), the crate index (crate-local functions and methods) and the
//! standard wrappers (`Result`, `Option`, collections, iterators, cells, locks).

use crate::index::{CalleeKey, CrateIndex, Where};
use crate::profile::{CallDef, Role, TypeId};
use crate::types::Ty;

/// Methods that give back the receiver's own value (or a reference to it).
pub const IDENTITY_METHODS: &[&str] = &[
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
pub const LOCK_METHODS: &[&str] = &[
    "lock",
    "read",
    "write",
    "try_lock",
    "try_read",
    "try_write",
    "blocking_lock",
];
/// `Result`/`Option` methods that give the success value.
pub const UNWRAP_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_or_default",
    "unwrap_unchecked",
    "unwrap_or_else",
    "unwrap_or",
    "expect_throw",
];
/// `Result`/`Option` methods that keep the success value inside.
pub const KEEP_FALLIBLE: &[&str] = &[
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
pub const ITER_SOURCES: &[&str] = &[
    "iter",
    "into_iter",
    "iter_mut",
    "drain",
    "values",
    "values_mut",
    "into_values",
    "chunks",
];
pub const COLLECTORS: &[&str] = &["collect", "try_collect"];

/// What the profiles say a call does.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub role: Role,
    /// The library type the call is made on (methods) or through (`Object::take`).
    pub on: Option<TypeId>,
    pub effect: Option<&'static str>,
    pub note: Option<&'static str>,
    pub blocking: bool,
    /// See `profile::MethodDef::streams`.
    pub streams: bool,
    /// See `profile::FnDef::keeps`.
    pub keeps: Option<usize>,
}

/// Typing of calls written at a place (a module of a file, inside an `impl`, if any).
pub struct Types<'a> {
    pub idx: &'a CrateIndex,
    pub at: &'a Where,
}

impl Types<'_> {
    /// What a crate-local method (the type's own, a bound trait's, an extension's) returns,
    /// or what a std method of that name gives.
    fn local_method(&self, recv: &Ty, m: &str) -> Ty {
        match self
            .idx
            .method_on(self.at, recv, m)
            .and_then(|f| f.ret.as_ref())
        {
            Some(t) => t.clone(),
            None => generic_method(recv, m).0,
        }
    }

    /// The type a method call gives, and what the profiles say about it.
    pub fn method_type(
        &self,
        recv: &Ty,
        method: &str,
        closure_ret: Option<&Ty>,
    ) -> (Ty, Option<Resolved>) {
        let m = method;
        match recv {
            Ty::Fallible(inner) => {
                // A crate-local extension method of `Result`/`Option` keeps its value.
                if let Some(f) = self.idx.method_on(self.at, recv, m) {
                    let keeps = f.ret.as_ref().is_none_or(|t| matches!(t, Ty::Fallible(_)));
                    return (if keeps { recv.clone() } else { Ty::Unknown }, None);
                }
                if UNWRAP_METHODS.contains(&m) {
                    return ((**inner).clone(), None);
                }
                if KEEP_FALLIBLE.contains(&m) {
                    return (recv.clone(), None);
                }
                if m == "map" || m == "and_then" {
                    let r = closure_ret.cloned().unwrap_or_default();
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
                        effect: def.effect.as_deref(),
                        note: def.note.as_deref(),
                        blocking: def.blocking,
                        streams: def.streams,
                        keeps: None,
                    };
                    return (ty, Some(resolved));
                }
                (self.local_method(recv, m), None)
            }
            Ty::Local(_) | Ty::Param(_) => (self.local_method(recv, m), None),
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
                    let r = closure_ret.cloned().unwrap_or_default();
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
                // A blanket or extension trait's method (`parts.app()`).
                _ if self
                    .idx
                    .method_on(self.at, recv, m)
                    .is_some_and(|f| f.ret.is_some()) =>
                {
                    let f = self.idx.method_on(self.at, recv, m).expect("checked");
                    (f.ret.clone().unwrap_or_default(), None)
                }
                _ if ITER_SOURCES.contains(&m) => (Ty::iter(Ty::Unknown), None),
                "map" | "then" | "filter_map" => {
                    let r = closure_ret.cloned().unwrap_or_default();
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
    pub fn call_result(&self, def: CallDef<'_>, on: Option<TypeId>) -> Ty {
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

    /// `Type::function(..)`, `crate_root::function(..)`, `module::local_fn(..)`, `Tuple(..)`.
    pub fn path_call_type(&self, full: &[String]) -> (Ty, Option<Resolved>, Option<CalleeKey>) {
        let Some((name, prefix)) = full.split_last() else {
            return (Ty::Unknown, None, None);
        };
        let k = self.idx.knowledge;
        if prefix.is_empty() {
            // A tuple-struct constructor (`DbConn(conn)`).
            if let Some(t) = self.idx.local_type(self.at, full) {
                return (Ty::Local(t), None, None);
            }
            return (Ty::Unknown, None, None);
        }
        // Most `Type::f(..)` calls name types connlint knows nothing about (`String::new`,
        // `Duration::from_secs`): skip resolving those.
        let known = prefix
            .last()
            .is_some_and(|t| self.idx.could_be_type(self.at.file, t))
            || k.is_root(&prefix[0]);
        let owner = if known {
            self.idx.resolve_path(self.at, prefix)
        } else {
            Ty::Unknown
        };
        let resolved = |f: &'static crate::profile::FnDef, on: Option<TypeId>| Resolved {
            role: f.role,
            on,
            effect: f.effect.as_deref(),
            note: f.note.as_deref(),
            blocking: f.blocking,
            streams: false,
            keeps: f.keeps,
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
            ty @ (Ty::Local(_) | Ty::Param(_)) => match self.idx.method_on(self.at, &ty, name) {
                Some(f) => (f.ret.clone().unwrap_or_default(), None, Some(f.key)),
                None => (Ty::Unknown, None, None),
            },
            _ => {
                // `tokio_postgres::connect(..)`, `thread::sleep(..)`: a function at a crate
                // or module path.
                let pre = prefix.last().expect("non-empty");
                let roots: Vec<u16> = k.function_profiles(pre, name).collect();
                for p in roots.iter().copied() {
                    if let Some(f) = k.function(p, pre, name) {
                        // Free functions match by their last two segments; without the crate
                        // in the path, only an imported crate counts.
                        let scope = &self.idx.scopes[self.at.file];
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
                // `crate::db::get_conn(..)`, `db::get_conn(..)`: the function that path
                // denotes; a library path (`diesel::dsl::count`) names no local one.
                match self.idx.path_fn(self.at, full) {
                    Some((key, ret)) => (ret.clone(), None, Some(key)),
                    None => (Ty::Unknown, None, None),
                }
            }
        }
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
