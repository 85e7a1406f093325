//! What the walk knows at a point: the connections held (on every path, on some path), the
//! bindings in scope and what each owns, and how branches merge.

use super::{HeldRef, Setting, Walker};
use crate::model::{Span, Sym};
use crate::types::Ty;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub(super) struct Binding {
    pub ty: Ty,
    pub origin: Option<Span>,
    /// Held connections this binding owns (released when it is moved or its scope ends).
    pub owns: Vec<u32>,
    /// Held connections this binding borrows (`let rows = query.fetch(&mut *conn)`).
    pub borrows: Vec<u32>,
    pub pool_key: Option<std::sync::Arc<str>>,
    /// For pool builders: the options set so far.
    pub settings: Vec<Setting>,
    /// Manual acquisitions this binding holds.
    pub manual: Vec<u32>,
    /// Its value, when constant evaluation reads one (`let max = 10;`) and it is never
    /// assigned again.
    pub konst: Option<crate::index::ConstVal>,
}

/// The bindings of one scope, in order of definition. A shadowed binding stays (unnamed in
/// effect: look-ups find the newest) so what it owns lives on to the end of the scope.
#[derive(Default)]
pub(super) struct Scope {
    pub bindings: Vec<(Sym, Binding)>,
}

/// The connections held at a point, and whether the point is reachable at all.
#[derive(Clone)]
pub(super) struct State {
    /// Held on every path here (what the hold rules look at).
    pub held: BTreeMap<u32, HeldRef>,
    /// Held on some path here (what the close rules look at).
    pub maybe: BTreeMap<u32, HeldRef>,
    /// Manual acquisitions (configured `[[release]]` pairs) not yet released on some path.
    pub manual: BTreeMap<u32, Manual>,
    pub reachable: bool,
}

impl State {
    pub fn new() -> State {
        State {
            held: BTreeMap::new(),
            maybe: BTreeMap::new(),
            manual: BTreeMap::new(),
            reachable: true,
        }
    }

    /// Held on every incoming path: a diverged path does not count.
    fn merge(a: State, b: State) -> State {
        match (a.reachable, b.reachable) {
            (false, _) => b,
            (_, false) => a,
            _ => State {
                // A connection-state transaction is open on every path only if it is on both,
                // and on some path if it is on either.
                held: a
                    .held
                    .into_iter()
                    .filter_map(|(id, mut h)| {
                        let other = b.held.get(&id)?;
                        h.open_tx = h.open_tx.and(other.open_tx);
                        Some((id, h))
                    })
                    .collect(),
                maybe: {
                    let mut m = a.maybe;
                    for (id, mut h) in b.maybe {
                        h.open_tx = h.open_tx.or(m.get(&id).and_then(|x| x.open_tx));
                        m.insert(id, h);
                    }
                    m
                },
                manual: a.manual.into_iter().chain(b.manual).collect(),
                reachable: true,
            },
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Manual {
    pub origin: Span,
    pub release: String,
    /// The binding that holds it, once bound.
    pub name: Option<Sym>,
    /// Loop depth where it was acquired: a `break` out of an outer loop does not skip it.
    pub loop_depth: u32,
}

/// A point of the walk to come back to: the held set and what each binding owns, by (scope
/// depth, position in the scope).
#[derive(Clone)]
pub(super) struct Snap {
    state: State,
    owns: Vec<((usize, usize), Vec<u32>)>,
}

impl Walker<'_> {
    // ---- branches --------------------------------------------------------------------------

    pub(super) fn snapshot(&self) -> Snap {
        // Only bindings that own something: restoring clears every other one.
        let owns = self
            .scopes
            .iter()
            .enumerate()
            .flat_map(|(d, s)| {
                s.bindings
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, b))| !b.owns.is_empty())
                    .map(move |(i, (_, b))| ((d, i), b.owns.clone()))
            })
            .collect();
        Snap {
            state: self.state.clone(),
            owns,
        }
    }

    pub(super) fn restore(&mut self, snap: &Snap) {
        self.state = snap.state.clone();
        for scope in &mut self.scopes {
            for (_, b) in &mut scope.bindings {
                b.owns.clear();
            }
        }
        for ((d, i), owns) in &snap.owns {
            if let Some((_, b)) = self.scopes.get_mut(*d).and_then(|s| s.bindings.get_mut(*i)) {
                b.owns = owns.clone();
            }
        }
    }

    /// Joins two paths: held on both, owned on either (a path that moved a binding's
    /// connection no longer holds it, so the intersection already dropped it).
    pub(super) fn join(&mut self, a: Snap, b: Snap) {
        let mut owns = a.owns;
        for (k, v) in b.owns {
            match owns.iter_mut().find(|(key, _)| *key == k) {
                Some((_, e)) => {
                    for id in v {
                        if !e.contains(&id) {
                            e.push(id);
                        }
                    }
                }
                None => owns.push((k, v)),
            }
        }
        self.restore(&Snap {
            state: State::merge(a.state, b.state),
            owns,
        });
    }

    // ---- scopes ----------------------------------------------------------------------------

    pub(super) fn define(&mut self, name: Sym, b: Binding) {
        // Shadowing does not drop: the old value lives on, unnamed, to the end of the scope
        // (look-ups find the newest binding of a name). Positions never change, so snapshots
        // can name bindings by position.
        let scope = self.scopes.last_mut().expect("a scope is always open");
        scope.bindings.push((name, b));
    }

    pub(super) fn lookup(&self, name: Sym) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| {
            s.bindings
                .iter()
                .rev()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| b)
        })
    }

    /// The newest binding named `name` (as text: a name of constant evaluation).
    pub(super) fn binding_named(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| {
            s.bindings
                .iter()
                .rev()
                .find(|(n, _)| self.m.name(*n) == name)
                .map(|(_, b)| b)
        })
    }

    /// Is `name` (as text: it may come from an import, not from this body) a binding here?
    pub(super) fn is_binding_named(&self, name: &str) -> bool {
        self.scopes
            .iter()
            .any(|s| s.bindings.iter().any(|(n, _)| self.m.name(*n) == name))
    }

    pub(super) fn lookup_mut(&mut self, name: Sym) -> Option<&mut Binding> {
        self.scopes.iter_mut().rev().find_map(|s| {
            s.bindings
                .iter_mut()
                .rev()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| b)
        })
    }

    pub(super) fn push_scope(&mut self) {
        self.scopes.push(Scope::default());
    }

    pub(super) fn pop_scope(&mut self) {
        // What the scope's bindings still own dies with them; what they moved out lives on.
        // A connection received by reference is the caller's to drop.
        if let Some(scope) = self.scopes.pop() {
            let mut ids: Vec<u32> = scope
                .bindings
                .iter()
                .flat_map(|(_, b)| b.owns.iter().copied())
                .collect();
            ids.sort_unstable();
            ids.retain(|id| !self.state.maybe.get(id).is_some_and(|h| h.param));
            self.drop_ids(&ids, super::DropHow::ScopeEnd);
        }
    }

    pub(super) fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.push_scope();
        let out = f(self);
        self.pop_scope();
        out
    }

    pub(super) fn in_loop<T>(&mut self, at: Span, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = self.ctx;
        self.ctx.loop_depth += 1;
        self.ctx.loop_at = Some(at);
        self.ctx.loop_last_break = None;
        let out = self.scoped(f);
        self.ctx = super::Ctx {
            in_async: self.ctx.in_async,
            ..saved
        };
        out
    }
}
