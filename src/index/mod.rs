//! Crate-wide facts gathered from every lowered file before any rule runs: types with their
//! fields, `Deref` targets and methods, traits and their impls, aliases, function return types
//! and statics, each resolved in the scope of the package and module that wrote it. With
//! these, a receiver such as `state.db` or `self.conn().await?` resolves to a pool or a
//! connection even when no library name appears in the function that uses it.

mod build;
mod consts;
mod facts;
pub mod layout;
mod lookup;
mod resolve;

pub use consts::{ConstExpr, ConstVal};
pub use facts::{FileFacts, TypeExpr};
pub use layout::Layout;
pub use resolve::TRANSPARENT;

use crate::model::{FileModel, FileScope, TyId};
use crate::profile::{Kind, Knowledge, TypeId};
use crate::types::{Held, LocalTy, TraitId, Ty};
use layout::PackageId;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub type FileId = usize;

/// A crate-local function or method as other code calls it: a free function, the method of a
/// type (its own, or a trait's default), or a trait's method (which stands for every impl).
/// The index numbers them; [`CrateIndex::callee_name`] gives the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CalleeKey(u32);

/// Where code is: a file and the chain of inline modules in it; inside an `impl` or a
/// function, its `Self` type and generic parameters (with the crate-local trait each is
/// bound by).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Where {
    pub file: FileId,
    pub module: u32,
    pub self_ty: Option<LocalTy>,
    pub generics: Vec<(String, Option<TraitId>)>,
}

impl Where {
    /// The top of `file`, outside any function.
    pub fn file(file: FileId) -> Where {
        Where {
            file,
            ..Where::default()
        }
    }
}

/// Does `text` contain one of `words` as a whole word (not inside a longer identifier)?
pub fn mentions_word(words: &aho_corasick::AhoCorasick, text: &str) -> bool {
    let bytes = text.as_bytes();
    let ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    words.find_overlapping_iter(text).any(|m| {
        let before = m.start().checked_sub(1).map(|i| &bytes[i]);
        !before.is_some_and(ident) && !bytes.get(m.end()).is_some_and(ident)
    })
}

/// Where an item is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    file: FileId,
    /// The inline module chain in the file (`FileModel::modules`).
    inline: u32,
    package: PackageId,
    /// The interned absolute module path.
    module: u32,
}

#[derive(Debug)]
struct TypeInfo {
    name: String,
    place: Place,
    db_guard: bool,
    variants: usize,
    /// Fields reached through `Arc`/`Rc`: a connection there is shared, not owned.
    shared_fields: Vec<String>,
}

#[derive(Debug)]
struct AliasInfo {
    name: String,
    place: Place,
    ty: TypeExpr,
}

#[derive(Debug)]
struct TraitInfo {
    name: String,
    place: Place,
}

#[derive(Debug)]
struct FnInfo {
    name: String,
    place: Place,
    key: CalleeKey,
    ret: Ty,
    runs_tasks: bool,
    runs_blocking: bool,
}

/// What the flow asks about a crate-local method.
#[derive(Debug, Clone)]
pub struct MethodFacts {
    pub ret: Option<Ty>,
    pub takes_self: bool,
    pub key: CalleeKey,
}

/// A definition a type name can denote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeDef {
    Type(u32),
    Alias(u32),
}

/// A function body's key and the scope its code is in.
#[derive(Debug, Clone)]
pub struct BodyInfo {
    pub key: Option<CalleeKey>,
    pub at: Where,
}

/// Crate-wide facts. Built once per run, shared read-only by every file's analysis.
pub struct CrateIndex {
    pub knowledge: &'static Knowledge,
    pub scopes: Vec<Arc<FileScope>>,
    layout: Layout,
    /// What each file gave, by file id; `finish` builds everything below from these.
    files: Vec<Option<FileFacts>>,

