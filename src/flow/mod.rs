//! The flow model: every function body, closure and async block is walked in evaluation order
//! with an environment of typed bindings and the set of connections held at each point. What
//! happens to connection-relevant values becomes events; rules are small functions over them.
//!
//! Liveness follows Rust, not last use: a binding holds its connection until it is moved (a
//! by-value argument, `drop(x)`, a consuming method such as `commit`, `return`, a struct field, a
//! `move` closure) or its scope ends. Temporaries die at the end of their statement. At a merge
//! of branches a connection is held only if it is held on every incoming path (precision
//! first); diverging paths (`return`, `break`, `continue`, `panic!`) do not count.

mod summary;
mod walker;

pub use summary::{AcquireSite, Acquirers, CalleeKey, Summary};
pub use walker::Walker;

use crate::index::{CrateIndex, FileId};
use crate::profile::{Role, TypeId};
use crate::types::{Held, Ty};
use proc_macro2::Span;
use syn::visit::Visit;

/// Where a value sits, for rules that care whether it is long-lived.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Place {
    #[default]
    Temp,
    /// A local binding (or parameter).
    Local(String),
    /// A field of something (`self.conns`, `state.db`); `on_self` when rooted at `self`;
    /// `root` is the binding the field chain starts at.
    Field {
        on_self: bool,
        field: String,
        root: Option<String>,
    },
    /// A `static` item.
    Static(String),
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
    pub pool_key: Option<String>,
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
    /// The innermost enclosing closure that is not a run-once initialiser.
    pub closure_at: Option<Span>,
}

/// What the profiles say a call does.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub role: Role,
    /// The library type the call is made on (methods) or through (`Object::take`).
    pub on: Option<TypeId>,
    pub effect: Option<String>,
    pub note: Option<String>,
    pub blocking: bool,
}

/// A connection held at some point of a body.
#[derive(Debug, Clone)]
pub struct HeldRef {
    pub id: u32,
    /// The binding that owns it (`None` for a temporary).
    pub name: Option<String>,
    /// Where it was acquired (or the parameter that brought it in).
    pub origin: Span,
    pub held: Held,
    /// The pool it came from, as the code names it.
    pub pool: Option<String>,
    /// Received by reference or as a request guard: held for the whole body.
    pub param: bool,
    /// A pool or client that was cloned: other handles keep it alive.
    pub shared: bool,
    /// A transaction on an unpooled connection: it takes no pool slot.
    pub unpooled: bool,
    /// A savepoint: begun inside another transaction.
    pub nested: bool,
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
}

/// A value of a pool option as written.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    Number(u64),
    /// A duration, in milliseconds.
    Millis(u128),
    /// `None`: no limit.
    Unbounded,
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
    Direct { pool: Option<String> },
    /// The pool used as an executor (`.execute(&pool)`): a checkout for one query.
    Executor { pool: Option<String> },
    /// A crate-local function or method whose return value holds a connection.
    Helper { callee: String },
    /// A second request guard or extractor parameter that holds a connection.
    Guard { param: String },
}

