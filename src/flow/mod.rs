//! The flow model: every function body, closure and async block is walked in evaluation order
//! with an environment of typed bindings and the set of connections held at each point. What
//! happens to connection-relevant values becomes events; rules are small functions over them.
//!
//! Liveness follows Rust, not last use: a binding holds its connection until it is moved (a
//! by-value argument, `drop(x)`, a consuming method such as `commit`, `return`, a struct field, a
//! `move` closure) or its scope ends. Temporaries die at the end of their temporary scope, as in
//! Rust: a statement, a plain `if`/`while` condition, a match guard or arm, the then-branch of
//! an `if let` in edition 2024 (scrutinee temporaries of `match`/`if let` outlive the scrutinee;
//! see `control`). At a merge
//! of branches a connection is held only if it is held on every incoming path (precision
//! first); diverging paths (`return`, `break`, `continue`, `panic!`) do not count.
//!
//! The walk is split by concern: `walker` (the walker and what it holds), `state` (the held
//! set, bindings, branch merges), `exprs` (statements, blocks, places), `control` (branches,
//! loops, exits), `calls` and `path_calls` (method and path calls: acquisitions, moves,
//! crate-local calls, spawns), `closures` (closures, async blocks, macros), `macros` (macro
//! arguments parsed on demand), `patterns` (parameters and bindings), `settings` (pool options
//! as written), `bodies` (which functions get a full walk) and `summary` (what each function
//! does for the crate-wide picture).

mod bodies;
mod calls;
mod closures;
mod control;
mod entry;
mod exprs;
mod macros;
mod path_calls;
mod patterns;
mod settings;
mod state;
mod summary;
mod walker;

pub use crate::index::CalleeKey;
pub use crate::resolve::Resolved;
pub use bodies::analyse_file;
pub use entry::Entry;
pub use macros::Expander;
pub use summary::{
    opens_server_connection, AcquireSite, Acquirers, BlockSite, ConnectSite, Summary,
};
pub use walker::Walker;

use crate::model::{Span, Sym};
use crate::profile::{Role, TypeId};
use crate::types::{Held, Ty};
use std::sync::Arc;

/// The fate of a pool handed to the caller (see `PoolBuiltEvent::fate`).
pub const RETURNED: &str = "returned to the caller";

/// Where a value sits, for rules that care whether it is long-lived.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Place {
    #[default]
    Temp,
    /// A local binding (or parameter).
    Local(Sym),
    /// A field of something (`self.conns`, `state.db`); `on_self` when rooted at `self`;
    /// `root` is the binding the field chain starts at.
    Field {
        on_self: bool,
        field: Sym,
        root: Option<Sym>,
    },
    /// A `static` item.
    Static(Sym),
}

/// A value as the walker sees it.
#[derive(Debug, Clone, Default)]
pub struct Value {
    pub ty: Ty,
    /// The acquisition (or parameter) that produced the connection this value carries.
    pub origin: Option<Span>,
    pub place: Place,
    /// Held connections this value owns and carries (a fresh acquisition, a moved binding).
    pub holds: Vec<u32>,
    /// For pools: how the code names it (`state.db`, `self.pool`, `POOL`).
    pub pool_key: Option<Arc<str>>,
    /// The value is a binding named directly (so using it by value moves the binding).
    pub direct: bool,
    /// Held connections this value works on without owning them (a transaction begun on a
    /// held connection, a stream borrowed from one).
    pub borrows: Vec<u32>,
    /// For pool builders: the options set on the way (`.max_connections(5)`).
    pub settings: Vec<Setting>,
    /// Manual acquisitions (configured `[[release]]` pairs) this value stands for.
    pub manual: Vec<u32>,
}

impl Value {
    pub(crate) fn of(ty: Ty) -> Value {
        Value {
            ty,
            ..Value::default()
        }
    }
}

/// The surroundings of an event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ctx {
    /// Number of enclosing `for`/`while`/`loop` bodies and iterator closures.
    pub loop_depth: u32,
    pub in_async: bool,
    /// Inside `spawn_blocking`, `block_in_place`, `web::block` or `interact`: blocking is fine.
    pub in_blocking_closure: bool,
    /// Inside the body of a spawned task.
    pub in_task: bool,
    /// The innermost enclosing loop (or iterator closure).
    pub loop_at: Option<Span>,
    /// Where that loop's last `break` is: a connection opened before it may be a retry that
    /// stops once an attempt succeeds.
    pub loop_last_break: Option<crate::model::Pos>,
    /// The innermost enclosing closure that is not a run-once initialiser.
    pub closure_at: Option<Span>,
}