    /// Interned absolute module paths.
    module_ids: HashMap<(PackageId, Vec<String>), u32>,
    module_paths: Vec<(PackageId, Vec<String>)>,
    /// Each lowered file's inline module chains, as interned module ids.
    file_modules: Vec<Vec<u32>>,
    /// The files whose top module each module is (`pub use` re-exports are read there).
    module_files: HashMap<u32, Vec<FileId>>,

    types: Vec<TypeInfo>,
    aliases: Vec<AliasInfo>,
    type_names: HashMap<String, Vec<TypeDef>>,
    traits: Vec<TraitInfo>,
    trait_names: HashMap<String, Vec<u32>>,
    fns: Vec<FnInfo>,
    fn_names: HashMap<String, Vec<u32>>,

    alias_ty: Vec<Ty>,
    fields: HashMap<LocalTy, HashMap<String, Ty>>,
    deref: HashMap<LocalTy, Ty>,
    assoc: HashMap<(LocalTy, String), Ty>,
    methods: HashMap<LocalTy, HashMap<String, MethodFacts>>,
    trait_methods: HashMap<TraitId, HashMap<String, MethodFacts>>,
    /// Methods of `impl<T: ..> Trait for T`: any value has them where the trait is in scope.
    blanket: HashMap<String, Vec<(TraitId, MethodFacts)>>,
    /// Methods of impls for types of other crates (`impl ResultExt for Result<T, E>`), by
    /// method, with the type's last segment.
    foreign: HashMap<String, Vec<(String, MethodFacts)>>,
    /// A trait method's key → the keys of every impl's method of that name.
    dispatch: HashMap<CalleeKey, Vec<CalleeKey>>,
    bodies: HashMap<(FileId, u32), BodyInfo>,
    /// Every key's name (`helper`, `Type::method`), by key.
    callee_names: Vec<String>,
    /// Every key's place in the order of names: free functions first, then methods by type
    /// and name, then trait methods.
    callee_order: Vec<(u8, String, String, FileId)>,
    static_ty: HashMap<String, Ty>,
    /// `macro_rules!` definitions by name: the file and the text of the rules.
    macros: HashMap<String, Vec<(FileId, Arc<str>)>>,
    /// `const` and `static` items' values, and their ids by name.
    consts: Vec<consts::ConstInfo>,
    const_names: HashMap<String, Vec<u32>>,
    /// `async fn`s whose body cannot suspend (no `.await`, no `join!`/`select!`).
    quiet: std::collections::HashSet<CalleeKey>,
    /// What each local type holds, looking through options, collections and tuples.
    holds: HashMap<LocalTy, Held>,
    /// What each local type holds in a field of its own (or behind `Option`, a lock or its
    /// `Deref` target): a value of that type *is* a connection for the hold rules.
    holds_direct: HashMap<LocalTy, Held>,
    /// Manual acquire/release pairs declared in configuration (`[[release]]`).
    release: Vec<crate::profile::ReleasePair>,
    /// Words that make a function worth a full flow analysis.
    hot: Option<HashSet<String>>,
}

impl CrateIndex {
    /// Merges the facts of every file (indexed by file id), then resolves them.
    pub fn build(
        knowledge: &'static Knowledge,
        layout: Layout,
        files: Vec<FileFacts>,
    ) -> CrateIndex {
        let mut idx = CrateIndex::new(knowledge, layout, files.len());
        for (id, f) in files.into_iter().enumerate() {
            idx.add(id, f);
        }
        idx.finish();
        idx
    }

