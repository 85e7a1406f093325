//! Building the index: every file's facts laid out in flat tables, names interned by scope,
//! then aliases, fields, `Deref` targets, associated types, methods, traits and what each type
//! holds resolved once, so look-ups during the (parallel) analysis are plain map reads.

use super::facts::{FileFacts, Owner, RawGeneric, TypeExpr};
use super::resolve::Resolver;
use super::{
    rank, AliasInfo, BodyInfo, CalleeKey, CrateIndex, FileId, FnInfo, MethodFacts, Place,
    TraitInfo, TypeDef, TypeInfo, Where,
};
use crate::profile::Kind;
use crate::types::{Held, LocalTy, TraitId, Ty};
use std::collections::{BTreeSet, HashMap, HashSet};

/// What an `impl` is for.
#[derive(Debug, Clone)]
enum ImplFor {
    Local(LocalTy),
    /// `impl<T: Bound> Trait for T`.
    Generic,
    /// A type of another crate (`Result<T, E>`), by its last segment.
    Foreign(String),
    Nothing,
}

struct ImplInfo {
    target: ImplFor,
    trait_id: Option<TraitId>,
    trait_name: Option<String>,
    at: Where,
}

impl CrateIndex {
    /// Resolves everything added so far (again, after more files are added).
    pub fn finish(&mut self) {
        let files = std::mem::take(&mut self.files);
        self.reset();
        self.lay_out_modules(&files);
        let trait_ids = self.collect_names(&files);
        let r = Resolver::new(self);
        let alias_ty: Vec<Ty> = (0..self.aliases.len() as u32).map(|a| r.alias(a)).collect();
        drop(r);
        self.alias_ty = alias_ty;
        let impls = self.impls(&files);
        let drops = self.assoc_types(&files, &impls);
        self.field_types(&files);
        self.keys(&files, &trait_ids, &impls);
        for (file, facts) in files.iter().enumerate() {
            let Some(f) = facts else { continue };
            for (name, rules) in &f.macros {
                let defs = self.macros.entry(name.clone()).or_default();
                defs.push((file, rules.clone()));
            }
            for (name, t) in &f.statics {
                let ty = self.resolve_expr(&Where::file(file), t);
                self.static_ty.insert(name.clone(), ty);
            }
        }
        self.holds = self.holdings(false, &drops);
        self.holds_direct = self.holdings(true, &drops);
        self.files = files;
    }

    fn reset(&mut self) {
        self.module_ids.clear();
        self.module_paths.clear();
        self.file_modules.clear();
        self.module_files.clear();
        self.types.clear();
        self.aliases.clear();
        self.type_names.clear();
        self.traits.clear();
        self.trait_names.clear();
        self.fns.clear();
        self.fn_names.clear();
        self.alias_ty.clear();
        self.fields.clear();
        self.deref.clear();
        self.assoc.clear();
        self.methods.clear();
        self.trait_methods.clear();
        self.blanket.clear();
        self.foreign.clear();
        self.dispatch.clear();
        self.bodies.clear();
        self.callee_names.clear();
        self.callee_order.clear();
        self.static_ty.clear();
        self.macros.clear();
        self.consts.clear();
        self.const_names.clear();
        self.quiet.clear();
        self.holds.clear();
        self.holds_direct.clear();
    }

    /// Interns the module of every file (lowered or not) and of every inline module.
    fn lay_out_modules(&mut self, files: &[Option<FileFacts>]) {
        let places = self.layout.files.clone();
        for p in &places {
            self.intern_module(p.package, p.module.clone());
        }
        for (file, facts) in files.iter().enumerate() {
            let place = places.get(file).cloned().unwrap_or_default();
            let chains: &[Vec<String>] = facts.as_ref().map_or(&[], |f| &f.modules);
            let mut ids = Vec::new();
            if chains.is_empty() {
                ids.push(self.intern_module(place.package, place.module.clone()));
            }
            for chain in chains {
                let path = [place.module.as_slice(), chain].concat();
                ids.push(self.intern_module(place.package, path));
            }
            if let Some(top) = ids.first() {
                self.module_files.entry(*top).or_default().push(file);
            }
            self.file_modules.push(ids);
        }
    }

