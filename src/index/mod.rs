//! Crate-wide facts gathered from every parsed file before any rule runs: imports per file,
//! type aliases, struct fields, function and method return types, statics. With these, a
//! receiver such as `state.db` or `self.conn().await?` resolves to a pool or a connection even
//! when no library name appears in the function that uses it.

use crate::model::{self, FileModel, FileScope, TyId};
use crate::profile::{Kind, Knowledge, TypeId};
use crate::types::{Held, Ty};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

pub type FileId = usize;

/// A crate-local function or method as other code calls it: a free function by name (and by
/// file when several files define the name), a method or associated function by its type and
/// name. The index numbers them; [`CrateIndex::callee_name`] gives the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CalleeKey(u32);

/// The keys of a free function's name: one, or one per file that defines it.
#[derive(Debug, Clone)]
enum FnKeys {
    One(CalleeKey),
    PerFile(Vec<(FileId, CalleeKey)>),
}

/// A type as written, without spans: syn's trees cannot leave the thread that parsed them, and
/// the index is shared by every thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExpr {
    /// `a::b::C<T, U>`: segments and the last segment's type arguments.
    Path(Vec<String>, Vec<TypeExpr>),
    /// `&T`, `*const T`, `(T)`.
    Ref(Box<TypeExpr>),
    Tuple(Vec<TypeExpr>),
    /// `[T; N]`, `[T]`.
    Array(Box<TypeExpr>),
    /// `impl Trait<Assoc = T>` / `dyn Trait<Assoc = T>`: the associated type binding.
    Bound(String, Box<TypeExpr>),
    Other,
}