    /// An empty index for `files` files (ids `0..files`); `add` them, then `finish`.
    pub fn new(knowledge: &'static Knowledge, layout: Layout, files: usize) -> CrateIndex {
        CrateIndex {
            knowledge,
            scopes: vec![Arc::default(); files],
            layout,
            files: vec![None; files],
            module_ids: HashMap::new(),
            module_paths: Vec::new(),
            file_modules: Vec::new(),
            module_files: HashMap::new(),
            types: Vec::new(),
            aliases: Vec::new(),
            type_names: HashMap::new(),
            traits: Vec::new(),
            trait_names: HashMap::new(),
            fns: Vec::new(),
            fn_names: HashMap::new(),
            alias_ty: Vec::new(),
            fields: HashMap::new(),
            deref: HashMap::new(),
            assoc: HashMap::new(),
            methods: HashMap::new(),
            trait_methods: HashMap::new(),
            blanket: HashMap::new(),
            foreign: HashMap::new(),
            dispatch: HashMap::new(),
            bodies: HashMap::new(),
            callee_names: Vec::new(),
            callee_order: Vec::new(),
            quiet: Default::default(),
            static_ty: HashMap::new(),
            macros: HashMap::new(),
            consts: Vec::new(),
            const_names: HashMap::new(),
            holds: HashMap::new(),
            holds_direct: HashMap::new(),
            release: Vec::new(),
            hot: None,
        }
    }

    /// Adds the facts of file `id` (to be resolved by `finish`).
    pub fn add(&mut self, id: FileId, f: FileFacts) {
        if id >= self.files.len() {
            self.files.resize(id + 1, None);
            self.scopes.resize(id + 1, Arc::default());
        }
        self.scopes[id] = f.scope.clone();
        self.files[id] = Some(f);
    }

    /// The Rust edition of the package `file` belongs to.
    pub fn edition(&self, file: FileId) -> u16 {
        let pkg = self.layout.place(file).map_or(0, |p| p.package);
        self.layout.package(pkg).edition
    }

    // ---- what a type holds --------------------------------------------------------------

    /// The connection-relevant value a type carries, looking through results, futures,
    /// collections, tuples and crate-local wrappers.
    pub fn held_in(&self, ty: &Ty) -> Option<Held> {
        match ty {
            Ty::Db(id) => Some(self.held_db(*id)),
            Ty::Local(t) => self.holds.get(t).cloned(),
            Ty::Fallible(t) | Ty::Future(t) | Ty::Collection(t) | Ty::Iter(t) | Ty::Cell(t) => {
                self.held_in(t)
            }
            Ty::Tuple(ts) => ts
                .iter()
                .filter_map(|t| self.held_in(t))
                .max_by_key(|h| rank(h.kind)),
            Ty::Param(_) | Ty::Unknown => None,
        }
    }

    /// What a value of this type *is*, not what it contains: results and futures are looked
    /// through, collections are not.
    pub fn kind_of(&self, ty: &Ty) -> Option<Held> {
        match ty.settled() {
            t @ (Ty::Db(_) | Ty::Local(_)) => self.held_in(t),
            _ => None,
        }
    }

    /// The connection a value holds for the flow model: the value itself, or a crate-local
    /// wrapper with the connection in a field of its own.
    pub fn value_held(&self, ty: &Ty) -> Option<Held> {
        match ty.settled() {
            Ty::Db(id) => Some(self.held_db(*id)),
            Ty::Local(t) => self.holds_direct.get(t).cloned(),
            _ => None,
        }
    }

    fn held_db(&self, id: TypeId) -> Held {
        Held {
            kind: self.knowledge.ty(id).kind,
            ty: id,
            wrapper: None,
        }
    }

    // ---- fields and methods -------------------------------------------------------------

    /// The type of field `field` of a local type, looking through its `Deref` target.
    pub fn field(&self, owner: LocalTy, field: &str) -> Option<&Ty> {
        let mut owner = owner;
        for _ in 0..4 {
            if let Some(t) = self.fields.get(&owner).and_then(|f| f.get(field)) {
                return Some(t);
            }
            match self.deref.get(&owner).map(Ty::settled) {
                Some(Ty::Local(next)) => owner = *next,
                _ => return None,
            }
        }
        None
    }

