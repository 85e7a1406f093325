//! API knowledge: what each database crate's types are, which calls acquire, begin, detach,
//! close or build pools, and the library defaults of pool options. The facts live in
//! `lints/profiles/<crate>.toml` (embedded in the binary); this module loads them and answers
//! look-ups. Rules never hard-code crate APIs.

use serde::Deserialize;
use std::collections::HashMap;

/// What a value of a known type is, for the purposes of leak analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A pool (or a pool-backed handle such as sea-orm's `DatabaseConnection` or a mongodb
    /// `Client`): cheap to clone, meant to live for the whole program.
    Pool,
    /// A connection checked out of a pool: holds a pool slot until dropped.
    Connection,
    /// An open transaction (holds a connection, and a pool slot when pooled).
    Transaction,
    /// A single unpooled connection (`PgConnection::connect`, `tokio_postgres::connect`).
    Raw,
    /// A shareable, long-lived client handle that is not a checkout (redis `Client`,
    /// `MultiplexedConnection`, lapin `Channel`): keeping one around is the intended use.
    Client,
    /// A pool builder or options value (`PgPoolOptions`, `r2d2::Builder`, deadpool `Config`).
    Builder,
    /// A future that must be driven for a connection to work (`tokio_postgres::Connection`).
    Driver,
}

impl Kind {
    /// Does a value of this kind occupy a database connection while it is alive?
    pub fn holds_connection(self) -> bool {
        matches!(self, Kind::Connection | Kind::Transaction | Kind::Raw)
    }
    /// Does a value of this kind occupy a slot of a pool while it is alive?
    pub fn holds_pool_slot(self) -> bool {
        matches!(self, Kind::Connection | Kind::Transaction)
    }
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Pool => "pool",
            Kind::Connection => "pooled connection",
            Kind::Transaction => "transaction",
            Kind::Raw => "connection",
            Kind::Client => "client",
            Kind::Builder => "pool builder",
            Kind::Driver => "connection task",
        }
    }
}

/// What a call does to connections and pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Checks a connection out of a pool (`pool.acquire()`, `pool.get()`).
    Acquire,
    /// Opens a transaction (`pool.begin()`, `conn.transaction()`).
    Begin,
    /// Opens a raw, unpooled connection (`PgConnection::connect`).
    Connect,
    /// Builds a pool (`PgPoolOptions::connect`, `Pool::builder().build(..)`, `cfg.create_pool`).
    Build,
    /// Starts a builder or options value (`PgPoolOptions::new()`, `Pool::builder()`).
    Configure,
    /// Takes a connection out of pool accounting (`detach`, `leak`, `Object::take`).
    Detach,
    /// Gracefully closes a connection or pool (`close().await`, `disconnect().await`).
    Close,
    /// Ends a transaction by committing it.
    Commit,
    /// Ends a transaction by rolling it back.
    Rollback,
    /// Runs work on a connection inside a closure that ends by itself
    /// (`conn.transaction(|c| ..)`, deadpool `interact`, rocket `conn.run`).
    Scoped,
    /// Uses the receiver as an executor: checks out a connection for the length of one query
    /// (sqlx `pool.execute(..)`, sea-orm `Entity::find().all(&db)`).
    Execute,
    /// Returns a value of another known type without acquiring (conversions, accessors).
    Convert,
    /// Blocks the current thread (used by hold rules).
    Block,
}

/// A manual release API (`lock_conn` / `unlock_conn`): every path from the acquisition must
/// reach the release. Used by the `release-skipped` rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleasePair {
    /// Method or function name (or `Type::function` path) that takes the resource.
    pub acquire: String,
    /// Method or function name (or path) that must be called before every exit.
    pub release: String,
    /// Receiver type names the methods are called on (any receiver when empty).
    #[serde(default)]
    pub on: Vec<String>,
    /// Shown in the finding's help.
    #[serde(default)]
    pub note: Option<String>,
}