impl Ctx {
    /// Is the thing at `at` inside a loop that can `break` after it (`match connect() {
    /// Ok(c) => { ..; break } Err(_) => sleep }`): tried again only after a failure?
    pub fn retried_until_success(&self, at: Span) -> bool {
        self.loop_last_break.is_some_and(|b| b >= at.hi)
    }
}

/// A connection held at some point of a body.
#[derive(Debug, Clone)]
pub struct HeldRef {
    pub id: u32,
    /// The binding that owns it (`None` for a temporary).
    pub name: Option<Sym>,
    /// Where it was acquired (or the parameter that brought it in).
    pub origin: Span,
    pub held: Held,
    /// The pool it came from, as the code names it.
    pub pool: Option<Arc<str>>,
    /// Received by reference or as a request guard: held for the whole body.
    pub param: bool,
    /// A pool or client that was cloned: other handles keep it alive.
    pub shared: bool,
    /// A transaction on an unpooled connection: it takes no pool slot.
    pub unpooled: bool,
    /// A savepoint: begun inside another transaction.
    pub nested: bool,
    /// A pool returned by this crate-local function: a fresh build only if the function
    /// builds the pool it returns (a crate-wide fact, see [`Acquirers::build_site`]).
    pub from_helper: Option<CalleeKey>,
    /// A transaction kept as the connection's own state (`conn.begin_test_transaction()`,
    /// `AnsiTransactionManager::begin_transaction(&mut *conn)`) is open: where it began.
    pub open_tx: Option<Span>,
}

/// How a tracked value stops being this body's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropHow {
    /// Its binding's scope ends (the end of a block or of the function).
    ScopeEnd,
    /// A normal `return` leaves the function while the binding still owns it.
    Return,
    /// `let _ = ..`: dropped at once.
    Discard,
    /// The binding is assigned a new value.
    Overwritten,
    /// `drop(x)`.
    Explicit,
    /// Closed gracefully (`close().await`, `disconnect().await`): gone, properly.
    Closed,
    /// Given to an async `commit()` / `close()` whose future is thrown away un-awaited: the
    /// future (and the value with it) is dropped without committing or closing.
    Unawaited,
}

/// A value of a pool option as written.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    Number(u64),
    /// A duration, in milliseconds.
    Millis(u128),
    /// `None`: no limit.
    Unbounded,
    /// What a crate-local helper returns (`pool: Some(pool_config(size))`): it may carry any
    /// option, so every option of the pool counts as set to something unknown.
    Computed,
    Other,
}

/// A pool option set in code: `.max_connections(5)`, `max_size: 16`, `wait: Some(..)`.
#[derive(Debug, Clone)]
pub struct Setting {
    /// The setter or field name as written.
    pub setter: String,
    pub value: SettingValue,
    pub span: Span,
}

/// How a second acquisition happens.
#[derive(Debug, Clone)]
pub enum Acquisition {
    /// A checkout or `begin` on a pool (`pool.acquire()`, `pool.get()`).
    Direct { pool: Option<Arc<str>> },
    /// The pool used as an executor (`.execute(&pool)`): a checkout for one query.
    Executor { pool: Option<Arc<str>> },
    /// A crate-local function or method whose return value holds a connection.
    Helper { callee: String },
    /// A second request guard or extractor parameter that holds a connection.
    Guard { param: String },
}

/// What a rule sees of a value: its type, where its connection came from, where it sits.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub ty: Ty,
    pub origin: Option<Span>,
    pub place: Place,
}

impl Seen {
    pub(crate) fn of(v: &Value) -> Seen {
        Seen {
            ty: v.ty.clone(),
            origin: v.origin,
            place: v.place.clone(),
        }
    }
}

/// `path(args)`: a free or associated function, or a tuple-struct constructor.
#[derive(Debug, Clone)]
pub struct CallEvent {
    pub path: Vec<String>,
    pub local_fn: bool,
    pub args: Vec<Seen>,
    pub def: Option<Resolved>,
    pub result: Seen,
}

/// `recv.method(args)`.
#[derive(Debug, Clone)]
pub struct MethodEvent {
    pub method: Sym,
    pub recv: Seen,
    pub args: Vec<Seen>,
    pub def: Option<Resolved>,
    pub result: Seen,
}