    /// The crate-local method `name` a value of type `ty` has where `at` calls it: its own
    /// or its trait's (through its `Deref` target), a bound trait's, a blanket or an
    /// extension impl's whose trait is in scope.
    pub fn method_on(&self, at: &Where, ty: &Ty, name: &str) -> Option<&MethodFacts> {
        match ty.settled() {
            Ty::Local(t) => {
                let mut owner = *t;
                for _ in 0..4 {
                    if let Some(m) = self.methods.get(&owner).and_then(|m| m.get(name)) {
                        return Some(m);
                    }
                    match self.deref.get(&owner).map(Ty::settled) {
                        Some(Ty::Local(next)) => owner = *next,
                        _ => break,
                    }
                }
            }
            Ty::Param(tr) => {
                if let Some(m) = self.trait_methods.get(tr).and_then(|m| m.get(name)) {
                    return Some(m);
                }
            }
            _ => {}
        }
        if let Ty::Fallible(_) = ty {
            let foreign = self.foreign.get(name)?;
            return foreign
                .iter()
                .find(|(on, _)| matches!(on.as_str(), "Result" | "Option"))
                .map(|(_, m)| m);
        }
        let blanket = self.blanket.get(name)?;
        blanket
            .iter()
            .find(|(tr, _)| self.trait_in_scope(at, *tr))
            .map(|(_, m)| m)
    }

    /// The key of the crate-local method `name` of `owner`, if there is one.
    pub fn method_key(&self, owner: LocalTy, name: &str) -> Option<CalleeKey> {
        self.method_on(&Where::default(), &Ty::Local(owner), name)
            .map(|m| m.key)
    }

    /// The method a request guard or extractor of this type runs before a handler's body
    /// (`FromRequest::from_request`, `FromRequestParts::from_request_parts`).
    pub fn extractor(&self, ty: &Ty) -> Option<CalleeKey> {
        let Ty::Local(t) = ty.settled() else {
            return None;
        };
        let methods = self.methods.get(t)?;
        ["from_request", "from_request_parts"]
            .iter()
            .find_map(|n| methods.get(*n))
            .map(|m| m.key)
    }

    /// The impls a trait method's key stands for.
    pub fn dispatch(&self) -> impl Iterator<Item = (CalleeKey, &[CalleeKey])> {
        self.dispatch.iter().map(|(k, v)| (*k, v.as_slice()))
    }

    /// A local type's name.
    pub fn type_name(&self, t: LocalTy) -> &str {
        self.types
            .get(t.0 as usize)
            .map_or("?", |t| t.name.as_str())
    }

    /// The key and scope of the body of `file`'s function `fn_index` (its index in the file
    /// model's `fns`); nested functions get the scope of their module.
    pub fn body(&self, file: FileId, m: &FileModel, fn_index: u32) -> BodyInfo {
        if let Some(b) = self.bodies.get(&(file, fn_index)) {
            return b.clone();
        }
        let module = m.fns.get(fn_index as usize).map_or(0, |f| f.module);
        BodyInfo {
            key: None,
            at: Where {
                file,
                module,
                ..Where::default()
            },
        }
    }

    // ---- functions ----------------------------------------------------------------------

    /// Where a key sorts among the others, by name.
    pub fn callee_order(&self, key: CalleeKey) -> &(u8, String, String, FileId) {
        &self.callee_order[key.0 as usize]
    }

    /// A key's name: `helper`, `Type::method`.
    pub fn callee_name(&self, key: CalleeKey) -> &str {
        self.callee_names
            .get(key.0 as usize)
            .map_or("?", String::as_str)
    }

    /// A bare call `name(..)` at `at`: the function of that name in scope there (defined in
    /// the same module or file, imported, or glob-imported), with its return type.
    pub fn bare_fn(&self, at: &Where, name: &str) -> Option<(CalleeKey, &Ty)> {
        let f = self.lookup_fn(at, &[name.to_string()])?;
        let f = &self.fns[f as usize];
        Some((f.key, &f.ret))
    }

    /// A call by path `module::name(..)` at `at`, with its return type.
    pub fn path_fn(&self, at: &Where, path: &[String]) -> Option<(CalleeKey, &Ty)> {
        let f = self.lookup_fn(at, path)?;
        let f = &self.fns[f as usize];
        Some((f.key, &f.ret))
    }