/// A type the crate exports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDef {
    /// The type's own name, as written after the last `::`.
    pub name: String,
    pub kind: Kind,
    /// Full paths it is reachable by (re-exports included). The crate's roots plus `name`
    /// always match, so list only what differs (`sqlx::postgres::PgPool`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// For builders: the type `build`-role calls produce.
    #[serde(default)]
    pub builds: Option<String>,
    /// For builders: the options they take, with canonical keys and library defaults.
    #[serde(default)]
    pub options: Vec<OptionDef>,
    /// What dropping a value of this type does (one sentence, shown in messages and `pools`).
    #[serde(default)]
    pub drop: Option<String>,
    /// Whether `Drop` cannot close it gracefully: an explicit async close is needed.
    #[serde(default)]
    pub needs_close: bool,
    /// A single connection designed for concurrent use by many tasks (tokio-postgres
    /// `Client`): keeping one for the program's life is a design choice, not a leak.
    #[serde(default)]
    pub shareable: bool,
    /// An embedded database opened in-process (SQLite): opening one costs no network
    /// handshake and no server connection slot.
    #[serde(default)]
    pub embedded: bool,
}

/// A pool option: the setter (or struct field) that sets it, its canonical key and default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionDef {
    /// Setter method or config field name (`max_connections`, `wait_timeout`, `max_size`).
    pub setter: String,
    /// Canonical key: `max_size`, `min_idle`, `acquire_timeout`, `connect_timeout`,
    /// `idle_timeout`, `max_lifetime`, `create_timeout`, `recycle_timeout`.
    pub key: String,
    /// The library default: a number, a duration (`30s`, `10m`), `none` (unbounded / never),
    /// `cpu*2` (machine dependent), or `unset`.
    #[serde(default)]
    pub default: Option<String>,
    /// The library reads 0 as "no limit" (mobc `max_open(0)`).
    #[serde(default)]
    pub zero_is_unlimited: bool,
}

/// A method callable on values of known types.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodDef {
    /// Receiver type names (declared in this profile's `types`).
    pub on: Vec<String>,
    /// Method names with this meaning.
    pub names: Vec<String>,
    pub role: Role,
    /// Type produced (a name from `types`, or `Self`); omitted when it produces nothing known.
    #[serde(default)]
    pub returns: Option<String>,
    /// For calls producing a tuple (`tokio_postgres::connect` → `(Client, Connection)`).
    #[serde(default)]
    pub returns_tuple: Vec<String>,
    #[serde(default, rename = "async")]
    pub is_async: bool,
    #[serde(default)]
    pub fallible: bool,
    #[serde(default)]
    pub blocking: bool,
    /// Consumes the receiver (`commit(self)`, `detach(self)`).
    #[serde(default)]
    pub consumes: bool,
    /// The result works on the receiver's connection (a row stream, a COPY sink, a cursor):
    /// awaiting it is database work on that connection, even after the call is awaited.
    #[serde(default)]
    pub streams: bool,
    /// For detach-like calls: what happens to pool capacity.
    #[serde(default)]
    pub effect: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A free function or associated function, called by path.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FnDef {
    /// Paths as written at call sites, from a type or crate root: `PgConnection::connect`,
    /// `tokio_postgres::connect`, `Object::take`. The last two segments are matched.
    pub paths: Vec<String>,
    pub role: Role,
    #[serde(default)]
    pub returns: Option<String>,
    #[serde(default)]
    pub returns_tuple: Vec<String>,
    #[serde(default, rename = "async")]
    pub is_async: bool,
    #[serde(default)]
    pub fallible: bool,
    #[serde(default)]
    pub blocking: bool,
    /// Index of the argument the call consumes or acts on (`Object::take(obj)` → 0).
    #[serde(default)]
    pub subject: Option<usize>,
    /// Index of an argument the returned value keeps for its whole life (a job storage built
    /// on a connection: `RedisStorage::new(conn)` → 0).
    #[serde(default)]
    pub keeps: Option<usize>,
    #[serde(default)]
    pub effect: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// One crate's API knowledge.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Profile name (the file stem), e.g. `sqlx`.
    pub name: String,
    /// Crate names as they appear at the start of paths (`sqlx`, `sqlx_core`).
    pub roots: Vec<String>,
    /// Versions the facts were read from.
    pub versions: String,
    /// Where the facts come from (docs.rs pages, source files).
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub types: Vec<TypeDef>,
    #[serde(default)]
    pub methods: Vec<MethodDef>,
    #[serde(default)]
    pub functions: Vec<FnDef>,
    /// Words (identifiers) that mark code as using this profile's blocking calls, for
    /// profiles that describe no database types: a file that mentions one is parsed, and a
    /// function that mentions one is walked, so a crate-local helper that blocks is known to.
    #[serde(default)]
    pub words: Vec<String>,
}