    fn place(&self, file: FileId, inline: u32) -> Place {
        let package = self.layout.place(file).map_or(0, |p| p.package);
        let module = self.file_modules[file]
            .get(inline as usize)
            .or(self.file_modules[file].first())
            .copied()
            .unwrap_or(0);
        Place {
            file,
            inline,
            package,
            module,
        }
    }

    /// Types, aliases and traits by name; returns each file's trait ids.
    fn collect_names(&mut self, files: &[Option<FileFacts>]) -> Vec<Vec<TraitId>> {
        let mut trait_ids = Vec::new();
        for (file, facts) in files.iter().enumerate() {
            let mut ids = Vec::new();
            let Some(f) = facts else {
                trait_ids.push(ids);
                continue;
            };
            for t in &f.types {
                let id = self.types.len() as u32;
                self.types.push(TypeInfo {
                    name: t.name.clone(),
                    place: self.place(file, t.module),
                    db_guard: t.db_guard,
                    variants: t.variants,
                    shared_fields: t
                        .fields
                        .iter()
                        .filter(|(_, te)| te.shared())
                        .map(|(n, _)| n.clone())
                        .collect(),
                });
                let defs = self.type_names.entry(t.name.clone()).or_default();
                defs.push(TypeDef::Type(id));
            }
            for a in &f.aliases {
                let id = self.aliases.len() as u32;
                self.aliases.push(AliasInfo {
                    name: a.name.clone(),
                    place: self.place(file, a.module),
                    ty: a.ty.clone(),
                });
                let defs = self.type_names.entry(a.name.clone()).or_default();
                defs.push(TypeDef::Alias(id));
            }
            for c in &f.consts {
                let id = self.consts.len() as u32;
                self.consts.push(super::consts::ConstInfo {
                    place: self.place(file, c.module),
                    value: c.value.clone(),
                });
                self.const_names.entry(c.name.clone()).or_default().push(id);
            }
            for t in &f.traits {
                let id = self.traits.len() as u32;
                self.traits.push(TraitInfo {
                    name: t.name.clone(),
                    place: self.place(file, t.module),
                });
                self.trait_names.entry(t.name.clone()).or_default().push(id);
                ids.push(TraitId(id));
            }
            trait_ids.push(ids);
        }
        trait_ids
    }

    /// The generic parameters of an item, with the crate-local trait each is bound by.
    fn generics(&self, at: &Where, raw: &[RawGeneric]) -> Vec<(String, Option<TraitId>)> {
        raw.iter()
            .map(|(name, bounds)| {
                let tr = bounds.iter().find_map(|b| self.lookup_trait(at, b));
                (name.clone(), tr)
            })
            .collect()
    }

    /// What each file's impls are for, and the trait they implement.
    fn impls(&self, files: &[Option<FileFacts>]) -> Vec<Vec<ImplInfo>> {
        let mut out = Vec::new();
        for (file, facts) in files.iter().enumerate() {
            let Some(f) = facts else {
                out.push(Vec::new());
                continue;
            };
            let mut infos = Vec::new();
            for i in &f.impls {
                let mut at = Where {
                    file,
                    module: i.module,
                    ..Where::default()
                };
                at.generics = self.generics(&at, &i.generics);
                let target = self.impl_target(&at, &i.self_ty);
                if let ImplFor::Local(t) = target {
                    at.self_ty = Some(t);
                }
                let trait_id = i
                    .trait_path
                    .as_ref()
                    .and_then(|p| self.lookup_trait(&at, p));
                infos.push(ImplInfo {
                    target,
                    trait_id,
                    trait_name: i.trait_path.as_ref().and_then(|p| p.last().cloned()),
                    at,
                });
            }
            out.push(infos);
        }
        out
    }