    /// Is `key` an `async fn` that cannot suspend (awaiting it waits on nothing)?
    pub fn never_suspends(&self, key: CalleeKey) -> bool {
        self.quiet.contains(&key)
    }

    /// Does every crate-local function `name` spawn what it is given as a task?
    pub fn fn_runs_tasks(&self, name: &str) -> bool {
        self.fn_names
            .get(name)
            .is_some_and(|d| d.iter().all(|f| self.fns[*f as usize].runs_tasks))
    }

    /// Does every crate-local function `name` run what it is given on a blocking thread?
    pub fn fn_runs_blocking(&self, name: &str) -> bool {
        self.fn_names
            .get(name)
            .is_some_and(|d| d.iter().all(|f| self.fns[*f as usize].runs_blocking))
    }

    pub fn has_fn(&self, name: &str) -> bool {
        self.fn_names.contains_key(name)
    }

    // ---- hot words ----------------------------------------------------------------------

    /// Sets the words that make a function worth a full flow analysis: every profile type and
    /// crate name, and the crate-local names that lead to connections.
    pub fn set_hot_words(&mut self, words: Vec<String>) {
        self.hot = Some(words.into_iter().filter(|w| !w.is_empty()).collect());
    }

    /// The rules of the `macro_rules!` a body in `file` calls as `name!`: the file's own
    /// definition, or the only one (by text) in its package.
    pub fn macro_rules(&self, file: FileId, name: &str) -> Option<&Arc<str>> {
        let defs = self.macros.get(name)?;
        if let Some((_, rules)) = defs.iter().find(|(f, _)| *f == file) {
            return Some(rules);
        }
        let package = |f: FileId| self.layout.place(f).map(|p| p.package);
        let mut same = defs.iter().filter(|(f, _)| package(*f) == package(file));
        let (_, first) = same.next()?;
        same.all(|(_, r)| r == first).then_some(first)
    }