/// The name of the profile built from the user's configuration (`[[types]]`, `[[methods]]`,
/// `[[functions]]` and `blocking` in `connlint.toml`). No built-in profile has this name.
pub const USER_PROFILE: &str = "configured";

/// The profiles shipped with connlint, embedded at build time.
pub const BUILTIN: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/profiles.rs"));

/// Identifies a type of a loaded profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId {
    pub profile: u16,
    pub index: u16,
}

/// What the profiles say about one call.
#[derive(Debug, Clone, Copy)]
pub enum CallDef<'k> {
    Method(&'k MethodDef),
    Function(&'k FnDef),
}

impl<'k> CallDef<'k> {
    pub fn role(self) -> Role {
        match self {
            CallDef::Method(m) => m.role,
            CallDef::Function(f) => f.role,
        }
    }
    pub fn returns(self) -> (Option<&'k str>, &'k [String], bool, bool) {
        match self {
            CallDef::Method(m) => (
                m.returns.as_deref(),
                &m.returns_tuple,
                m.is_async,
                m.fallible,
            ),
            CallDef::Function(f) => (
                f.returns.as_deref(),
                &f.returns_tuple,
                f.is_async,
                f.fallible,
            ),
        }
    }
    pub fn effect(self) -> Option<&'k str> {
        match self {
            CallDef::Method(m) => m.effect.as_deref(),
            CallDef::Function(f) => f.effect.as_deref(),
        }
    }
    pub fn note(self) -> Option<&'k str> {
        match self {
            CallDef::Method(m) => m.note.as_deref(),
            CallDef::Function(f) => f.note.as_deref(),
        }
    }
}

/// All loaded profiles, indexed for the look-ups the analysis makes.
pub struct Knowledge {
    pub profiles: Vec<Profile>,
    by_name: HashMap<String, Vec<TypeId>>,
    by_root: HashMap<String, Vec<u16>>,
    by_path: HashMap<String, Vec<TypeId>>,
    methods: HashMap<(TypeId, String), usize>,
    /// (profile, "Prefix::name") → index into that profile's functions.
    /// name → (prefix, profile, index into that profile's functions).
    functions: HashMap<String, Vec<(String, u16, usize)>>,
}

#[derive(Debug)]
pub struct ProfileError {
    pub profile: String,
    pub message: String,
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "profile `{}`: {}", self.profile, self.message)
    }
}