    fn impl_target(&self, at: &Where, ty: &TypeExpr) -> ImplFor {
        match ty {
            TypeExpr::Ref(inner) => self.impl_target(at, inner),
            TypeExpr::Path(segs, _) => {
                if let [g] = segs.as_slice() {
                    if at.generics.iter().any(|(n, _)| n == g) {
                        return ImplFor::Generic;
                    }
                }
                match self.lookup_type(at, segs) {
                    Some(TypeDef::Type(t)) => ImplFor::Local(LocalTy(t)),
                    Some(TypeDef::Alias(a)) => match self.alias_ty[a as usize].settled() {
                        Ty::Local(t) => ImplFor::Local(*t),
                        _ => ImplFor::Nothing,
                    },
                    None => segs
                        .last()
                        .map_or(ImplFor::Nothing, |l| ImplFor::Foreign(l.clone())),
                }
            }
            _ => ImplFor::Nothing,
        }
    }

    /// Associated types of impls (`type Context = Env;`) and `Deref` targets; returns the
    /// types with a `Drop` impl.
    fn assoc_types(
        &mut self,
        files: &[Option<FileFacts>],
        impls: &[Vec<ImplInfo>],
    ) -> HashSet<LocalTy> {
        let mut drops = HashSet::new();
        for (file, facts) in files.iter().enumerate() {
            let Some(f) = facts else { continue };
            for (raw, info) in f.impls.iter().zip(&impls[file]) {
                let ImplFor::Local(t) = info.target else {
                    continue;
                };
                if info.trait_name.as_deref() == Some("Drop") {
                    drops.insert(t);
                }
                for (name, te) in &raw.assoc {
                    let ty = self.resolve_expr(&info.at, te);
                    if ty.is_unknown() {
                        continue;
                    }
                    if name == "Target" && info.trait_name.as_deref() == Some("Deref") {
                        self.deref.insert(t, ty.clone());
                    }
                    self.assoc.entry((t, name.clone())).or_insert(ty);
                }
            }
        }
        drops
    }

    fn field_types(&mut self, files: &[Option<FileFacts>]) {
        let mut next = 0u32;
        for (file, facts) in files.iter().enumerate() {
            let Some(f) = facts else { continue };
            for t in &f.types {
                let id = LocalTy(next);
                next += 1;
                let at = Where {
                    file,
                    module: t.module,
                    self_ty: Some(id),
                    generics: Vec::new(),
                };
                let mut fields = HashMap::new();
                for (name, te) in &t.fields {
                    let ty = self.resolve_expr(&at, te);
                    if !ty.is_unknown() {
                        fields.insert(name.clone(), ty);
                    }
                }
                if !fields.is_empty() {
                    self.fields.insert(id, fields);
                }
            }
        }
    }

    fn new_key(&mut self, name: String, order: (u8, String, String, FileId)) -> CalleeKey {
        self.callee_names.push(name);
        self.callee_order.push(order);
        CalleeKey(self.callee_names.len() as u32 - 1)
    }

