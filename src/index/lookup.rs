//! Scoped name lookup: what a name or path written somewhere denotes, through the module it is
//! written in, its `use` and glob imports, its package and the packages that package depends
//! on. A name that resolves to another crate (`anyhow::Result`) denotes nothing local.

use super::layout::PackageId;
use super::{CrateIndex, Place, TypeDef, Where};
use crate::types::TraitId;

/// Names of the standard prelude: written bare, they are the prelude's unless the module
/// defines or imports its own.
const PRELUDE: &[&str] = &[
    "Result",
    "Option",
    "Box",
    "Vec",
    "String",
    "Some",
    "None",
    "Ok",
    "Err",
    "Default",
    "Clone",
    "Copy",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "Iterator",
    "IntoIterator",
    "Extend",
    "ToString",
    "ToOwned",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "AsRef",
    "AsMut",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Debug",
    "Hash",
];

/// What a module path denotes.
enum ModuleTarget {
    Local(PackageId, Vec<String>),
    /// Another crate's module.
    External,
}

impl CrateIndex {
    /// The id of an absolute module path, interned.
    pub(super) fn intern_module(&mut self, package: PackageId, path: Vec<String>) -> u32 {
        let next = self.module_paths.len() as u32;
        let key = (package, path);
        if let Some(id) = self.module_ids.get(&key) {
            return *id;
        }
        self.module_paths.push(key.clone());
        self.module_ids.insert(key, next);
        next
    }

    /// The package and module id of the code at `at`.
    pub(super) fn site(&self, at: &Where) -> (PackageId, Option<u32>) {
        let pkg = self.layout.place(at.file).map_or(0, |p| p.package);
        let module = self
            .file_modules
            .get(at.file)
            .and_then(|m| m.get(at.module as usize).or(m.first()))
            .copied();
        (pkg, module)
    }

    fn site_path(&self, at: &Where) -> (PackageId, Vec<String>) {
        match self.site(at) {
            (pkg, Some(m)) => (pkg, self.module_paths[m as usize].1.clone()),
            (pkg, None) => (
                pkg,
                self.layout
                    .place(at.file)
                    .map(|p| p.module.clone())
                    .unwrap_or_default(),
            ),
        }
    }

    fn module_exists(&self, pkg: PackageId, path: &[String]) -> bool {
        self.module_ids.contains_key(&(pkg, path.to_vec()))
    }

    /// Resolves a module path written at `at` (`crate::db`, `super::x`, `db`, `dep::m`).
    fn module_target(&self, at: &Where, segs: &[String], depth: u8) -> ModuleTarget {
        let (pkg, cur) = self.site_path(at);
        let Some(first) = segs.first() else {
            return ModuleTarget::Local(pkg, cur);
        };
        let rest = &segs[1..];
        match first.as_str() {
            "crate" | "$crate" => return ModuleTarget::Local(pkg, rest.to_vec()),
            "self" => return ModuleTarget::Local(pkg, [cur.as_slice(), rest].concat()),
            "super" => {
                let supers = segs.iter().take_while(|s| *s == "super").count();
                let mut base = cur;
                base.truncate(base.len().saturating_sub(supers));
                base.extend_from_slice(&segs[supers..]);
                return ModuleTarget::Local(pkg, base);
            }
            _ => {}
        }
        if depth < 3 {
            if let Some(full) = self.scopes[at.file].imports.get(first) {
                if full.len() > 1 || full[0] != *first {
                    let expanded = [full.as_slice(), rest].concat();
                    return self.module_target(at, &expanded, depth + 1);
                }
            }
        }
        let child = [cur.as_slice(), std::slice::from_ref(first)].concat();
        if self.module_exists(pkg, &child) {
            return ModuleTarget::Local(pkg, [cur.as_slice(), segs].concat());
        }
        if let Some(p) = self.layout.package_named(pkg, first) {
            return ModuleTarget::Local(p, rest.to_vec());
        }
        if self.module_exists(pkg, std::slice::from_ref(first)) {
            return ModuleTarget::Local(pkg, segs.to_vec());
        }
        ModuleTarget::External
    }

    /// Picks among same-named definitions the one a path written at `at` denotes. `wide`:
    /// a bare name may also denote a definition unique in the package, or in the packages it
    /// depends on (types; a bare function call must be in scope).
    pub(super) fn pick<T: Copy>(
        &self,
        at: &Where,
        segs: &[String],
        cands: &[T],
        place: impl Fn(T) -> Place,
        wide: bool,
    ) -> Option<T> {
        if cands.is_empty() {
            return None;
        }
        let [name] = segs else {
            return self.pick_at_path(at, segs, cands, &place, 0);
        };
        let (pkg, here) = self.site(at);
        if let Some(c) = cands
            .iter()
            .find(|c| Some(place(**c).module) == here && place(**c).file == at.file)
            .or_else(|| cands.iter().find(|c| Some(place(**c).module) == here))
        {
            return Some(*c);
        }
        let scope = &self.scopes[at.file];
        if let Some(full) = scope.imports.get(name) {
            if full.len() > 1 || full[0] != *name {
                return self.pick_at_path(at, full, cands, &place, 0);
            }
        }
        for g in &scope.globs {
            if let ModuleTarget::Local(p, path) = self.module_target(at, g, 0) {
                if let Some(m) = self.module_ids.get(&(p, path)) {
                    if let Some(c) = cands.iter().find(|c| place(**c).module == *m) {
                        return Some(*c);
                    }
                }
            }
        }
        if PRELUDE.contains(&name.as_str()) {
            return None;
        }
        let unique =
            |keep: &dyn Fn(Place) -> bool| only(cands.iter().copied().filter(|c| keep(place(*c))));
        if let Some(c) = unique(&|p| p.file == at.file) {
            return Some(c);
        }
        if !wide {
            return None;
        }
        unique(&|p| p.package == pkg).or_else(|| unique(&|p| self.layout.sees(pkg, p.package)))
    }