    /// Names of `macro_rules!` whose rules mention one of `words`: calling one is as hot as
    /// what it expands to.
    pub fn macros_mentioning(&self, words: &aho_corasick::AhoCorasick) -> Vec<String> {
        self.macros
            .iter()
            .filter(|(_, defs)| defs.iter().any(|(_, r)| mentions_word(words, r)))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Is this name connection-related (always yes without hot words)?
    pub fn is_hot(&self, name: &str) -> bool {
        self.hot.as_ref().is_none_or(|h| h.contains(name))
    }

    /// The words that make a function worth a full flow analysis: every profile type and crate
    /// name, the crate-local names that lead to connections, and statics that hold them.
    pub fn hot_words(&self) -> Vec<String> {
        // Constructors are called through their type (`AppState::new`), whose name is here
        // already; as bare words they would make every function hot.
        const CONSTRUCTORS: &[&str] = &[
            "new",
            "from",
            "default",
            "create",
            "init",
            "setup",
            "build",
            "builder",
            "clone",
            "into",
            "try_from",
            "try_new",
            "with_config",
            "open",
            "connect",
        ];
        let mut words = self.knowledge.all_names();
        words.extend(
            self.local_vocabulary()
                .into_iter()
                .filter(|w| !CONSTRUCTORS.contains(&w.as_str())),
        );
        words.extend(self.db_statics());
        words
    }

    /// Statics whose type holds a pool or connection (`POOL`, `CONN`).
    pub fn db_statics(&self) -> Vec<String> {
        self.static_ty
            .iter()
            .filter(|(_, t)| self.held_in(t).is_some())
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Crate-local names that lead to connections: wrappers, aliases, request guards,
    /// functions and methods returning them.
    pub fn local_vocabulary(&self) -> Vec<String> {
        self.local_words(true)
    }

    /// The crate-local names a file must mention to be worth parsing when it names no library
    /// type. Methods of a type that itself holds a connection are left out (`new`, `get`,
    /// `clone`, `from` of a pool wrapper would let nearly every file through): they are
    /// reached only through a value of that type, and the file names the type, or the
    /// function, method, field owner or static it came from, which are words already.
    pub fn prefilter_vocabulary(&self) -> Vec<String> {
        let mut words = self.local_words(false);
        // A file may reach a pool only through a static that holds it (`POOL.get()`).
        words.extend(self.db_statics());
        words
    }

    fn local_words(&self, methods_of_holders: bool) -> Vec<String> {
        let mut v: Vec<String> = self
            .holds
            .keys()
            .map(|t| self.type_name(*t).to_string())
            .collect();
        v.extend(
            self.aliases
                .iter()
                .zip(&self.alias_ty)
                .filter(|(_, t)| self.held_in(t).is_some())
                .map(|(a, _)| a.name.clone()),
        );
        v.extend(
            self.fns
                .iter()
                .filter(|f| self.held_in(&f.ret).is_some())
                .map(|f| f.name.clone()),
        );
        let own = self
            .methods
            .iter()
            .filter(|(t, _)| methods_of_holders || !self.holds.contains_key(*t))
            .map(|(_, m)| m);
        for (name, m) in own.chain(self.trait_methods.values()).flatten() {
            if m.ret.as_ref().is_some_and(|t| self.held_in(t).is_some()) {
                v.push(name.clone());
            }
        }
        for (t, methods) in &self.methods {
            if methods.contains_key("from_request") || methods.contains_key("from_request_parts") {
                v.push(self.type_name(*t).to_string());
            }
        }
        v.sort();
        v.dedup();
        v
    }

    // ---- configuration ------------------------------------------------------------------

    /// Declares the manual acquire/release pairs the flow should follow.
    pub fn set_release_pairs(&mut self, pairs: Vec<crate::profile::ReleasePair>) {
        self.release = pairs;
    }

    pub fn release_pairs(&self) -> &[crate::profile::ReleasePair] {
        &self.release
    }

    pub fn static_type(&self, name: &str) -> Option<&Ty> {
        self.static_ty.get(name)
    }

    /// Could this name denote a type connlint knows: a crate-local type or alias, a profile
    /// type, `Self`, or a name the file imports under another name?
    pub fn could_be_type(&self, file: FileId, name: &str) -> bool {
        name == "Self"
            || self.type_names.contains_key(name)
            || !self.knowledge.types_named(name).is_empty()
            || self.scopes[file]
                .imports
                .get(name)
                .is_some_and(|full| full.last().is_some_and(|l| l != name))
    }

    /// The local type a path written at `at` names (a struct or enum, not an alias).
    pub fn local_type(&self, at: &Where, path: &[String]) -> Option<LocalTy> {
        match self.lookup_type(at, path)? {
            TypeDef::Type(t) => Some(LocalTy(t)),
            TypeDef::Alias(_) => None,
        }
    }

    // ---- resolution ---------------------------------------------------------------------

    /// Resolves a type of a file model written at `at`.
    pub fn resolve(&self, at: &Where, m: &FileModel, ty: TyId) -> Ty {
        self.resolve_expr(at, &TypeExpr::from_model(m, ty))
    }

    pub fn resolve_expr(&self, at: &Where, ty: &TypeExpr) -> Ty {
        resolve::Resolver::new(self).resolve(at, ty)
    }

    /// Resolves a path used as a type or as the prefix of an associated function call.
    pub fn resolve_path(&self, at: &Where, segments: &[String]) -> Ty {
        resolve::Resolver::new(self).path(at, segments, &[])
    }

    /// The library type a bare or qualified name denotes in `file`, if any.
    pub fn library_type(&self, file: FileId, segments: &[String]) -> Option<TypeId> {
        resolve::library_type(self, file, segments)
    }
}

pub(crate) fn rank(kind: Kind) -> u8 {
    match kind {
        Kind::Transaction | Kind::Connection => 6,
        Kind::Raw => 5,
        Kind::Driver => 4,
        Kind::Pool => 3,
        Kind::Client => 2,
        Kind::Builder => 1,
    }
}