    /// Keys and return types of every function, method and trait method; trait dispatch.
    fn keys(
        &mut self,
        files: &[Option<FileFacts>],
        trait_ids: &[Vec<TraitId>],
        impls: &[Vec<ImplInfo>],
    ) {
        let ret_of = |idx: &CrateIndex, at: &Where, f: &super::facts::RawFn| -> Ty {
            let t = f
                .ret
                .as_ref()
                .map_or(Ty::Unknown, |t| idx.resolve_expr(at, t));
            if f.is_async {
                Ty::future(t)
            } else {
                t
            }
        };
        // Trait methods first: impls refer to them.
        for (file, facts) in files.iter().enumerate() {
            let Some(f) = facts else { continue };
            for func in &f.fns {
                let Owner::Trait(ti) = func.owner else {
                    continue;
                };
                let tr = trait_ids[file][ti as usize];
                let mut at = Where {
                    file,
                    module: func.module,
                    ..Where::default()
                };
                at.generics = self.generics(&at, &func.generics);
                let ret = ret_of(self, &at, func);
                let existing = self
                    .trait_methods
                    .get(&tr)
                    .and_then(|m| m.get(&func.name))
                    .map(|m| m.key);
                let key = match existing {
                    Some(k) => k,
                    None => {
                        let tname = self.traits[tr.0 as usize].name.clone();
                        let key = self.new_key(
                            format!("{tname}::{}", func.name),
                            (3, tname, func.name.clone(), file),
                        );
                        let facts = MethodFacts {
                            ret: (!ret.is_unknown()).then_some(ret),
                            takes_self: func.self_by_value,
                            key,
                        };
                        self.trait_methods
                            .entry(tr)
                            .or_default()
                            .insert(func.name.clone(), facts);
                        key
                    }
                };
                self.bodies
                    .insert((file, func.fn_index), BodyInfo { key: Some(key), at });
            }
        }
        for (file, facts) in files.iter().enumerate() {
            let Some(f) = facts else { continue };
            for func in &f.fns {
                match func.owner {
                    Owner::Trait(_) => {}
                    Owner::Free => {
                        let mut at = Where {
                            file,
                            module: func.module,
                            ..Where::default()
                        };
                        at.generics = self.generics(&at, &func.generics);
                        let ret = ret_of(self, &at, func);
                        let key = self.new_key(
                            func.name.clone(),
                            (0, func.name.clone(), String::new(), file),
                        );
                        let id = self.fns.len() as u32;
                        self.fns.push(FnInfo {
                            name: func.name.clone(),
                            place: self.place(file, func.module),
                            key,
                            ret,
                            runs_tasks: func.runs_tasks,
                            runs_blocking: func.runs_blocking,
                        });
                        self.fn_names.entry(func.name.clone()).or_default().push(id);
                        if func.is_async && !func.suspends {
                            self.quiet.insert(key);
                        }
                        self.bodies
                            .insert((file, func.fn_index), BodyInfo { key: Some(key), at });
                    }
                    Owner::Impl(ii) => {
                        let info = &impls[file][ii as usize];
                        let mut at = info.at.clone();
                        at.module = func.module;
                        at.generics.extend(self.generics(&at, &func.generics));
                        let ret = ret_of(self, &at, func);
                        let key = self.method(file, func, info, ret);
                        if let (Some(k), true) = (key, func.is_async && !func.suspends) {
                            self.quiet.insert(k);
                        }
                        self.bodies
                            .insert((file, func.fn_index), BodyInfo { key, at });
                    }
                }
            }
        }
        // A type has the default methods of the traits it implements.
        for infos in impls {
            for info in infos {
                let (ImplFor::Local(t), Some(tr)) = (&info.target, info.trait_id) else {
                    continue;
                };
                let Some(defaults) = self.trait_methods.get(&tr).cloned() else {
                    continue;
                };
                let own = self.methods.entry(*t).or_default();
                for (name, m) in defaults {
                    own.entry(name).or_insert(m);
                }
            }
        }
        for impls in self.dispatch.values_mut() {
            impls.sort();
            impls.dedup();
        }
    }

    /// Records a method of an impl; returns its key.
    fn method(
        &mut self,
        file: FileId,
        func: &super::facts::RawFn,
        info: &ImplInfo,
        ret: Ty,
    ) -> Option<CalleeKey> {
        let ret = (!ret.is_unknown()).then_some(ret);
        let trait_key = info
            .trait_id
            .and_then(|tr| self.trait_methods.get(&tr)?.get(&func.name))
            .map(|m| m.key);
        let key = match &info.target {
            ImplFor::Local(t) => {
                let existing = self.methods.get(t).and_then(|m| m.get(&func.name));
                match existing {
                    Some(m) => {
                        let key = m.key;
                        if func.self_by_value {
                            if let Some(m) =
                                self.methods.get_mut(t).and_then(|m| m.get_mut(&func.name))
                            {
                                m.takes_self = true;
                            }
                        }
                        key
                    }
                    None => {
                        let ty = &self.types[t.0 as usize];
                        let (tname, tfile) = (ty.name.clone(), ty.place.file);
                        let key = self.new_key(
                            format!("{tname}::{}", func.name),
                            (2, tname, func.name.clone(), tfile),
                        );
                        self.methods.entry(*t).or_default().insert(
                            func.name.clone(),
                            MethodFacts {
                                ret,
                                takes_self: func.self_by_value,
                                key,
                            },
                        );
                        key
                    }
                }
            }
            ImplFor::Generic | ImplFor::Foreign(_) => {
                let owner = info.trait_name.clone().unwrap_or_default();
                let key = self.new_key(
                    format!("{owner}::{}", func.name),
                    (4, owner, func.name.clone(), file),
                );
                let facts = MethodFacts {
                    ret,
                    takes_self: func.self_by_value,
                    key,
                };
                match (&info.target, info.trait_id) {
                    (ImplFor::Generic, Some(tr)) => self
                        .blanket
                        .entry(func.name.clone())
                        .or_default()
                        .push((tr, facts)),
                    (ImplFor::Foreign(on), _) => self
                        .foreign
                        .entry(func.name.clone())
                        .or_default()
                        .push((on.clone(), facts)),
                    _ => {}
                }
                key
            }
            ImplFor::Nothing => return None,
        };
        if let Some(tk) = trait_key {
            self.dispatch.entry(tk).or_default().push(key);
        }
        Some(key)
    }