#[derive(Debug, Clone)]
pub enum EventKind {
    /// `path(args)`: a free or associated function, or a tuple-struct constructor.
    Call { path: Vec<String>, local_fn: bool },
    /// `recv.method(args)`.
    Method { method: String, recv: Value },
    /// An `.await` (or an awaiting macro: `join!`, `select!`) with the connections held across
    /// it that its future does not use.
    Await {
        held: Vec<HeldRef>,
        callees: Vec<CalleeKey>,
        acquires: bool,
    },
    /// A blocking call with the connections held across it that it does not use.
    Blocking { callee: String, held: Vec<HeldRef> },
    /// A pool acquisition, with the connections already held.
    Acquire {
        how: Acquisition,
        held: Vec<HeldRef>,
        blocking: bool,
    },
    /// A call to a crate-local function or method, with the connections held.
    LocalCall { key: CalleeKey, held: Vec<HeldRef> },
    /// A `loop` with no `break` or `return`, with the connections held on entry.
    EndlessLoop { held: Vec<HeldRef> },
    /// `tokio::spawn(worker(..))`-like: a crate-local function run as a background task.
    SpawnFn { key: CalleeKey },
    /// A tracked value (connection, transaction, pool, connection task) stops being this
    /// body's without being handed on: `maybe` when that is so on some paths only.
    Dropped {
        held: HeldRef,
        how: DropHow,
        maybe: bool,
    },
    /// A pool is built here, with the options set in code on the way.
    PoolBuilt {
        id: Option<u32>,
        pool: TypeId,
        builder: Option<TypeId>,
        settings: Vec<Setting>,
        /// What becomes of it: returned, stored, handed to a call, dropped.
        fate: Option<String>,
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
    pub args: Vec<Value>,
    /// The call (for methods: from the method name to the closing parenthesis), the `.await`,
    /// or the `loop` keyword.
    pub span: Span,
    pub def: Option<Resolved>,
    pub result: Value,
    pub ctx: Ctx,
}

impl Event {
    pub fn method(&self) -> Option<(&str, &Value)> {
        match &self.kind {
            EventKind::Method { method, recv } => Some((method, recv)),
            _ => None,
        }
    }
    pub fn role(&self) -> Option<Role> {
        self.def.as_ref().map(|d| d.role)
    }
}

/// One analysed body: a function or method (closures and async blocks inside it are part of it).
#[derive(Debug)]
pub struct Body {
    pub name: String,
    /// `main`, a test, or a start-up function (see `pool-per-call`): runs once.
    pub runs_once: bool,
    /// How other code calls it.
    pub key: CalleeKey,
    pub is_async: bool,
    pub events: Vec<Event>,
}

/// Analyses the bodies of one file.
pub fn analyse_file(idx: &CrateIndex, file: FileId, ast: &syn::File) -> Vec<Body> {
    analyse_file_in(idx, file, ast, None)
}

/// Analyses the bodies of one file whose source text is `text`: functions whose text names
/// nothing connection-related (no profile type or crate, no crate-local name that leads to a
/// connection) get only a light pass that records the crate-local functions they call, which is
/// all they can contribute.
pub fn analyse_file_in(
    idx: &CrateIndex,
    file: FileId,
    ast: &syn::File,
    text: Option<&str>,
) -> Vec<Body> {
    let mut finder = BodyFinder {
        idx,
        file,
        text,
        self_ty: None,
        in_test_mod: false,
        bodies: Vec::new(),
    };
    finder.visit_file(ast);
    finder.bodies
}

struct BodyFinder<'a> {
    idx: &'a CrateIndex,
    file: FileId,
    text: Option<&'a str>,
    self_ty: Option<String>,
    /// Inside a `#[cfg(test)]` module.
    in_test_mod: bool,
    bodies: Vec<Body>,
}

impl BodyFinder<'_> {
    /// How calls to this function are keyed.
    fn key(&self, sig: &syn::Signature) -> CalleeKey {
        let name = sig.ident.to_string();
        match &self.self_ty {
            Some(t) => CalleeKey::Method(t.clone(), name),
            None => self
                .idx
                .fn_key(&name, self.file)
                .unwrap_or(CalleeKey::Fn(name)),
        }
    }
}