    /// The definition `prefix::name` denotes, for `segs` = prefix + name.
    fn pick_at_path<T: Copy>(
        &self,
        at: &Where,
        segs: &[String],
        cands: &[T],
        place: &impl Fn(T) -> Place,
        depth: u8,
    ) -> Option<T> {
        let (name, prefix) = segs.split_last()?;
        let ModuleTarget::Local(p, path) = self.module_target(at, prefix, 0) else {
            return None;
        };
        if let Some(m) = self.module_ids.get(&(p, path.clone())) {
            if let Some(c) = cands.iter().find(|c| place(**c).module == *m) {
                return Some(*c);
            }
            // `pub use plume_rocket::PlumeRocket;` in that module's file: follow it.
            if depth < 4 {
                for &f in self.module_files.get(m).into_iter().flatten() {
                    let Some(full) = self.scopes[f].imports.get(name) else {
                        continue;
                    };
                    if full.len() > 1 {
                        let from = Where::file(f);
                        if let Some(c) = self.pick_at_path(&from, full, cands, place, depth + 1) {
                            return Some(c);
                        }
                    }
                }
            }
        }
        // Re-exported from a module below (`pub use pool::Pool;` in `db`), or from elsewhere
        // in the package: unique candidates only.
        let unique =
            |keep: &dyn Fn(Place) -> bool| only(cands.iter().copied().filter(|c| keep(place(*c))));
        unique(&|pl| pl.package == p && self.module_paths[pl.module as usize].1.starts_with(&path))
            .or_else(|| unique(&|pl| pl.package == p))
    }

    /// The struct, enum or alias a type path written at `at` denotes.
    pub(super) fn lookup_type(&self, at: &Where, segs: &[String]) -> Option<TypeDef> {
        let cands = self.type_names.get(segs.last()?)?;
        self.pick(at, segs, cands, |d| self.type_def_place(d), true)
    }

    fn type_def_place(&self, d: TypeDef) -> Place {
        match d {
            TypeDef::Type(t) => self.types[t as usize].place,
            TypeDef::Alias(a) => self.aliases[a as usize].place,
        }
    }

    /// The free function a call path written at `at` denotes.
    pub(super) fn lookup_fn(&self, at: &Where, segs: &[String]) -> Option<u32> {
        let cands = self.fn_names.get(segs.last()?)?;
        self.pick(at, segs, cands, |f| self.fns[f as usize].place, false)
            .or_else(|| {
                // `module::f` where `module` is not resolvable (a path through a re-export):
                // the one function of that name in a module of that name.
                let [.., module, _] = segs else { return None };
                only(cands.iter().copied().filter(|f| {
                    let place = self.fns[*f as usize].place;
                    self.module_paths[place.module as usize].1.last() == Some(module)
                }))
            })
    }

    /// The crate-local trait a path written at `at` denotes.
    pub(super) fn lookup_trait(&self, at: &Where, segs: &[String]) -> Option<TraitId> {
        let cands = self.trait_names.get(segs.last()?)?;
        self.pick(at, segs, cands, |t| self.traits[t as usize].place, true)
            .map(TraitId)
    }

    /// Can code at `at` call the methods of trait `tr`: defined in the same file or module,
    /// imported by name (or as `_`), or glob-imported from a module of its package?
    pub(super) fn trait_in_scope(&self, at: &Where, tr: TraitId) -> bool {
        let t = &self.traits[tr.0 as usize];
        let (pkg, here) = self.site(at);
        if t.place.file == at.file || Some(t.place.module) == here {
            return true;
        }
        let scope = &self.scopes[at.file];
        let named = |p: &Vec<String>| p.last() == Some(&t.name);
        if scope.imports.values().any(named) || scope.unnamed.iter().any(named) {
            return true;
        }
        t.place.package == pkg
            && scope.globs.iter().any(
                |g| matches!(self.module_target(at, g, 0), ModuleTarget::Local(p, _) if p == pkg),
            )
    }
}

/// The one item of `it`, if it has exactly one.
fn only<T>(mut it: impl Iterator<Item = T>) -> Option<T> {
    let first = it.next()?;
    it.next().is_none().then_some(first)
}