    /// What `ty` holds, given what is known so far of local types; `direct` stops at
    /// collections, cells and tuples.
    fn held_with(&self, ty: &Ty, found: &HashMap<LocalTy, Held>, direct: bool) -> Option<Held> {
        match ty {
            Ty::Db(id) => Some(self.held_db(*id)),
            Ty::Local(t) => found.get(t).cloned(),
            Ty::Future(t) => self.held_with(t, found, direct),
            Ty::Fallible(t) | Ty::Collection(t) | Ty::Iter(t) | Ty::Cell(t) if !direct => {
                self.held_with(t, found, direct)
            }
            Ty::Tuple(ts) if !direct => ts
                .iter()
                .filter_map(|t| self.held_with(t, found, direct))
                .max_by_key(|h| rank(h.kind)),
            _ => None,
        }
    }

    /// What each local type holds, to a fixed point (types nest). A type holds what its
    /// fields and its `Deref` target hold; a raw connection behind `Arc` is a shared handle.
    /// With `direct`, an `Option` field counts only in a type with a `Drop` impl: the
    /// wrapper that takes its connection out in `drop` is that connection.
    fn holdings(&self, direct: bool, drops: &HashSet<LocalTy>) -> HashMap<LocalTy, Held> {
        let mut candidates: Vec<LocalTy> = self.fields.keys().copied().collect();
        candidates.extend(self.deref.keys().copied());
        candidates.sort();
        candidates.dedup();
        let mut found: HashMap<LocalTy, Held> = HashMap::new();
        loop {
            let mut changed = false;
            for t in &candidates {
                let info = &self.types[t.0 as usize];
                let mut best: Option<Held> = None;
                let mut holding_variants = BTreeSet::new();
                let fields = self.fields.get(t).into_iter().flat_map(|f| f.iter());
                let deref = self.deref.get(t).map(|ty| ("*", ty));
                for (f, ty) in fields.map(|(f, ty)| (f.as_str(), ty)).chain(deref) {
                    let ty = match ty {
                        Ty::Fallible(inner) if direct && drops.contains(t) => inner,
                        _ => ty,
                    };
                    let Some(mut h) = self.held_with(ty, &found, direct) else {
                        continue;
                    };
                    if h.kind == Kind::Raw && info.shared_fields.iter().any(|s| s == f) {
                        h.kind = Kind::Client;
                    }
                    if let Some((v, _)) = f.split_once('#') {
                        if h.kind.holds_connection() {
                            holding_variants.insert(v.to_string());
                        }
                    }
                    if best.as_ref().is_none_or(|b| rank(h.kind) > rank(b.kind)) {
                        best = Some(h);
                    }
                }
                // A value of an enum is a connection only if whichever variant it is holds one.
                if direct && info.variants > 0 && holding_variants.len() < info.variants {
                    best = None;
                }
                if let Some(mut h) = best {
                    if info.db_guard && h.kind == Kind::Raw {
                        h.kind = Kind::Connection;
                    }
                    h.wrapper.get_or_insert_with(|| info.name.as_str().into());
                    // A later pass may find more (a field whose type was not settled yet):
                    // keep the strongest, whatever order the types come in.
                    if found.get(t).is_none_or(|old| rank(h.kind) > rank(old.kind)) {
                        found.insert(*t, h);
                        changed = true;
                    }
                }
            }
            if !changed {
                return found;
            }
        }
    }
}