/// The light pass: the crate-local functions a body calls, by path (`helper(..)`,
/// `db::load(..)`, `Type::f(..)`) or on `self`, as `LocalCall` events.
fn cold_calls(
    idx: &CrateIndex,
    file: FileId,
    self_ty: Option<&str>,
    block: &syn::Block,
) -> Vec<Event> {
    struct Calls<'a> {
        idx: &'a CrateIndex,
        file: FileId,
        self_ty: Option<&'a str>,
        out: Vec<Event>,
    }
    impl Calls<'_> {
        fn push(&mut self, key: CalleeKey, span: Span) {
            self.out.push(Event {
                kind: EventKind::LocalCall {
                    key,
                    held: Vec::new(),
                },
                args: Vec::new(),
                span,
                def: None,
                result: Value::default(),
                ctx: Ctx::default(),
            });
        }
    }
    impl<'ast> Visit<'ast> for Calls<'_> {
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if let syn::Expr::Path(p) = &*c.func {
                let segs = crate::index::path_strings(&p.path);
                let key = match segs.as_slice() {
                    [name] => self.idx.bare_fn_key(name, self.file),
                    [.., ty, name] if ty == "Self" => self
                        .self_ty
                        .filter(|t| self.idx.has_method(t, name))
                        .map(|t| CalleeKey::Method(t.to_string(), name.clone())),
                    [.., ty, name] if self.idx.has_method(ty, name) => {
                        Some(CalleeKey::Method(ty.clone(), name.clone()))
                    }
                    [.., module, name] => self.idx.fn_key_in(module, name),
                    [] => None,
                };
                if let Some(key) = key {
                    self.push(
                        key,
                        p.path
                            .segments
                            .last()
                            .map_or_else(Span::call_site, |s| s.ident.span()),
                    );
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if matches!(&*m.receiver, syn::Expr::Path(p) if p.path.is_ident("self")) {
                let name = m.method.to_string();
                if let Some(t) = self.self_ty.filter(|t| self.idx.has_method(t, &name)) {
                    self.push(CalleeKey::Method(t.to_string(), name), m.method.span());
                }
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        // Nested items are bodies of their own.
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut c = Calls {
        idx,
        file,
        self_ty,
        out: Vec::new(),
    };
    c.visit_block(block);
    c.out
}

/// Does a function run once per process (so building a pool in it is fine)? `main`, tests,
/// and start-up functions by name: init, setup, bootstrap, startup, migrate, seed.
fn runs_once(sig: &syn::Signature, attrs: &[syn::Attribute]) -> bool {
    let name = sig.ident.to_string().to_lowercase();
    let test_attr = attrs.iter().any(|a| {
        let p = a.path();
        p.segments.last().is_some_and(|s| {
            matches!(
                s.ident.to_string().as_str(),
                "test" | "main" | "rstest" | "bench"
            )
        })
    });
    // Whole words of the name, so `initiate_refund` is not start-up code.
    let startup = name.split('_').any(|w| {
        matches!(
            w,
            "init"
                | "initialize"
                | "initialise"
                | "setup"
                | "bootstrap"
                | "startup"
                | "migrate"
                | "migrations"
                | "seed"
        )
    });
    test_attr || name == "main" || startup
}

impl BodyFinder<'_> {
    /// Does this function name anything connection-related (its signature or body text, or the
    /// type it is a method of)?
    fn hot(&self, sig: &syn::Signature, block: &syn::Block) -> bool {
        let Some(text) = self.text else { return true };
        if self.self_ty.as_deref().is_some_and(|t| self.idx.is_hot(t)) {
            return true;
        }
        let range =
            sig.fn_token.span.byte_range().start..block.brace_token.span.close().byte_range().end;
        text.get(range).is_none_or(|t| self.idx.is_hot(t))
    }

    fn body(&mut self, sig: &syn::Signature, block: &syn::Block, attrs: &[syn::Attribute]) {
        if !self.hot(sig, block) {
            let key = self.key(sig);
            let events = cold_calls(self.idx, self.file, self.self_ty.as_deref(), block);
            self.bodies.push(Body {
                runs_once: runs_once(sig, attrs) || self.in_test_mod,
                name: sig.ident.to_string(),
                key,
                is_async: sig.asyncness.is_some(),
                events,
            });
            return;
        }
        let mut w = Walker::new(self.idx, self.file, self.self_ty.clone());
        w.ctx.in_async = sig.asyncness.is_some();
        w.params(sig);
        w.body_block(block);
        w.finish(block.brace_token.span.close());
        let name = sig.ident.to_string();
        let key = self.key(sig);
        self.bodies.push(Body {
            runs_once: runs_once(sig, attrs) || self.in_test_mod,
            name,
            key,
            is_async: sig.asyncness.is_some(),
            events: w.into_events(),
        });
    }
}

impl<'ast> Visit<'ast> for BodyFinder<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let saved = self.self_ty.take();
        self.body(&f.sig, &f.block, &f.attrs);
        // Items nested inside the body (fns, impls) are bodies of their own.
        syn::visit::visit_block(self, &f.block);
        self.self_ty = saved;
    }
    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let saved = self.self_ty.take();
        if let syn::Type::Path(p) = &*i.self_ty {
            self.self_ty = p.path.segments.last().map(|s| s.ident.to_string());
        }
        syn::visit::visit_item_impl(self, i);
        self.self_ty = saved;
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.body(&f.sig, &f.block, &f.attrs);
        syn::visit::visit_block(self, &f.block);
    }
    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        let saved = self.self_ty.replace(t.ident.to_string());
        syn::visit::visit_item_trait(self, t);
        self.self_ty = saved;
    }
    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(b) = &f.default {
            self.body(&f.sig, b, &f.attrs);
            syn::visit::visit_block(self, b);
        }
    }
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let test = m.attrs.iter().any(|a| {
            a.path().is_ident("cfg")
                && quote::ToTokens::to_token_stream(&a.meta)
                    .to_string()
                    .contains("test")
        });
        let saved = self.in_test_mod;
        self.in_test_mod |= test;
        syn::visit::visit_item_mod(self, m);
        self.in_test_mod = saved;
    }
    fn visit_item_macro(&mut self, m: &'ast syn::ItemMacro) {
        for item in crate::index::macro_items(&m.mac) {
            self.visit_item(&item);
        }
    }
    // Expressions are the walker's business; the finder only looks for items inside them.
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        struct Items<'b, 'c>(&'b mut BodyFinder<'c>);
        impl<'ast> Visit<'ast> for Items<'_, '_> {
            fn visit_item(&mut self, i: &'ast syn::Item) {
                self.0.visit_item(i);
            }
        }
        Items(self).visit_expr(e);
    }
}
