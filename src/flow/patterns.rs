//! Parameters and patterns: which names a value's parts (and its held connections) go to.

use super::exprs::simple_name;
use super::state::Binding;
use super::{Acquisition, EventKind, Value, Walker};
use crate::index::TRANSPARENT;
use crate::model::{Param, ParamKind, Pat, PatId, Span, Sym};
use crate::profile::Kind;
use crate::types::Ty;

impl Walker<'_> {
    /// Binds the parameters of a signature: a connection received by reference or as a guard
    /// is held for the whole body. A `handler`'s parameters are request guards and
    /// extractors, run in order before the body: one whose crate-local `from_request` takes
    /// a connection is a call made while the parameters before it are held.
    pub fn params(&mut self, params: &[Param], handler: bool) {
        for p in params {
            match p.kind {
                ParamKind::SelfValue | ParamKind::SelfRef => {
                    let Some(s) = self.at.self_ty else {
                        continue;
                    };
                    let v = Value::of(Ty::Local(s));
                    let by_ref = p.kind == ParamKind::SelfRef;
                    let owns = self
                        .new_held(&v, p.span, Some(Sym::SELF), by_ref)
                        .into_iter()
                        .collect();
                    self.define(
                        Sym::SELF,
                        Binding {
                            ty: v.ty,
                            origin: Some(p.span),
                            owns,
                            ..Binding::default()
                        },
                    );
                }
                ParamKind::Typed { pat, ty, by_ref } => {
                    let ty = self.resolve_ty(ty);
                    let span = p.span;
                    let mut v = Value::of(ty);
                    let name = simple_name(self.m, pat);
                    let is_pool = self
                        .idx
                        .value_held(&v.ty)
                        .is_some_and(|h| h.kind == Kind::Pool);
                    v.pool_key = if is_pool {
                        name.map(|n| self.name(n).into())
                    } else {
                        None
                    };
                    let before = self.held_snapshot();
                    let before_ids = self.held_ids();
                    let extractor = self.idx.extractor(&v.ty).filter(|_| handler && !by_ref);
                    v.holds = self.new_held(&v, span, name, by_ref).into_iter().collect();
                    // Request guards and extractors each take a connection before the body
                    // runs: a second one is a nested acquisition.
                    if !by_ref && self.fresh_slot(&v) && !before.is_empty() {
                        let how = Acquisition::Guard {
                            param: name.map_or("_".into(), |n| self.name(n).to_string()),
                        };
                        self.push_event(
                            EventKind::Acquire {
                                how,
                                held: before,
                                blocking: false,
                                on: None,
                            },
                            span,
                        );
                    } else if let Some(key) = extractor {
                        let held = self.unused(&before_ids, &Default::default());
                        self.push_event(EventKind::LocalCall { key, held }, span);
                    }
                    v.origin = Some(span);
                    self.bind(pat, v);
                }
            }
        }
        // Parameters are bound, not in flight.
        self.pending.clear();
    }

    /// Binds the names of a pattern to the parts of a value.
    pub(super) fn bind(&mut self, pat: PatId, v: Value) {
        let mut owns = v.holds.clone();
        self.pending.retain(|p| !owns.contains(p));
        self.bind_part(pat, v.ty.clone(), v.origin, &mut owns, &v.pool_key);
        if let Some(name) = simple_name(self.m, pat) {
            for (_, m) in self
                .pending_manual
                .iter_mut()
                .filter(|(_, m)| m.name.is_none())
            {
                m.name = Some(name);
            }
            if let Some(b) = self.lookup_mut(name) {
                b.settings = v.settings.clone();
                b.manual = v.manual.clone();
            }
        }
        // A pattern with no binding to take the value (`let _ = ..`) drops it now; in a
        // `match`, an arm that binds nothing (`Err(e) =>`) is a path where it never existed.
        if std::mem::take(&mut self.arm_binding) {
            self.release(&owns);
        } else {
            self.drop_ids(&owns, super::DropHow::Discard);
        }
    }

    fn bind_part(
        &mut self,
        pat: PatId,
        ty: Ty,
        origin: Option<Span>,
        owns: &mut Vec<u32>,
        pool_key: &Option<std::sync::Arc<str>>,
    ) {
        match self.m.pat(pat) {
            Pat::Ident { name, sub } => {
                if let Some(sub) = sub {
                    self.bind_part(sub, ty.clone(), origin, owns, pool_key);
                }
                let can_hold = ty.is_unknown() || self.idx.held_in(&ty).is_some();
                let mine = if owns.is_empty() || !can_hold {
                    Vec::new()
                } else {
                    std::mem::take(owns)
                };
                for id in &mine {
                    for map in [&mut self.state.held, &mut self.state.maybe] {
                        if let Some(h) = map.get_mut(id) {
                            h.name = Some(name);
                        }
                    }
                }
                let holds = self.idx.value_held(&ty).is_some();
                self.define(
                    name,
                    Binding {
                        ty,
                        origin: if holds { origin } else { None },
                        owns: mine,
                        borrows: Vec::new(),
                        pool_key: pool_key.clone().or_else(|| Some(self.name(name).into())),
                        settings: Vec::new(),
                        manual: Vec::new(),
                        konst: None,
                    },
                );
            }
            Pat::Typed { pat, ty: declared } => {
                let ty = self.resolve_ty(declared).declared_over(ty);
                self.bind_part(pat, ty, origin, owns, pool_key);
            }
            Pat::Reference(inner) | Pat::Guard { pat: inner, .. } => {
                self.bind_part(inner, ty, origin, owns, pool_key)
            }
            Pat::Or(cases) => {
                for case in self.m.pats_of(cases) {
                    self.bind_part(case, ty.clone(), origin, owns, pool_key);
                }
            }
            Pat::Tuple(elems) => {
                let elems: Vec<PatId> = self.m.pats_of(elems).collect();
                let parts: Vec<Ty> = (0..elems.len())
                    .map(|i| match &ty {
                        Ty::Tuple(ts) => ts.get(i).cloned().unwrap_or_default(),
                        _ => Ty::Unknown,
                    })
                    .collect();
                // Each part takes the followed values of its own type (`(client, connection)`);
                // what matches no part goes to the first part that holds anything.
                let first = parts.iter().position(|t| self.idx.value_held(t).is_some());
                for (i, elem) in elems.into_iter().enumerate() {
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
            Pat::TupleStruct { path, elems } => {
                let name = self.m.last(path).unwrap_or_default();
                if matches!(name, "Err" | "None") {
                    // The error side of a result carries no connection.
                    for elem in self.m.pats_of(elems) {
                        self.bind_part(elem, Ty::Unknown, None, &mut Vec::new(), &None);
                    }
                    return;
                }
                for (i, elem) in self.m.pats_of(elems).enumerate() {
                    let part = match (name, &ty) {
                        ("Some" | "Ok", t) => t.clone().unwrap_fallible(),
                        // Extractor patterns (`State(s)`, `Data(d)`): the wrapper is transparent.
                        (n, t) if TRANSPARENT.contains(&n) => t.clone(),
                        (_, Ty::Local(owner)) => self
                            .idx
                            .field(*owner, &i.to_string())
                            .cloned()
                            .unwrap_or_default(),
                        _ => Ty::Unknown,
                    };
                    self.bind_part(elem, part, origin, owns, pool_key);
                }
            }
            Pat::Struct { fields, .. } => {
                for k in 0..fields.len() {
                    let fp = self.m.field_pat(self.m.list(fields)[k]);
                    let part = match &ty {
                        Ty::Local(owner) => self
                            .idx
                            .field(*owner, self.name(fp.member))
                            .cloned()
                            .unwrap_or_default(),
                        _ => Ty::Unknown,
                    };
                    self.bind_part(fp.pat, part, origin, owns, &None);
                }
            }
            Pat::Slice(elems) => {
                let elem = ty.element().cloned().unwrap_or_default();
                for p in self.m.pats_of(elems) {
                    self.bind_part(p, elem.clone(), origin, owns, &None);
                }
            }
            Pat::Wild | Pat::Other => {}
        }
    }
}
