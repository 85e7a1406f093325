//! Types as written → the analysis' [`Ty`]: crate-local types by scoped lookup, library types
//! by the profiles, and the standard wrappers (`Arc`, `Result`, `Vec`, futures) by name.

use super::facts::TypeExpr;
use super::{CrateIndex, FileId, TypeDef, Where};
use crate::profile::TypeId;
use crate::types::Ty;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

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
    "ReentrantMutexGuard",
    "MappedRwLockReadGuard",
    "MappedRwLockWriteGuard",
    "OwnedRwLockReadGuard",
    "OwnedRwLockWriteGuard",
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

/// Resolves types; remembers aliases resolved while the index is being finished.
pub(super) struct Resolver<'a> {
    idx: &'a CrateIndex,
    busy: RefCell<HashSet<u32>>,
    memo: RefCell<HashMap<u32, Ty>>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(idx: &'a CrateIndex) -> Resolver<'a> {
        Resolver {
            idx,
            busy: RefCell::new(HashSet::new()),
            memo: RefCell::new(HashMap::new()),
        }
    }

    pub(super) fn alias(&self, a: u32) -> Ty {
        if let Some(t) = self.idx.alias_ty.get(a as usize) {
            return t.clone();
        }
        if let Some(t) = self.memo.borrow().get(&a) {
            return t.clone();
        }
        if !self.busy.borrow_mut().insert(a) {
            return Ty::Unknown;
        }
        let def = &self.idx.aliases[a as usize];
        let at = Where {
            file: def.place.file,
            module: def.place.inline,
            ..Where::default()
        };
        let ty = self.resolve(&at, &def.ty);
        self.busy.borrow_mut().remove(&a);
        self.memo.borrow_mut().insert(a, ty.clone());
        ty
    }

    pub(super) fn resolve(&self, at: &Where, ty: &TypeExpr) -> Ty {
        match ty {
            TypeExpr::Path(segs, args) => self.path(at, segs, args),
            TypeExpr::Ref(t) => self.resolve(at, t),
            TypeExpr::Array(t) => Ty::collection(self.resolve(at, t)),
            TypeExpr::Tuple(ts) => {
                let elems: Vec<Ty> = ts.iter().map(|e| self.resolve(at, e)).collect();
                if elems.iter().all(Ty::is_unknown) {
                    Ty::Unknown
                } else {
                    Ty::Tuple(elems)
                }
            }
            TypeExpr::Bound(path, assoc) => match assoc {
                Some((name, t)) => match name.as_str() {
                    "Output" => Ty::future(self.resolve(at, t)),
                    "Item" => Ty::iter(self.resolve(at, t)),
                    "Target" => self.resolve(at, t),
                    _ => Ty::Unknown,
                },
                // `impl Context`, `dyn Store`: known by a crate-local trait.
                None => self
                    .idx
                    .lookup_trait(at, path)
                    .map_or(Ty::Unknown, Ty::Param),
            },
            TypeExpr::Other => Ty::Unknown,
        }
    }

    pub(super) fn path(&self, at: &Where, segs: &[String], args: &[TypeExpr]) -> Ty {
        let Some(name) = segs.last() else {
            return Ty::Unknown;
        };
        let arg = |i: usize| args.get(i).map_or(Ty::Unknown, |t| self.resolve(at, t));
        let idx = self.idx;
        match segs {
            [s] if s == "Self" => return at.self_ty.map_or(Ty::Unknown, Ty::Local),
            // `Self::Context`: the associated type the impl names.
            [s, assoc] if s == "Self" => {
                return at
                    .self_ty
                    .and_then(|t| idx.assoc.get(&(t, assoc.clone())))
                    .cloned()
                    .unwrap_or_default();
            }
            [g] => {
                if let Some((_, tr)) = at.generics.iter().find(|(n, _)| n == g) {
                    return tr.map_or(Ty::Unknown, Ty::Param);
                }
            }
            _ => {}
        }
        let scope = &idx.scopes[at.file];
        let full = scope.expand(segs);
        // Wrapper names are matched as imported (`use std::sync::Mutex as StdMutex`).
        let n = full.last().map_or(name.as_str(), String::as_str);
        let k = idx.knowledge;
        // Module roots of user-declared functions (`db` in `db::get_conn`) are not crates.
        let library_path = full.len() > 1 && k.is_root(&full[0]) && !k.is_user_root(&full[0]);
        if library_path {
            if let Some(id) = idx.library_type(at.file, segs) {
                return Ty::Db(id);
            }
        } else {
            // A type declared in the user's configuration wins over a local type of the same
            // name (`struct AppDb { pool: PgPool }` declared as a pool with an acquire method).
            if let Some(id) = k.user_type(n) {
                return Ty::Db(id);
            }
            match idx.lookup_type(at, segs) {
                Some(TypeDef::Alias(a)) => {
                    let t = self.alias(a);
                    if !t.is_unknown() {
                        return t;
                    }
                }
                Some(TypeDef::Type(t)) => return Ty::Local(crate::types::LocalTy(t)),
                None => {}
            }
            if let Some(id) = idx.library_type(at.file, segs) {
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

/// The library type a bare or qualified name denotes in `file`, if any.
pub(super) fn library_type(idx: &CrateIndex, file: FileId, segments: &[String]) -> Option<TypeId> {
    let scope = &idx.scopes[file];
    let full = scope.expand(segments);
    let name = full.last()?;
    let k = idx.knowledge;
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