impl Knowledge {
    /// The built-in profiles. They are checked by the test suite, so failure here is a bug.
    pub fn builtin() -> &'static Knowledge {
        static K: std::sync::OnceLock<Knowledge> = std::sync::OnceLock::new();
        K.get_or_init(|| {
            let sources = BUILTIN.iter().map(|(n, t)| (n.to_string(), t.to_string()));
            Knowledge::load(sources).unwrap_or_else(|e| panic!("built-in {e}"))
        })
    }

    /// Parses and indexes profiles given as (name, TOML text).
    pub fn load(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Knowledge, ProfileError> {
        let mut profiles = Vec::new();
        for (name, text) in sources {
            let p: Profile = toml::from_str(&text).map_err(|e| ProfileError {
                profile: name.clone(),
                message: e.to_string(),
            })?;
            profiles.push(p);
        }
        let mut k = Knowledge {
            profiles,
            by_name: HashMap::new(),
            by_root: HashMap::new(),
            by_path: HashMap::new(),
            methods: HashMap::new(),
            functions: HashMap::new(),
        };
        for (pi, p) in k.profiles.iter().enumerate() {
            let pi = pi as u16;
            let err = |message: String| ProfileError {
                profile: p.name.clone(),
                message,
            };
            for root in &p.roots {
                k.by_root.entry(root.clone()).or_default().push(pi);
            }
            let local: HashMap<&str, TypeId> = p
                .types
                .iter()
                .enumerate()
                .map(|(ti, t)| {
                    (
                        t.name.as_str(),
                        TypeId {
                            profile: pi,
                            index: ti as u16,
                        },
                    )
                })
                .collect();
            for t in &p.types {
                let id = local[t.name.as_str()];
                k.by_name.entry(t.name.clone()).or_default().push(id);
                for path in &t.paths {
                    k.by_path.entry(path.clone()).or_default().push(id);
                }
            }
            let check_ret = |r: &Option<String>, tuple: &[String]| -> Result<(), ProfileError> {
                for name in r.iter().chain(tuple) {
                    if name != "Self" && !local.contains_key(name.as_str()) {
                        return Err(err(format!("returns unknown type `{name}`")));
                    }
                }
                Ok(())
            };
            for (mi, m) in p.methods.iter().enumerate() {
                check_ret(&m.returns, &m.returns_tuple)?;
                for on in &m.on {
                    let Some(&tid) = local.get(on.as_str()) else {
                        return Err(err(format!("method on unknown type `{on}`")));
                    };
                    for name in &m.names {
                        k.methods.insert((tid, name.clone()), mi);
                    }
                }
            }
            for (fi, f) in p.functions.iter().enumerate() {
                check_ret(&f.returns, &f.returns_tuple)?;
                for path in &f.paths {
                    let segs: Vec<&str> = path.split("::").collect();
                    if segs.len() < 2 {
                        return Err(err(format!("function path `{path}` needs a prefix")));
                    }
                    let (prefix, name) = (segs[segs.len() - 2], segs[segs.len() - 1]);
                    k.functions.entry(name.to_string()).or_default().push((
                        prefix.to_string(),
                        pi,
                        fi,
                    ));
                }
            }
        }
        Ok(k)
    }

    /// A type the user's configuration declares under this name. Such a type wins over a
    /// crate-local struct of the same name: declaring it is how a user says what it is.
    pub fn user_type(&self, name: &str) -> Option<TypeId> {
        self.types_named(name)
            .iter()
            .copied()
            .find(|t| self.profile(*t).name == USER_PROFILE)
    }

    /// Is `root` a path root only the user's configuration declares (a crate-local module such
    /// as `db` in `db::get_conn`), not a library crate of a built-in profile?
    pub fn is_user_root(&self, root: &str) -> bool {
        self.profiles_for_root(root)
            .iter()
            .all(|&p| self.profiles[p as usize].name == USER_PROFILE)
            && self.is_root(root)
    }

    pub fn ty(&self, id: TypeId) -> &TypeDef {
        &self.profiles[id.profile as usize].types[id.index as usize]
    }

    pub fn profile(&self, id: TypeId) -> &Profile {
        &self.profiles[id.profile as usize]
    }

    /// Profiles whose crate is named `root`.
    pub fn profiles_for_root(&self, root: &str) -> &[u16] {
        self.by_root.get(root).map_or(&[], |v| v.as_slice())
    }

    pub fn is_root(&self, name: &str) -> bool {
        self.by_root.contains_key(name)
    }

    /// Every type with this name, across profiles.
    pub fn types_named(&self, name: &str) -> &[TypeId] {
        self.by_name.get(name).map_or(&[], |v| v.as_slice())
    }

    /// The type a profile lists under this full path.
    /// Several profiles may list one path (a crate re-exporting another's types); the
    /// profile of the crate the path starts with wins.
    pub fn type_by_path(&self, path: &str) -> Option<TypeId> {
        let ids = self.by_path.get(path)?;
        let root = path.split("::").next().unwrap_or_default();
        ids.iter()
            .copied()
            .find(|t| self.profile(*t).roots.iter().any(|r| r == root))
            .or_else(|| ids.first().copied())
    }

    /// A type named `name` in one of `profiles`.
    pub fn type_in(&self, profiles: &[u16], name: &str) -> Option<TypeId> {
        self.types_named(name)
            .iter()
            .copied()
            .find(|t| profiles.contains(&t.profile))
    }

    /// A type named `name` in profile `profile`.
    pub fn type_in_profile(&self, profile: u16, name: &str) -> Option<TypeId> {
        self.type_in(&[profile], name)
    }

    pub fn method(&self, on: TypeId, name: &str) -> Option<&MethodDef> {
        let mi = *self.methods.get(&(on, name.to_string()))?;
        Some(&self.profiles[on.profile as usize].methods[mi])
    }

    /// An associated or free function: `prefix::name` in profile `profile`.
    pub fn function(&self, profile: u16, prefix: &str, name: &str) -> Option<&FnDef> {
        let (_, p, fi) = self
            .functions
            .get(name)?
            .iter()
            .find(|(pre, p, _)| pre == prefix && *p == profile)?;
        Some(&self.profiles[*p as usize].functions[*fi])
    }

    /// Profiles that define some function `prefix::name` (so callers need not try them all).
    pub fn function_profiles<'a>(
        &'a self,
        prefix: &'a str,
        name: &str,
    ) -> impl Iterator<Item = u16> + 'a {
        self.functions
            .get(name)
            .into_iter()
            .flatten()
            .filter(move |(pre, _, _)| pre == prefix)
            .map(|(_, p, _)| *p)
    }

    /// Every crate root and type name of the profiles that describe databases (generic names
    /// such as `Pool` included; blocking-call profiles left out).
    pub fn all_names(&self) -> Vec<String> {
        let mut words = Vec::new();
        for p in self.profiles.iter().filter(|p| {
            p.types
                .iter()
                .any(|t| t.kind.holds_connection() || t.kind == Kind::Pool)
        }) {
            words.extend(p.roots.iter().cloned());
            words.extend(p.types.iter().map(|t| t.name.clone()));
            // What a function is called through (`Database` of `Database::connect`).
            words.extend(p.functions.iter().flat_map(|f| {
                f.paths
                    .iter()
                    .filter_map(|path| path.rsplit_once("::")?.0.rsplit("::").next())
                    .map(str::to_string)
            }));
        }
        words.extend(self.blocking_words());
        words
    }

    /// The words that mark code as calling something that blocks the thread: the `words` of
    /// the blocking-call profiles, and the names of the calls a user declares blocking.
    pub fn blocking_words(&self) -> Vec<String> {
        let mut words = Vec::new();
        for p in &self.profiles {
            words.extend(p.words.iter().cloned());
            if p.name != USER_PROFILE {
                continue;
            }
            for f in p.functions.iter().filter(|f| f.blocking) {
                words.extend(
                    f.paths
                        .iter()
                        .filter_map(|path| path.rsplit("::").next().map(str::to_string)),
                );
            }
            for m in p.methods.iter().filter(|m| m.blocking) {
                words.extend(m.names.iter().cloned());
            }
        }
        words
    }

    /// Every word worth looking for in a file before parsing it: crate roots and the type
    /// names distinctive enough to be used without naming their crate in the file.
    /// Profiles that only describe blocking calls (`std`, `reqwest`) add only their `words`:
    /// a file without a connection matters to them only through a helper that blocks.
    pub fn vocabulary(&self) -> Vec<String> {
        let mut words = Vec::new();
        for p in &self.profiles {
            if !p
                .types
                .iter()
                .any(|t| t.kind.holds_connection() || t.kind == Kind::Pool)
            {
                continue;
            }
            words.extend(p.roots.iter().cloned());
            words.extend(
                p.types
                    .iter()
                    .map(|t| t.name.clone())
                    .filter(|n| !GENERIC_NAMES.contains(&n.as_str())),
            );
        }
        words.extend(self.blocking_words());
        words.sort();
        words.dedup();
        words
    }
}

/// Library type names too common to mean a database type without an import.
pub const GENERIC_NAMES: &[&str] = &[
    "Pool",
    "Client",
    "Connection",
    "Conn",
    "Transaction",
    "Object",
    "Config",
    "Manager",
    "Builder",
    "Database",
    "Channel",
    "Session",
    "Options",
    "PoolConfig",
    "Timeouts",
];