/// A pool built here, with the options set in code on the way.
#[derive(Debug, Clone)]
pub struct PoolBuiltEvent {
    pub id: Option<u32>,
    /// Where the expression that builds it starts (`Pool::builder(m)` of a chain ending in
    /// `.build()`): where config findings point, and where a suppression applies.
    pub start: Span,
    pub pool: TypeId,
    pub builder: Option<TypeId>,
    pub settings: Vec<Setting>,
    /// What becomes of it: returned, stored, handed to a call, dropped.
    pub fate: Option<String>,
}

#[derive(Debug, Clone)]
pub enum EventKind {
    Call(Box<CallEvent>),
    Method(Box<MethodEvent>),
    /// An `.await` (or an awaiting macro: `join!`, `select!`) with the connections held across
    /// it that its future does not use.
    Await {
        held: Vec<HeldRef>,
        callees: Vec<CalleeKey>,
        acquires: bool,
        /// Its future works on another held connection (`execute(&mut *tx).await`).
        on_held: bool,
    },
    /// A blocking call with the connections held across it that it does not use.
    Blocking {
        callee: String,
        held: Vec<HeldRef>,
    },
    /// A pool acquisition, with the connections already held; `on` is the library type it is
    /// made on, when the profiles know the call.
    Acquire {
        how: Acquisition,
        held: Vec<HeldRef>,
        blocking: bool,
        on: Option<TypeId>,
    },
    /// A call to a crate-local function or method, with the connections held.
    LocalCall {
        key: CalleeKey,
        held: Vec<HeldRef>,
    },
    /// A `loop` with no `break` or `return`, with the connections held on entry.
    EndlessLoop {
        held: Vec<HeldRef>,
    },
    /// `tokio::spawn(worker(..))`-like: a crate-local function run as a background task.
    SpawnFn {
        key: CalleeKey,
    },
    /// A tracked value (connection, transaction, pool, connection task) stops being this
    /// body's without being handed on: `maybe` when that is so on some paths only.
    Dropped {
        held: Box<HeldRef>,
        how: DropHow,
        maybe: bool,
    },
    PoolBuilt(Box<PoolBuiltEvent>),
    /// A connection goes out of this body's hands (`how`) while a transaction begun on it as
    /// connection state (`begun`) is still open, on every path or (`maybe`) on some.
    TxStateLeft {
        held: Box<HeldRef>,
        begun: Span,
        how: DropHow,
        maybe: bool,
    },
    /// A pool returned by a call of a crate-local function or method (`let pool = db().await?`):
    /// a build site when that function builds the pool it returns. `fate` as for `PoolBuilt`.
    PoolFromHelper {
        id: Option<u32>,
        key: CalleeKey,
        fate: Option<String>,
    },
    /// A `move` closure handed to `callee` (the call as written: `run`, `Job::new_async`)
    /// takes these held connections with it.
    Captured {
        callee: String,
        held: Vec<HeldRef>,
    },
    /// An exit (`?`, `return`, `break`) while manual acquisitions (configured `[[release]]`
    /// pairs) are unreleased: (where acquired, the release call expected).
    ManualExit {
        open: Vec<(Span, String)>,
        how: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    /// The call (for methods: from the method name to the closing parenthesis), the `.await`,
    /// or the `loop` keyword.
    pub span: Span,
    pub ctx: Ctx,
}

impl Event {
    /// What the profiles say the call does (calls and methods).
    pub fn def(&self) -> Option<&Resolved> {
        match &self.kind {
            EventKind::Call(c) => c.def.as_ref(),
            EventKind::Method(m) => m.def.as_ref(),
            _ => None,
        }
    }
    pub fn role(&self) -> Option<Role> {
        self.def().map(|d| d.role)
    }
    /// The arguments of a call or method.
    pub fn args(&self) -> &[Seen] {
        match &self.kind {
            EventKind::Call(c) => &c.args,
            EventKind::Method(m) => &m.args,
            _ => &[],
        }
    }
    /// What a call or method gives.
    pub fn result(&self) -> Option<&Seen> {
        match &self.kind {
            EventKind::Call(c) => Some(&c.result),
            EventKind::Method(m) => Some(&m.result),
            _ => None,
        }
    }
}

/// One analysed body: a function or method (closures and async blocks inside it are part of it).
#[derive(Debug)]
pub struct Body {
    pub name: String,
    /// `main`, a test, or a start-up function (see `pool-per-call`): runs once.
    pub runs_once: bool,
    /// A web handler or a job's run method: runs once per request or job.
    pub entry: Option<Entry>,
    /// How other code calls it (`None` for a function nested in a body: no other code can).
    pub key: Option<CalleeKey>,
    pub is_async: bool,
    pub events: Vec<Event>,
}