impl TypeExpr {
    /// The owned form of a type of a file model.
    pub fn from_model(m: &FileModel, t: TyId) -> TypeExpr {
        match m.ty(t) {
            model::TypeExpr::Path { segs, args, .. } => TypeExpr::Path(
                m.path_strings(segs),
                m.tys(args).map(|a| TypeExpr::from_model(m, a)).collect(),
            ),
            model::TypeExpr::Ref(inner) => TypeExpr::Ref(Box::new(TypeExpr::from_model(m, inner))),
            model::TypeExpr::Array(inner) => {
                TypeExpr::Array(Box::new(TypeExpr::from_model(m, inner)))
            }
            model::TypeExpr::Tuple(ts) => {
                TypeExpr::Tuple(m.tys(ts).map(|t| TypeExpr::from_model(m, t)).collect())
            }
            model::TypeExpr::Bound { assoc, .. } => match m.assoc(assoc).next() {
                Some((name, t)) => TypeExpr::Bound(
                    m.name(name).to_string(),
                    Box::new(TypeExpr::from_model(m, t)),
                ),
                None => TypeExpr::Other,
            },
            model::TypeExpr::Other => TypeExpr::Other,
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

/// Everything the index needs from one file, extracted on the thread that parsed it.
#[derive(Debug, Default, Clone)]
pub struct FileFacts {
    pub scope: Arc<FileScope>,
    aliases: Vec<(String, TypeExpr)>,
    structs: Vec<(String, RawStruct)>,
    fns: Vec<(String, RawFn)>,
    methods: Vec<((String, String), RawFn)>,
    statics: Vec<(String, TypeExpr)>,
}

impl FileFacts {
    /// What the index needs from a lowered file.
    pub fn of(file: FileId, m: &FileModel) -> FileFacts {
        let mut facts = FileFacts {
            scope: m.scope.clone(),
            ..FileFacts::default()
        };
        // The innermost inline module, else the file's module.
        let module = |md: model::Module| {
            m.modules[md as usize]
                .last()
                .map_or(m.module.clone(), |s| m.name(*s).to_string())
        };
        let ty = |t: TyId| TypeExpr::from_model(m, t);
        for item in &m.items {
            match item {
                model::Item::Alias(a) => facts.aliases.push((m.name(a.name).into(), ty(a.ty))),
                model::Item::Struct(st) => {
                    let fields = st
                        .fields
                        .iter()
                        .map(|f| (m.name(f.name).to_string(), ty(f.ty)))
                        .collect();
                    facts.structs.push((
                        m.name(st.name).into(),
                        RawStruct {
                            file,
                            fields,
                            db_guard: st.attrs.database,
                            variants: 0,
                        },
                    ));
                }
                model::Item::Enum(e) => {
                    // Enum fields are named `variant#field`: a value holds a connection only
                    // if every variant does.
                    let fields = e
                        .variants
                        .iter()
                        .enumerate()
                        .flat_map(|(vi, v)| {
                            v.iter()
                                .enumerate()
                                .map(move |(fi, t)| (format!("{vi}#{fi}"), ty(*t)))
                        })
                        .collect();
                    let raw = RawStruct {
                        file,
                        fields,
                        db_guard: false,
                        variants: e.variants.len(),
                    };
                    facts.structs.push((m.name(e.name).into(), raw));
                }
                model::Item::Static { name, ty: t } => {
                    facts.statics.push((m.name(*name).into(), ty(*t)))
                }
                _ => {}
            }
        }
        for f in m.fns.iter().filter(|f| f.indexed) {
            let raw = RawFn {
                file,
                module: module(f.module),
                runs_tasks: f.runs_tasks,
                runs_blocking: f.runs_blocking,
                ret: f.sig.ret.map(ty),
                is_async: f.sig.is_async,
                self_ty: f.owner.map(|o| m.name(o).to_string()),
                self_by_value: f
                    .sig
                    .params
                    .first()
                    .is_some_and(|p| p.kind == model::ParamKind::SelfValue),
            };
            let name = m.name(f.sig.name).to_string();
            match &raw.self_ty {
                Some(s) => facts.methods.push(((s.clone(), name), raw)),
                None => facts.fns.push((name, raw)),
            }
        }
        facts
    }
}

/// What the flow asks about a crate-local method.
#[derive(Debug, Clone)]
struct MethodFacts {
    ret: Option<Ty>,
    takes_self: bool,
    key: CalleeKey,
}

/// A function or method signature, kept until return types are resolved.
#[derive(Debug, Clone)]
struct RawFn {
    file: FileId,
    /// The innermost module it is defined in (file module or inline `mod`).
    module: String,
    /// Spawns tasks (`tokio::spawn`): what it is given runs in the background.
    runs_tasks: bool,
    /// Runs work on a blocking thread (`spawn_blocking`): closures given to it may block.
    runs_blocking: bool,
    ret: Option<TypeExpr>,
    is_async: bool,
    self_ty: Option<String>,
    /// Takes `self` by value.
    self_by_value: bool,
}

#[derive(Debug, Clone)]
struct RawStruct {
    file: FileId,
    fields: Vec<(String, TypeExpr)>,
    /// `#[database("..")]` (rocket_sync_db_pools): a request guard holding a pooled connection.
    db_guard: bool,
    /// For enums, the number of variants (0 for structs).
    variants: usize,
}

/// Crate-wide facts. Built once per run, shared read-only by every file's analysis.
pub struct CrateIndex {
    pub knowledge: &'static Knowledge,
    pub scopes: Vec<Arc<FileScope>>,
    aliases: HashMap<String, Vec<(FileId, TypeExpr)>>,
    structs: HashMap<String, Vec<RawStruct>>,
    fns: HashMap<String, Vec<RawFn>>,
    methods: HashMap<(String, String), Vec<RawFn>>,
    statics: HashMap<String, Vec<(FileId, TypeExpr)>>,
    // Resolved forms, filled lazily; the index is shared across threads, so resolution
    // results are computed up front by `finish`.
    alias_ty: HashMap<String, Ty>,
    field_ty: HashMap<(String, String), Ty>,
    /// `field_ty` by struct, then field: look-ups without allocating.
    fields_by_owner: HashMap<String, HashMap<String, Ty>>,
    fn_ret: HashMap<String, Ty>,
    method_ret: HashMap<(String, String), Ty>,
    /// Crate-local methods by type, then name: look-ups without allocating.
    methods_by_owner: HashMap<String, HashMap<String, MethodFacts>>,
    /// The keys of crate-local free functions, by name.
    fn_keys: HashMap<String, FnKeys>,
    /// Every key's name (`helper`, `Type::method`), by key.
    callee_names: Vec<String>,
    /// Every key's place in the order of names: free functions first (then by file), then
    /// methods by type and name.
    callee_order: Vec<(u8, String, String, FileId)>,
    static_ty: HashMap<String, Ty>,
    holds: HashMap<String, Held>,
    /// Manual acquire/release pairs declared in configuration (`[[release]]`).
    release: Vec<crate::profile::ReleasePair>,
    /// Words that make a function worth a full flow analysis.
    hot: Option<HashSet<String>>,
    /// What each local struct holds in a field of its own (not inside a collection or an
    /// `Option`): a value of that struct *is* a connection for the hold rules.
    holds_direct: HashMap<String, Held>,
}

/// Names whose value is reached through `Deref` or a lock: `Arc<PgPool>` is a pool.
pub const TRANSPARENT: &[&str] = &[
    "Arc",
    "Rc",
    "Box",
    "Mutex",
    "RwLock",
    "RefCell",
    "Cell",
    "UnsafeCell",
    "MutexGuard",
    "RwLockReadGuard",
    "RwLockWriteGuard",
    "OwnedMutexGuard",
    "MappedMutexGuard",
    "Data",
    "State",
    "Extension",
    "ManuallyDrop",
    "Lazy",
    "LazyLock",
    "LazyCell",
    "Pin",
    "Cow",
    "Weak",
    "ArcSwap",
    "Ref",
    "RefMut",
    "AssertUnwindSafe",
    "Wrapping",
    "ReentrantMutex",
    "FairMutex",
];
const CELLS: &[&str] = &["OnceLock", "OnceCell", "SetOnce"];
const FALLIBLE: &[&str] = &["Result", "Option", "Poll", "Outcome"];
const SEQUENCES: &[&str] = &[
    "Vec",
    "VecDeque",
    "LinkedList",
    "HashSet",
    "BTreeSet",
    "BinaryHeap",
    "SmallVec",
    "IndexSet",
    "ArrayVec",
    "Slab",
    "Bag",
];
const MAPS: &[&str] = &[
    "HashMap",
    "BTreeMap",
    "IndexMap",
    "DashMap",
    "LruCache",
    "FxHashMap",
    "AHashMap",
];
const FUTURES: &[&str] = &["BoxFuture", "LocalBoxFuture", "JoinHandle"];

impl CrateIndex {
    /// Merges the facts of every file (indexed by file id), then resolves them against the
    /// profiles.
    pub fn build(knowledge: &'static Knowledge, files: Vec<FileFacts>) -> CrateIndex {
        let mut idx = CrateIndex::new(knowledge, files.len());
        for (id, f) in files.into_iter().enumerate() {
            idx.add(id, f);
        }
        idx.finish();
        idx
    }

    /// An empty index for `files` files (ids `0..files`); `add` them, then `finish`.
    pub fn new(knowledge: &'static Knowledge, files: usize) -> CrateIndex {
        CrateIndex {
            knowledge,
            scopes: vec![Arc::default(); files],
            aliases: HashMap::new(),
            structs: HashMap::new(),
            fns: HashMap::new(),
            methods: HashMap::new(),
            statics: HashMap::new(),
            alias_ty: HashMap::new(),
            field_ty: HashMap::new(),
            fields_by_owner: HashMap::new(),
            fn_ret: HashMap::new(),
            method_ret: HashMap::new(),
            methods_by_owner: HashMap::new(),
            fn_keys: HashMap::new(),
            callee_names: Vec::new(),
            callee_order: Vec::new(),
            static_ty: HashMap::new(),
            holds: HashMap::new(),
            holds_direct: HashMap::new(),
            release: Vec::new(),
            hot: None,
        }
    }

    /// Adds the facts of file `id` (to be resolved by `finish`).
    pub fn add(&mut self, id: FileId, f: FileFacts) {
        if id >= self.scopes.len() {
            self.scopes.resize(id + 1, Arc::default());
        }
        self.scopes[id] = f.scope;
        for (n, t) in f.aliases {
            self.aliases.entry(n).or_default().push((id, t));
        }
        for (n, s) in f.structs {
            self.structs.entry(n).or_default().push(s);
        }
        for (n, r) in f.fns {
            self.fns.entry(n).or_default().push(r);
        }
        for (k, r) in f.methods {
            self.methods.entry(k).or_default().push(r);
        }
        for (n, t) in f.statics {
            self.statics.entry(n).or_default().push((id, t));
        }
    }

    /// Resolves every alias, field, return type and static once, so look-ups during the
    /// (parallel) analysis are plain map reads.
    pub fn finish(&mut self) {
        // Definitions in file order, whatever the order files were added in: where a name is
        // defined twice, the first file's definition wins (the last file's, for statics).
        for defs in self.aliases.values_mut() {
            defs.sort_by_key(|d| d.0);
        }
        for defs in self.structs.values_mut() {
            defs.sort_by_key(|d| d.file);
        }
        for defs in self.fns.values_mut() {
            defs.sort_by_key(|d| d.file);
        }
        for defs in self.methods.values_mut() {
            defs.sort_by_key(|d| d.file);
        }
        for defs in self.statics.values_mut() {
            defs.sort_by_key(|d| d.0);
        }
        self.alias_ty.clear();
        self.methods_by_owner.clear();
        self.fields_by_owner.clear();
        let r = Resolver {
            idx: self,
            in_progress: RefCell::new(HashSet::new()),
            alias_memo: RefCell::new(HashMap::new()),
        };
        let mut alias_ty = HashMap::new();
        for name in self.aliases.keys() {
            alias_ty.insert(name.clone(), r.alias(name));
        }
        let mut field_ty = HashMap::new();
        for (name, defs) in &self.structs {
            for d in defs {
                for (f, t) in &d.fields {
                    let ty = r.resolve(d.file, t, Some(name));
                    if !ty.is_unknown() {
                        field_ty.entry((name.clone(), f.clone())).or_insert(ty);
                    }
                }
            }
        }
        let ret = |f: &RawFn| -> Ty {
            let t = f
                .ret
                .as_ref()
                .map_or(Ty::Unknown, |t| r.resolve(f.file, t, f.self_ty.as_deref()));
            if f.is_async {
                Ty::future(t)
            } else {
                t
            }
        };
        let mut fn_ret = HashMap::new();
        for (name, defs) in &self.fns {
            if let Some(t) = defs.iter().map(ret).find(|t| !t.is_unknown()) {
                fn_ret.insert(name.clone(), t);
            }
        }
        let mut method_ret = HashMap::new();
        for (key, defs) in &self.methods {
            if let Some(t) = defs.iter().map(ret).find(|t| !t.is_unknown()) {
                method_ret.insert(key.clone(), t);
            }
        }
        let mut static_ty = HashMap::new();
        for (name, defs) in &self.statics {
            if let Some((file, t)) = defs.last() {
                static_ty.insert(name.clone(), r.resolve(*file, t, None));
            }
        }
        drop(r);
        self.alias_ty = alias_ty;
        for ((owner, f), ty) in &field_ty {
            self.fields_by_owner
                .entry(owner.clone())
                .or_default()
                .insert(f.clone(), ty.clone());
        }
        self.field_ty = field_ty;
        self.fn_ret = fn_ret;
        let mut names = Vec::new();
        let mut order = Vec::new();
        let mut key = |name: String, sort: (u8, String, String, FileId)| {
            names.push(name);
            order.push(sort);
            CalleeKey(names.len() as u32 - 1)
        };
        let mut fn_keys = HashMap::new();
        for (name, defs) in &self.fns {
            let first = defs.first().map_or(0, |d| d.file);
            let keys = if defs.iter().all(|d| d.file == first) {
                FnKeys::One(key(name.clone(), (0, name.clone(), String::new(), 0)))
            } else {
                let mut files: Vec<FileId> = defs.iter().map(|d| d.file).collect();
                files.sort_unstable();
                files.dedup();
                FnKeys::PerFile(
                    files
                        .into_iter()
                        .map(|f| (f, key(name.clone(), (1, name.clone(), String::new(), f))))
                        .collect(),
                )
            };
            fn_keys.insert(name.clone(), keys);
        }
        for ((owner, m), defs) in &self.methods {
            let facts = MethodFacts {
                ret: method_ret.get(&(owner.clone(), m.clone())).cloned(),
                takes_self: defs.iter().any(|d| d.self_by_value),
                key: key(format!("{owner}::{m}"), (2, owner.clone(), m.clone(), 0)),
            };
            self.methods_by_owner
                .entry(owner.clone())
                .or_default()
                .insert(m.clone(), facts);
        }
        self.method_ret = method_ret;
        self.fn_keys = fn_keys;
        self.callee_names = names;
        self.callee_order = order;
        self.static_ty = static_ty;
        // What each local struct holds, to a fixed point (structs nest).
        self.holds = self.struct_holdings(false);
        self.holds_direct = self.struct_holdings(true);
    }

    /// What `ty` holds, given what is known so far of local structs; `direct` stops at
    /// collections, options and cells.
    fn held_with(&self, ty: &Ty, found: &HashMap<String, Held>, direct: bool) -> Option<Held> {
        match ty {
            Ty::Db(id) => Some(Held {
                kind: self.knowledge.ty(*id).kind,
                ty: *id,
                wrapper: None,
            }),
            Ty::Local(name) => found.get(name).cloned(),
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

    fn struct_holdings(&self, direct: bool) -> HashMap<String, Held> {
        // Only structs with a field of a known type can hold anything.
        let mut fields_of: HashMap<&str, Vec<(&str, &Ty)>> = HashMap::new();
        for ((s, f), ty) in &self.field_ty {
            fields_of
                .entry(s.as_str())
                .or_default()
                .push((f.as_str(), ty));
        }
        let names: Vec<String> = fields_of.keys().map(|s| s.to_string()).collect();
        let mut found: HashMap<String, Held> = HashMap::new();
        loop {
            let mut changed = false;
            for name in &names {
                if found.contains_key(name) {
                    continue;
                }
                let guard = self.structs[name].iter().any(|d| d.db_guard);
                let variants = self.structs[name]
                    .iter()
                    .map(|d| d.variants)
                    .max()
                    .unwrap_or(0);
                let mut best: Option<Held> = None;
                let mut holding_variants = BTreeSet::new();
                for (f, ty) in &fields_of[name.as_str()] {
                    if let Some(h) = self.held_with(ty, &found, direct) {
                        if let Some((v, _)) = f.split_once('#') {
                            if h.kind.holds_connection() {
                                holding_variants.insert(v.to_string());
                            }
                        }
                        if best.as_ref().is_none_or(|b| rank(h.kind) > rank(b.kind)) {
                            best = Some(h);
                        }
                    }
                }
                // A value of an enum is a connection only if whichever variant it is holds one.
                if direct && variants > 0 && holding_variants.len() < variants {
                    best = None;
                }
                if let Some(mut h) = best {
                    if guard && h.kind == Kind::Raw {
                        h.kind = Kind::Connection;
                    }
                    h.wrapper.get_or_insert_with(|| name.as_str().into());
                    found.insert(name.clone(), h);
                    changed = true;
                }
            }
            if !changed {
                return found;
            }
        }
    }

    /// The connection-relevant value a type carries, looking through results, futures,
    /// collections, tuples and crate-local wrappers.
    pub fn held_in(&self, ty: &Ty) -> Option<Held> {
        match ty {
            Ty::Db(id) => Some(Held {
                kind: self.knowledge.ty(*id).kind,
                ty: *id,
                wrapper: None,
            }),
            Ty::Local(name) => self.holds.get(name).cloned(),
            Ty::Fallible(t) | Ty::Future(t) | Ty::Collection(t) | Ty::Iter(t) | Ty::Cell(t) => {
                self.held_in(t)
            }
            Ty::Tuple(ts) => ts
                .iter()
                .filter_map(|t| self.held_in(t))
                .max_by_key(|h| rank(h.kind)),
            Ty::Unknown => None,
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
    /// wrapper with the connection in a field of its own (not in a collection or `Option`).
    pub fn value_held(&self, ty: &Ty) -> Option<Held> {
        match ty.settled() {
            Ty::Db(id) => Some(Held {
                kind: self.knowledge.ty(*id).kind,
                ty: *id,
                wrapper: None,
            }),
            Ty::Local(name) => self.holds_direct.get(name).cloned(),
            _ => None,
        }
    }

    pub fn field(&self, owner: &str, field: &str) -> Option<&Ty> {
        self.fields_by_owner.get(owner)?.get(field)
    }
    pub fn fn_return(&self, name: &str) -> Option<&Ty> {
        self.fn_ret.get(name)
    }
    pub fn method_return(&self, owner: &str, name: &str) -> Option<&Ty> {
        self.methods_by_owner.get(owner)?.get(name)?.ret.as_ref()
    }
    /// How calls to the free function `name` from `file` are keyed: by name when only one
    /// file defines it, by name and file when several do and `file` is one of them, and not
    /// at all (unknown callee) otherwise.
    pub fn fn_key(&self, name: &str, file: FileId) -> Option<CalleeKey> {
        match self.fn_keys.get(name)? {
            FnKeys::One(k) => Some(*k),
            FnKeys::PerFile(keys) => keys.iter().find(|(f, _)| *f == file).map(|(_, k)| *k),
        }
    }

    /// The key of the crate-local method `name` of `owner`, if there is one.
    pub fn method_key(&self, owner: &str, name: &str) -> Option<CalleeKey> {
        Some(self.methods_by_owner.get(owner)?.get(name)?.key)
    }

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

    /// The key of a bare call `name(..)` in `file`: a function defined in the same file, or in
    /// a module the file glob-imports. Anything else is not in scope under that name.
    pub fn bare_fn_key(&self, name: &str, file: FileId) -> Option<CalleeKey> {
        let defs = self.fns.get(name)?;
        if defs.iter().any(|d| d.file == file) {
            return self.fn_key(name, file);
        }
        self.scopes[file]
            .globs
            .iter()
            .filter_map(|g| g.last())
            .find_map(|m| self.fn_key_in(m, name))
    }

    /// The key of `module::name(..)`: the function of that name defined in that module.
    pub fn fn_key_in(&self, module: &str, name: &str) -> Option<CalleeKey> {
        let defs = self.fns.get(name)?;
        let mut files = defs
            .iter()
            .filter(|d| d.module == module || module.ends_with(&format!("_{}", d.module)))
            .map(|d| d.file);
        let file = files.next()?;
        if files.any(|f| f != file) {
            return None;
        }
        self.fn_key(name, file)
    }

    /// Does the crate-local function `name` spawn what it is given as a task?
    pub fn fn_runs_tasks(&self, name: &str) -> bool {
        self.fns
            .get(name)
            .is_some_and(|d| d.iter().all(|f| f.runs_tasks))
    }

    /// Does the crate-local function `name` run what it is given on a blocking thread?
    pub fn fn_runs_blocking(&self, name: &str) -> bool {
        self.fns
            .get(name)
            .is_some_and(|d| d.iter().all(|f| f.runs_blocking))
    }

    pub fn has_fn(&self, name: &str) -> bool {
        self.fns.contains_key(name)
    }
    /// Sets the words that make a function worth a full flow analysis: every profile type and
    /// crate name, and the crate-local names that lead to connections.
    pub fn set_hot_words(&mut self, words: Vec<String>) {
        self.hot = Some(words.into_iter().filter(|w| !w.is_empty()).collect());
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

    /// Declares the manual acquire/release pairs the flow should follow.
    pub fn set_release_pairs(&mut self, pairs: Vec<crate::profile::ReleasePair>) {
        self.release = pairs;
    }

    pub fn release_pairs(&self) -> &[crate::profile::ReleasePair] {
        &self.release
    }

    /// Does this crate-local method take `self` by value (so calling it moves the receiver)?
    pub fn method_takes_self(&self, owner: &str, name: &str) -> bool {
        self.methods_by_owner
            .get(owner)
            .and_then(|m| m.get(name))
            .is_some_and(|f| f.takes_self)
    }

    pub fn has_method(&self, owner: &str, name: &str) -> bool {
        self.methods_by_owner
            .get(owner)
            .is_some_and(|m| m.contains_key(name))
    }
    pub fn static_type(&self, name: &str) -> Option<&Ty> {
        self.static_ty.get(name)
    }
    /// Could this name denote a type connlint knows: a crate-local struct or alias, a profile
    /// type, `Self`, or a name the file imports under another name?
    pub fn could_be_type(&self, file: FileId, name: &str) -> bool {
        name == "Self"
            || self.structs.contains_key(name)
            || self.aliases.contains_key(name)
            || !self.knowledge.types_named(name).is_empty()
            || self.scopes[file]
                .imports
                .get(name)
                .is_some_and(|full| full.last().is_some_and(|l| l != name))
    }

    pub fn is_local_type(&self, name: &str) -> bool {
        self.structs.contains_key(name)
    }

    /// Crate-local names that lead to connections: wrappers, aliases, functions and methods
    /// returning them. A file mentioning one of these is worth parsing even if it names no
    /// library type.
    pub fn local_vocabulary(&self) -> Vec<String> {
        let mut v: Vec<String> = self.holds.keys().cloned().collect();
        v.extend(
            self.alias_ty
                .iter()
                .filter(|(_, t)| self.held_in(t).is_some())
                .map(|(n, _)| n.clone()),
        );
        v.extend(
            self.fn_ret
                .iter()
                .filter(|(_, t)| self.held_in(t).is_some())
                .map(|(n, _)| n.clone()),
        );
        v.extend(
            self.method_ret
                .iter()
                .filter(|(_, t)| self.held_in(t).is_some())
                .map(|((_, n), _)| n.clone()),
        );
        v.sort();
        v.dedup();
        v
    }

    /// Resolves a type written in `file` (inside `impl self_ty`, if any).
    pub fn resolve(&self, file: FileId, m: &FileModel, ty: TyId, self_ty: Option<&str>) -> Ty {
        self.resolve_expr(file, &TypeExpr::from_model(m, ty), self_ty)
    }

    pub fn resolve_expr(&self, file: FileId, ty: &TypeExpr, self_ty: Option<&str>) -> Ty {
        Resolver {
            idx: self,
            in_progress: RefCell::new(HashSet::new()),
            alias_memo: RefCell::new(HashMap::new()),
        }
        .resolve(file, ty, self_ty)
    }

    /// Resolves a path used as a type or as the prefix of an associated function call.
    pub fn resolve_path(&self, file: FileId, segments: &[String], self_ty: Option<&str>) -> Ty {
        Resolver {
            idx: self,
            in_progress: RefCell::new(HashSet::new()),
            alias_memo: RefCell::new(HashMap::new()),
        }
        .path(file, segments, &[], self_ty)
    }

    /// The library type a bare or qualified name denotes in `file`, if any.
    pub fn library_type(&self, file: FileId, segments: &[String]) -> Option<TypeId> {
        let scope = &self.scopes[file];
        let full = scope.expand(segments);
        let name = full.last()?;
        let k = self.knowledge;
        if full.len() > 1 {
            // A full path a profile lists (re-exports included).
            let joined = full.join("::");
            if let Some(t) = k.type_by_path(&joined) {
                return Some(t);
            }
            // Re-root at the last crate named in the path: `rocket_db_pools::sqlx::PgPool`
            // is sqlx's.
            let root = full[..full.len() - 1].iter().rev().find(|s| k.is_root(s));
            if let Some(root) = root {
                return k.type_in(k.profiles_for_root(root), name);
            }
            if !matches!(full[0].as_str(), "crate" | "self" | "super" | "Self") {
                return None;
            }
        }
        let candidates = k.types_named(name);
        if candidates.is_empty() {
            return None;
        }
        // A bare name: from a glob import of its crate, or distinctive enough to belong to one
        // crate only (`PgPool`, `PoolConnection`), preferring crates the file imports from.
        let from_roots = |roots: &mut dyn Iterator<Item = &String>| -> Vec<TypeId> {
            let roots: Vec<&String> = roots.collect();
            candidates
                .iter()
                .copied()
                .filter(|t| k.profile(*t).roots.iter().any(|r| roots.contains(&r)))
                .collect()
        };
        let globbed = from_roots(&mut scope.globs.iter().filter_map(|g| g.first()));
        let pool = if !globbed.is_empty() {
            globbed
        } else if crate::profile::GENERIC_NAMES.contains(&name.as_str()) {
            return None;
        } else {
            let imported = from_roots(&mut scope.roots.iter());
            if imported.is_empty() {
                candidates.to_vec()
            } else {
                imported
            }
        };
        let first = pool[0];
        let kind = k.ty(first).kind;
        pool.iter().all(|t| k.ty(*t).kind == kind).then_some(first)
    }
}

fn rank(kind: Kind) -> u8 {
    match kind {
        Kind::Transaction | Kind::Connection => 6,
        Kind::Raw => 5,
        Kind::Driver => 4,
        Kind::Pool => 3,
        Kind::Client => 2,
        Kind::Builder => 1,
    }
}

struct Resolver<'a> {
    idx: &'a CrateIndex,
    in_progress: RefCell<HashSet<String>>,
    alias_memo: RefCell<HashMap<String, Ty>>,
}

impl Resolver<'_> {
    fn alias(&self, name: &str) -> Ty {
        if let Some(t) = self.idx.alias_ty.get(name) {
            return t.clone();
        }
        if let Some(t) = self.alias_memo.borrow().get(name) {
            return t.clone();
        }
        if !self.in_progress.borrow_mut().insert(name.to_string()) {
            return Ty::Unknown;
        }
        let ty = self.idx.aliases.get(name).map_or(Ty::Unknown, |defs| {
            defs.iter()
                .map(|(file, t)| self.resolve(*file, t, None))
                .find(|t| !t.is_unknown())
                .unwrap_or_default()
        });
        self.in_progress.borrow_mut().remove(name);
        self.alias_memo
            .borrow_mut()
            .insert(name.to_string(), ty.clone());
        ty
    }

    fn resolve(&self, file: FileId, ty: &TypeExpr, self_ty: Option<&str>) -> Ty {
        match ty {
            TypeExpr::Path(segs, args) => self.path(file, segs, args, self_ty),
            TypeExpr::Ref(t) => self.resolve(file, t, self_ty),
            TypeExpr::Array(t) => Ty::collection(self.resolve(file, t, self_ty)),
            TypeExpr::Tuple(ts) => {
                let elems: Vec<Ty> = ts.iter().map(|e| self.resolve(file, e, self_ty)).collect();
                if elems.iter().all(Ty::is_unknown) {
                    Ty::Unknown
                } else {
                    Ty::Tuple(elems)
                }
            }
            TypeExpr::Bound(assoc, t) => match assoc.as_str() {
                "Output" => Ty::future(self.resolve(file, t, self_ty)),
                "Item" => Ty::iter(self.resolve(file, t, self_ty)),
                "Target" => self.resolve(file, t, self_ty),
                _ => Ty::Unknown,
            },
            TypeExpr::Other => Ty::Unknown,
        }
    }

    fn path(&self, file: FileId, segs: &[String], args: &[TypeExpr], self_ty: Option<&str>) -> Ty {
        let Some(name) = segs.last() else {
            return Ty::Unknown;
        };
        let arg = |i: usize| {
            args.get(i)
                .map_or(Ty::Unknown, |t| self.resolve(file, t, self_ty))
        };
        let n = name.as_str();
        if n == "Self" && segs.len() == 1 {
            return self_ty.map_or(Ty::Unknown, |s| Ty::Local(s.to_string()));
        }
        let scope = &self.idx.scopes[file];
        let full = scope.expand(segs);
        // Wrapper names are matched as imported (`use std::sync::Mutex as StdMutex`).
        let n = full.last().map_or(n, String::as_str);
        let k = self.idx.knowledge;
        // Module roots of user-declared functions (`db` in `db::get_conn`) are not crates:
        // `db::Row` may still be a crate-local struct.
        let library_path = full.len() > 1 && k.is_root(&full[0]) && !k.is_user_root(&full[0]);
        if library_path {
            if let Some(id) = self.idx.library_type(file, segs) {
                return Ty::Db(id);
            }
        } else {
            // A type declared in the user's configuration wins over a local struct of the
            // same name (`struct AppDb { pool: PgPool }` declared as a pool with an acquire
            // method `conn`).
            if let Some(id) = k.user_type(n) {
                return Ty::Db(id);
            }
            if self.idx.aliases.contains_key(n) {
                let t = self.alias(n);
                if !t.is_unknown() {
                    return t;
                }
            }
            if self.idx.structs.contains_key(n) {
                return Ty::Local(n.to_string());
            }
            if let Some(id) = self.idx.library_type(file, segs) {
                return Ty::Db(id);
            }
        }
        if TRANSPARENT.contains(&n) {
            return arg(0);
        }
        if CELLS.contains(&n) {
            let t = arg(0);
            return if t.is_unknown() {
                t
            } else {
                Ty::Cell(Box::new(t))
            };
        }
        if FALLIBLE.contains(&n) || n.ends_with("Result") {
            return Ty::fallible(arg(0));
        }
        if SEQUENCES.contains(&n) {
            return Ty::collection(arg(0));
        }
        if MAPS.contains(&n) {
            return Ty::collection(arg(1));
        }
        if FUTURES.contains(&n) {
            return Ty::future(arg(0));
        }
        Ty::Unknown
    }
}
