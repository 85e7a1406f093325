//! Walks every function body, closure and async block in evaluation order with an environment
//! of typed bindings, and records what happens to connection-relevant values as events. Rules
//! are small functions over these events.

use crate::index::{path_strings, CrateIndex, FileId, TRANSPARENT};
use crate::profile::{CallDef, Kind, Role, TypeId};
use crate::types::{Held, Ty};
use proc_macro2::Span;
use quote::quote;
use std::collections::HashMap;
use syn::spanned::Spanned;
use syn::visit::Visit;

/// Where a value sits, for rules that care whether it is long-lived.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Place {
    #[default]
    Temp,
    /// A local binding (or parameter).
    Local(String),
    /// A field of something (`self.conns`, `state.db`); `on_self` when rooted at `self`.
    Field { on_self: bool, field: String },
    /// A `static` item.
    Static(String),
}

/// A value as the walker sees it: its type, where a connection in it came from, where it sits.
#[derive(Debug, Clone, Default)]
pub struct Value {
    pub ty: Ty,
    /// The acquisition (or parameter) that produced the connection this value carries.
    pub origin: Option<Span>,
    pub place: Place,
}

impl Value {
    fn of(ty: Ty) -> Value {
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
}

/// What the profiles say a call does.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub role: Role,
    /// The library type the call is made on (methods) or through (`Object::take`).
    pub on: Option<TypeId>,
    pub effect: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub enum EventKind {
    /// `path(args)`: a free or associated function, or a tuple-struct constructor.
    Call { path: Vec<String>, local_fn: bool },
    /// `recv.method(args)`.
    Method { method: String, recv: Value },
}

#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub args: Vec<Value>,
    /// The call (for methods: from the method name to the closing parenthesis).
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
    pub fn path(&self) -> Option<&[String]> {
        match &self.kind {
            EventKind::Call { path, .. } => Some(path),
            _ => None,
        }
    }
    pub fn role(&self) -> Option<Role> {
        self.def.as_ref().map(|d| d.role)
    }
}

/// One analysed body: a function, method, or closure/async block inside a static initializer.
#[derive(Debug)]
pub struct Body {
    pub name: String,
    pub is_async: bool,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone)]
struct Binding {
    ty: Ty,
    origin: Option<Span>,
}

/// Methods that give back the receiver's own value (or a reference to it).
const IDENTITY_METHODS: &[&str] = &[
    "clone",
    "to_owned",
    "as_ref",
    "as_mut",
    "deref",
    "deref_mut",
    "borrow",
    "borrow_mut",
    "by_ref",
    "as_deref",
    "as_deref_mut",
    "get_ref",
    "get_mut",
    "into",
];
/// Lock methods: give a guard of the inner value (sync ones wrapped in a `Result`).
const LOCK_METHODS: &[&str] = &[
    "lock",
    "read",
    "write",
    "try_lock",
    "try_read",
    "try_write",
    "blocking_lock",
];
/// `Result`/`Option` methods that give the success value.
const UNWRAP_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_or_default",
    "unwrap_unchecked",
    "unwrap_or_else",
    "unwrap_or",
    "expect_throw",
];
/// `Result`/`Option` methods that keep the success value inside.
const KEEP_FALLIBLE: &[&str] = &[
    "ok",
    "ok_or",
    "ok_or_else",
    "map_err",
    "context",
    "with_context",
    "wrap_err",
    "wrap_err_with",
    "err_into",
    "inspect",
    "inspect_err",
    "as_ref",
    "as_mut",
    "take",
    "change_context",
    "attach_printable",
    "or_else",
    "or",
    "replace",
    "transpose",
];
/// Iterator adapters whose closure runs once per element.
const ITER_ADAPTERS: &[&str] = &[
    "map",
    "filter_map",
    "flat_map",
    "for_each",
    "then",
    "and_then",
    "try_for_each",
    "fold",
    "try_fold",
    "map_ok",
    "scan",
    "inspect",
    "filter",
    "take_while",
    "skip_while",
    "any",
    "all",
    "find_map",
    "for_each_concurrent",
    "try_for_each_concurrent",
    "buffer_unordered",
];
const ITER_SOURCES: &[&str] = &[
    "iter",
    "into_iter",
    "iter_mut",
    "drain",
    "values",
    "values_mut",
    "into_values",
    "chunks",
];
const COLLECTORS: &[&str] = &["collect", "try_collect"];
const JOINERS: &[&str] = &["join_all", "try_join_all", "join", "try_join"];

/// Analyses the bodies of one file.
pub fn analyse_file(idx: &CrateIndex, file: FileId, ast: &syn::File) -> Vec<Body> {
    let mut finder = BodyFinder {
        idx,
        file,
        self_ty: None,
        bodies: Vec::new(),
    };
    finder.visit_file(ast);
    finder.bodies
}

struct BodyFinder<'a> {
    idx: &'a CrateIndex,
    file: FileId,
    self_ty: Option<String>,
    bodies: Vec<Body>,
}

impl BodyFinder<'_> {
    fn body(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let mut w = Walker::new(self.idx, self.file, self.self_ty.clone());
        w.ctx.in_async = sig.asyncness.is_some();
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(r) => {
                    if let Some(s) = &self.self_ty {
                        w.define("self", Ty::Local(s.clone()), Some(r.self_token.span));
                    }
                }
                syn::FnArg::Typed(pt) => {
                    let ty = self.idx.resolve(self.file, &pt.ty, self.self_ty.as_deref());
                    let origin = Some(pt.pat.span());
                    w.bind(&pt.pat, ty, origin);
                }
            }
        }
        w.block(block);
        self.bodies.push(Body {
            name: sig.ident.to_string(),
            is_async: sig.asyncness.is_some(),
            events: w.events,
        });
    }
}

impl<'ast> Visit<'ast> for BodyFinder<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let saved = self.self_ty.take();
        self.body(&f.sig, &f.block);
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
        self.body(&f.sig, &f.block);
        syn::visit::visit_block(self, &f.block);
    }
    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        let saved = self.self_ty.replace(t.ident.to_string());
        syn::visit::visit_item_trait(self, t);
        self.self_ty = saved;
    }
    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(b) = &f.default {
            self.body(&f.sig, b);
            syn::visit::visit_block(self, b);
        }
    }
    // Expressions are the walker's business; the finder only looks for items.
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

/// The evaluation-order walker of one body.
pub struct Walker<'a> {
    idx: &'a CrateIndex,
    file: FileId,
    self_ty: Option<String>,
    scopes: Vec<HashMap<String, Binding>>,
    pub ctx: Ctx,
    pub events: Vec<Event>,
}

impl<'a> Walker<'a> {
    pub fn new(idx: &'a CrateIndex, file: FileId, self_ty: Option<String>) -> Walker<'a> {
        Walker {
            idx,
            file,
            self_ty,
            scopes: vec![HashMap::new()],
            ctx: Ctx::default(),
            events: Vec::new(),
        }
    }

    fn define(&mut self, name: &str, ty: Ty, origin: Option<Span>) {
        let origin = if self.idx.held_in(&ty).is_some() {
            origin
        } else {
            None
        };
        self.scopes
            .last_mut()
            .expect("a scope is always open")
            .insert(name.to_string(), Binding { ty, origin });
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn resolve_ty(&self, ty: &syn::Type) -> Ty {
        self.idx.resolve(self.file, ty, self.self_ty.as_deref())
    }

    /// Binds the names of a pattern to the parts of a value of type `ty`.
    pub fn bind(&mut self, pat: &syn::Pat, ty: Ty, origin: Option<Span>) {
        match pat {
            syn::Pat::Ident(p) => {
                if let Some((_, sub)) = &p.subpat {
                    self.bind(sub, ty.clone(), origin);
                }
                self.define(&p.ident.to_string(), ty, origin);
            }
            syn::Pat::Type(pt) => {
                let declared = self.resolve_ty(&pt.ty);
                let ty = if declared.is_unknown() { ty } else { declared };
                self.bind(&pt.pat, ty, origin);
            }
            syn::Pat::Reference(r) => self.bind(&r.pat, ty, origin),
            syn::Pat::Paren(p) => self.bind(&p.pat, ty, origin),
            syn::Pat::Guard(g) => self.bind(&g.pat, ty, origin),
            syn::Pat::Or(o) => {
                for case in &o.cases {
                    self.bind(case, ty.clone(), origin);
                }
            }
            syn::Pat::Tuple(t) => {
                for (i, elem) in t.elems.iter().enumerate() {
                    let part = match &ty {
                        Ty::Tuple(ts) => ts.get(i).cloned().unwrap_or_default(),
                        _ => Ty::Unknown,
                    };
                    self.bind(elem, part, origin);
                }
            }
            syn::Pat::TupleStruct(ts) => {
                let name = ts
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                for (i, elem) in ts.elems.iter().enumerate() {
                    let part = match (name.as_str(), &ty) {
                        ("Some" | "Ok", t) => t.clone().unwrap_fallible(),
                        ("Err" | "None", _) => Ty::Unknown,
                        // Extractor patterns (`State(s)`, `Data(d)`): the wrapper is transparent.
                        (n, t) if TRANSPARENT.contains(&n) => t.clone(),
                        (_, Ty::Local(owner)) => self
                            .idx
                            .field(owner, &i.to_string())
                            .cloned()
                            .unwrap_or_default(),
                        _ => Ty::Unknown,
                    };
                    self.bind(elem, part, origin);
                }
            }
            syn::Pat::Struct(s) => {
                for fp in &s.fields {
                    let field = match &fp.member {
                        syn::Member::Named(n) => n.to_string(),
                        syn::Member::Unnamed(i) => i.index.to_string(),
                    };
                    let part = match &ty {
                        Ty::Local(owner) => {
                            self.idx.field(owner, &field).cloned().unwrap_or_default()
                        }
                        _ => Ty::Unknown,
                    };
                    self.bind(&fp.pat, part, origin);
                }
            }
            syn::Pat::Slice(s) => {
                let elem = ty.element().cloned().unwrap_or_default();
                for p in &s.elems {
                    self.bind(p, elem.clone(), origin);
                }
            }
            _ => {}
        }
    }

    pub fn block(&mut self, b: &syn::Block) -> Value {
        self.scopes.push(HashMap::new());
        let mut last = Value::default();
        for (i, stmt) in b.stmts.iter().enumerate() {
            let v = self.stmt(stmt);
            if i + 1 == b.stmts.len() {
                last = v;
            }
        }
        self.scopes.pop();
        last
    }

    fn stmt(&mut self, s: &syn::Stmt) -> Value {
        match s {
            syn::Stmt::Local(l) => {
                let (ty, origin) = match &l.init {
                    Some(init) => {
                        let v = self.expr(&init.expr);
                        if let Some((_, diverge)) = &init.diverge {
                            self.expr(diverge);
                        }
                        let ty = match &l.pat {
                            // `let Some(c) = .. else` / `let Ok(c) = .. else` unwrap the value.
                            syn::Pat::TupleStruct(_) => v.ty,
                            _ => v.ty,
                        };
                        (ty, v.origin)
                    }
                    None => (Ty::Unknown, None),
                };
                self.bind(&l.pat, ty, origin);
                Value::default()
            }
            syn::Stmt::Expr(e, semi) => {
                let v = self.expr(e);
                if semi.is_some() {
                    Value::default()
                } else {
                    v
                }
            }
            syn::Stmt::Macro(m) => {
                self.mac(&m.mac);
                Value::default()
            }
            syn::Stmt::Item(_) => Value::default(),
        }
    }

    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(HashMap::new());
        let out = f(self);
        self.scopes.pop();
        out
    }

    fn in_loop<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.ctx.loop_depth += 1;
        let out = self.scoped(f);
        self.ctx.loop_depth -= 1;
        out
    }

    /// Walks an expression in evaluation order and returns the value it produces.
    pub fn expr(&mut self, e: &syn::Expr) -> Value {
        match e {
            syn::Expr::Path(p) => self.path_expr(p),
            syn::Expr::Field(f) => {
                let base = self.expr(&f.base);
                let field = match &f.member {
                    syn::Member::Named(n) => n.to_string(),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                };
                let on_self = matches!(&*f.base, syn::Expr::Path(p) if p.path.is_ident("self"))
                    || matches!(base.place, Place::Field { on_self: true, .. });
                let ty = match base.ty.settled() {
                    Ty::Local(owner) => self.idx.field(owner, &field).cloned().unwrap_or_default(),
                    Ty::Tuple(ts) => field
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| ts.get(i).cloned())
                        .unwrap_or_default(),
                    _ => Ty::Unknown,
                };
                Value {
                    origin: if self.idx.held_in(&ty).is_some() {
                        base.origin
                    } else {
                        None
                    },
                    ty,
                    place: Place::Field { on_self, field },
                }
            }
            syn::Expr::MethodCall(mc) => self.method_call(mc),
            syn::Expr::Call(c) => self.call(c),
            syn::Expr::Await(a) => {
                let v = self.expr(&a.base);
                Value {
                    ty: v.ty.awaited(),
                    origin: v.origin,
                    place: v.place,
                }
            }
            syn::Expr::Try(t) => {
                let v = self.expr(&t.expr);
                Value {
                    ty: v.ty.unwrap_fallible(),
                    origin: v.origin,
                    place: v.place,
                }
            }
            syn::Expr::Paren(p) => self.expr(&p.expr),
            syn::Expr::Group(g) => self.expr(&g.expr),
            syn::Expr::Reference(r) => self.expr(&r.expr),
            syn::Expr::Unary(u) => {
                let v = self.expr(&u.expr);
                if matches!(u.op, syn::UnOp::Deref(_)) {
                    v
                } else {
                    Value::default()
                }
            }
            syn::Expr::Block(b) => {
                if b.label.is_some() {
                    self.in_loop(|w| w.block(&b.block))
                } else {
                    self.block(&b.block)
                }
            }
            syn::Expr::Unsafe(u) => self.block(&u.block),
            syn::Expr::Const(c) => self.block(&c.block),
            syn::Expr::TryBlock(t) => {
                let v = self.block(&t.block);
                Value::of(Ty::fallible(v.ty))
            }
            syn::Expr::Async(a) => {
                let saved = self.ctx.in_async;
                self.ctx.in_async = true;
                let v = self.block(&a.block);
                self.ctx.in_async = saved;
                Value {
                    ty: Ty::future(v.ty),
                    origin: v.origin,
                    place: Place::Temp,
                }
            }
            syn::Expr::Closure(c) => {
                let v = self.closure(c, false);
                // A closure value is not itself a connection; what it returns is reported by
                // the call that runs it (iterator adapters, `get_or_init`).
                Value {
                    ty: Ty::Unknown,
                    origin: v.origin,
                    place: Place::Temp,
                }
            }
            syn::Expr::If(i) => {
                self.expr(&i.cond);
                let then = self.scoped(|w| w.block(&i.then_branch));
                let other = i.else_branch.as_ref().map(|(_, e)| self.expr(e));
                if then.ty.is_unknown() {
                    other.unwrap_or_default()
                } else {
                    then
                }
            }
            syn::Expr::Let(l) => {
                let v = self.expr(&l.expr);
                self.bind(&l.pat, v.ty, v.origin);
                Value::default()
            }
            syn::Expr::Match(m) => {
                let scrut = self.expr(&m.expr);
                let mut out = Value::default();
                for arm in &m.arms {
                    let v = self.scoped(|w| {
                        w.bind(&arm.pat, scrut.ty.clone(), scrut.origin);
                        if let syn::Pat::Guard(g) = &arm.pat {
                            w.expr(&g.guard);
                        }
                        w.expr(&arm.body)
                    });
                    if out.ty.is_unknown() {
                        out = v;
                    }
                }
                out
            }
            syn::Expr::ForLoop(f) => {
                let it = self.expr(&f.expr);
                let elem = it.ty.element().cloned().unwrap_or_default();
                self.in_loop(|w| {
                    w.bind(&f.pat, elem, it.origin);
                    w.block(&f.body);
                });
                Value::default()
            }
            syn::Expr::While(wl) => {
                self.in_loop(|w| {
                    w.expr(&wl.cond);
                    w.block(&wl.body);
                });
                Value::default()
            }
            syn::Expr::Loop(l) => {
                self.in_loop(|w| w.block(&l.body));
                Value::default()
            }
            syn::Expr::Assign(a) => {
                self.expr(&a.right);
                self.expr(&a.left);
                Value::default()
            }
            syn::Expr::Binary(b) => {
                self.expr(&b.left);
                self.expr(&b.right);
                Value::default()
            }
            syn::Expr::Index(i) => {
                let base = self.expr(&i.expr);
                self.expr(&i.index);
                let ty = base.ty.element().cloned().unwrap_or_default();
                Value {
                    origin: base.origin,
                    ty,
                    place: base.place,
                }
            }
            syn::Expr::Tuple(t) => {
                let vals: Vec<Value> = t.elems.iter().map(|e| self.expr(e)).collect();
                let origin = vals.iter().find_map(|v| v.origin);
                let tys: Vec<Ty> = vals.into_iter().map(|v| v.ty).collect();
                if tys.iter().all(Ty::is_unknown) {
                    Value::default()
                } else {
                    Value {
                        ty: Ty::Tuple(tys),
                        origin,
                        place: Place::Temp,
                    }
                }
            }
            syn::Expr::Array(a) => {
                let vals: Vec<Value> = a.elems.iter().map(|e| self.expr(e)).collect();
                collection_of(vals)
            }
            syn::Expr::Repeat(r) => {
                let v = self.expr(&r.expr);
                self.expr(&r.len);
                collection_of(vec![v])
            }
            syn::Expr::Struct(s) => {
                for f in &s.fields {
                    self.expr(&f.expr);
                }
                if let Some(rest) = &s.rest {
                    self.expr(rest);
                }
                let segs = path_strings(&s.path);
                Value::of(
                    self.idx
                        .resolve_path(self.file, &segs, self.self_ty.as_deref()),
                )
            }
            syn::Expr::Cast(c) => {
                self.expr(&c.expr);
                Value::default()
            }
            syn::Expr::Range(r) => {
                if let Some(s) = &r.start {
                    self.expr(s);
                }
                if let Some(e) = &r.end {
                    self.expr(e);
                }
                Value::of(Ty::iter(Ty::Unknown))
            }
            syn::Expr::Return(r) => {
                if let Some(e) = &r.expr {
                    self.expr(e);
                }
                Value::default()
            }
            syn::Expr::Break(b) => {
                if let Some(e) = &b.expr {
                    self.expr(e);
                }
                Value::default()
            }
            syn::Expr::Yield(y) => {
                if let Some(e) = &y.expr {
                    self.expr(e);
                }
                Value::default()
            }
            syn::Expr::Macro(m) => self.mac(&m.mac),
            syn::Expr::RawAddr(r) => {
                self.expr(&r.expr);
                Value::default()
            }
            _ => Value::default(),
        }
    }

    fn path_expr(&mut self, p: &syn::ExprPath) -> Value {
        if p.qself.is_none() && p.path.segments.len() == 1 {
            let name = p.path.segments[0].ident.to_string();
            if let Some(b) = self.lookup(&name) {
                return Value {
                    ty: b.ty.clone(),
                    origin: b.origin,
                    place: Place::Local(name),
                };
            }
            if let Some(t) = self.idx.static_type(&name) {
                return Value {
                    ty: t.clone(),
                    origin: None,
                    place: Place::Static(name),
                };
            }
        }
        Value::default()
    }

    /// Walks a closure body in its own scope and returns what it evaluates to.
    fn closure(&mut self, c: &syn::ExprClosure, per_item: bool) -> Value {
        let saved = self.ctx;
        if c.asyncness.is_some() {
            self.ctx.in_async = true;
        }
        if per_item {
            self.ctx.loop_depth += 1;
        }
        let v = self.scoped(|w| {
            for input in &c.inputs {
                w.bind(input, Ty::Unknown, None);
            }
            w.expr(&c.body)
        });
        self.ctx = saved;
        if c.asyncness.is_some() {
            Value {
                ty: Ty::future(v.ty),
                ..v
            }
        } else {
            v
        }
    }

    fn args(
        &mut self,
        args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>,
        per_item: bool,
    ) -> (Vec<Value>, Option<Value>) {
        let mut vals = Vec::with_capacity(args.len());
        let mut closure_ret = None;
        for a in args {
            if let syn::Expr::Closure(c) = a {
                let r = self.closure(c, per_item);
                closure_ret = Some(r);
                vals.push(Value::default());
            } else {
                vals.push(self.expr(a));
            }
        }
        (vals, closure_ret)
    }

    fn method_call(&mut self, mc: &syn::ExprMethodCall) -> Value {
        let recv = self.expr(&mc.receiver);
        let method = mc.method.to_string();
        let per_item = ITER_ADAPTERS.contains(&method.as_str())
            && matches!(recv.ty, Ty::Iter(_) | Ty::Collection(_) | Ty::Unknown);
        let (args, closure_ret) = self.args(&mc.args, per_item);
        let span = mc
            .method
            .span()
            .join(mc.paren_token.span.close())
            .unwrap_or_else(|| mc.method.span());
        let (ty, def) = self.method_type(&recv.ty, &method, closure_ret.as_ref());
        let produces = def.as_ref().is_some_and(|d| {
            matches!(
                d.role,
                Role::Acquire | Role::Begin | Role::Connect | Role::Detach
            )
        });
        let origin = if self.idx.held_in(&ty).is_none() {
            None
        } else if produces || recv.origin.is_none() {
            Some(span)
        } else {
            recv.origin
        };
        let origin = origin.or_else(|| closure_ret.as_ref().and_then(|c| c.origin));
        // Locks, unwraps and borrows reach the same place (`state.map.lock().unwrap()`).
        let same_place = def.is_none()
            && [
                IDENTITY_METHODS,
                LOCK_METHODS,
                UNWRAP_METHODS,
                KEEP_FALLIBLE,
                &["get_or_init", "entry", "or_default", "or_insert_with"],
            ]
            .iter()
            .any(|list| list.contains(&method.as_str()));
        let result = Value {
            ty,
            origin,
            place: if same_place {
                recv.place.clone()
            } else {
                Place::Temp
            },
        };
        self.events.push(Event {
            kind: EventKind::Method { method, recv },
            args,
            span,
            def,
            result: result.clone(),
            ctx: self.ctx,
        });
        result
    }

    /// The type a method call gives, and what the profiles say about it.
    fn method_type(
        &self,
        recv: &Ty,
        method: &str,
        closure_ret: Option<&Value>,
    ) -> (Ty, Option<Resolved>) {
        let m = method;
        match recv {
            Ty::Fallible(inner) => {
                if UNWRAP_METHODS.contains(&m) {
                    return ((**inner).clone(), None);
                }
                if KEEP_FALLIBLE.contains(&m) {
                    return (recv.clone(), None);
                }
                if m == "map" || m == "and_then" {
                    let r = closure_ret.map(|v| v.ty.clone()).unwrap_or_default();
                    return (Ty::fallible(r.unwrap_fallible()), None);
                }
                // Auto-deref through `Option<&T>`-like receivers is not Rust, but `as_ref()`
                // chains are elided often enough in practice to look through.
                self.method_type(inner, m, closure_ret)
            }
            Ty::Db(id) => {
                if let Some(def) = self.idx.knowledge.method(*id, m) {
                    let ty = self.call_result(CallDef::Method(def), Some(*id));
                    let resolved = Resolved {
                        role: def.role,
                        on: Some(*id),
                        effect: def.effect.clone(),
                        note: def.note.clone(),
                    };
                    return (ty, Some(resolved));
                }
                self.generic_method(recv, m)
            }
            Ty::Local(owner) => {
                if let Some(t) = self.idx.method_return(owner, m) {
                    return (t.clone(), None);
                }
                self.generic_method(recv, m)
            }
            Ty::Cell(inner) => match m {
                "get" | "take" | "into_inner" | "get_mut" => {
                    (Ty::fallible((**inner).clone()), None)
                }
                "get_or_init" | "get_unchecked" | "wait" | "force" => ((**inner).clone(), None),
                "get_or_try_init" => (Ty::fallible((**inner).clone()), None),
                _ => (Ty::Unknown, None),
            },
            Ty::Collection(elem) => match m {
                _ if ITER_SOURCES.contains(&m) => (Ty::iter((**elem).clone()), None),
                "get" | "get_mut" | "remove" | "pop" | "pop_front" | "pop_back" | "first"
                | "last" | "swap_remove" => (Ty::fallible((**elem).clone()), None),
                _ => self.generic_method(recv, m),
            },
            Ty::Iter(elem) => match m {
                _ if COLLECTORS.contains(&m) => (Ty::collection((**elem).clone()), None),
                "map" | "then" | "filter_map" | "flat_map" | "map_ok" => {
                    let r = closure_ret.map(|v| v.ty.clone()).unwrap_or_default();
                    let r = if m == "filter_map" {
                        r.unwrap_fallible()
                    } else {
                        r
                    };
                    (Ty::iter(r), None)
                }
                "next" | "last" | "nth" | "find" | "max" | "min" => {
                    (Ty::fallible((**elem).clone()), None)
                }
                "filter" | "take" | "skip" | "rev" | "chain" | "peekable" | "fuse" | "by_ref"
                | "buffer_unordered" | "buffered" | "inspect" => (recv.clone(), None),
                _ => (Ty::Unknown, None),
            },
            Ty::Unknown => match m {
                _ if ITER_SOURCES.contains(&m) => (Ty::iter(Ty::Unknown), None),
                "map" | "then" | "filter_map" => {
                    let r = closure_ret.map(|v| v.ty.clone()).unwrap_or_default();
                    if r.is_unknown() {
                        (Ty::Unknown, None)
                    } else {
                        (Ty::iter(r), None)
                    }
                }
                _ => (Ty::Unknown, None),
            },
            _ => self.generic_method(recv, m),
        }
    }

    fn generic_method(&self, recv: &Ty, m: &str) -> (Ty, Option<Resolved>) {
        if IDENTITY_METHODS.contains(&m) {
            (recv.clone(), None)
        } else if LOCK_METHODS.contains(&m) {
            (Ty::fallible(recv.clone()), None)
        } else {
            (Ty::Unknown, None)
        }
    }

    /// The type a profile call produces (wrapped in a future and result as the profile says).
    fn call_result(&self, def: CallDef<'_>, on: Option<TypeId>) -> Ty {
        let (returns, tuple, is_async, fallible) = def.returns();
        let k = self.idx.knowledge;
        let named = |name: &str| -> Ty {
            if name == "Self" {
                return on.map_or(Ty::Unknown, Ty::Db);
            }
            let profile = on.map(|t| t.profile);
            profile
                .and_then(|p| k.type_in_profile(p, name))
                .map_or(Ty::Unknown, Ty::Db)
        };
        let mut ty = if !tuple.is_empty() {
            Ty::Tuple(tuple.iter().map(|n| named(n)).collect())
        } else {
            returns.map_or(Ty::Unknown, named)
        };
        if fallible {
            ty = Ty::fallible(ty);
        }
        if is_async {
            ty = Ty::future(ty);
        }
        ty
    }

    fn call(&mut self, c: &syn::ExprCall) -> Value {
        let path = match &*c.func {
            syn::Expr::Path(p) if p.qself.is_none() => Some(path_strings(&p.path)),
            _ => None,
        };
        let Some(path) = path else {
            self.expr(&c.func);
            let (args, _) = self.args(&c.args, false);
            drop(args);
            return Value::default();
        };
        // A closure passed to a joiner or `Lazy::new` runs once; iterator helpers take
        // iterators, not closures, so no call here is per item.
        let (args, closure_ret) = self.args(&c.args, false);
        let span = c.span();
        let full = self.idx.scopes[self.file].expand(&path);
        let last = full.last().cloned().unwrap_or_default();
        let first_arg = args.first().cloned().unwrap_or_default();
        let mut def = None;
        let mut local_fn = false;
        let ty = match last.as_str() {
            // Wrappers and constructors that keep the value they are given.
            "new" | "pin" | "from" if full.len() >= 2 && is_wrapper_ctor(&full[full.len() - 2]) => {
                if full[full.len() - 2] == "OnceLock" || full[full.len() - 2] == "OnceCell" {
                    Ty::Unknown
                } else {
                    first_arg.ty.clone()
                }
            }
            "Some" | "Ok" if full.len() == 1 => Ty::fallible(first_arg.ty.clone()),
            "drop" | "forget" if full.len() <= 3 => Ty::Unknown,
            _ if JOINERS.contains(&last.as_str()) => {
                // `join_all(iter of futures)` gives a collection of their outputs.
                match first_arg.ty.element() {
                    Some(Ty::Future(out)) => Ty::future(Ty::collection((**out).clone())),
                    _ => Ty::Unknown,
                }
            }
            _ if full.len() == 1
                && self.lookup(&last).is_none()
                && self.idx.fn_return(&last).is_some() =>
            {
                local_fn = true;
                self.idx.fn_return(&last).cloned().unwrap_or_default()
            }
            _ => {
                let (ty, resolved, is_local) = self.path_call_type(&full);
                def = resolved;
                local_fn = is_local;
                ty
            }
        };
        let ty = match (&ty, closure_ret) {
            (Ty::Unknown, Some(r))
                if matches!(
                    last.as_str(),
                    "new" | "get_or_init" | "spawn_blocking" | "block"
                ) =>
            {
                r.ty
            }
            _ => ty,
        };
        let produces = def
            .as_ref()
            .is_some_and(|d| matches!(d.role, Role::Acquire | Role::Begin | Role::Connect));
        let origin = if self.idx.held_in(&ty).is_none() {
            None
        } else if produces || local_fn || first_arg.origin.is_none() {
            Some(span)
        } else {
            first_arg.origin
        };
        let result = Value {
            ty,
            origin,
            place: Place::Temp,
        };
        self.events.push(Event {
            kind: EventKind::Call {
                path: full,
                local_fn,
            },
            args,
            span,
            def,
            result: result.clone(),
            ctx: self.ctx,
        });
        result
    }

    /// `Type::function(..)`, `crate_root::function(..)`, `module::local_fn(..)`, `Tuple(..)`.
    fn path_call_type(&self, full: &[String]) -> (Ty, Option<Resolved>, bool) {
        let Some((name, prefix)) = full.split_last() else {
            return (Ty::Unknown, None, false);
        };
        let k = self.idx.knowledge;
        if prefix.is_empty() {
            // A tuple-struct constructor (`DbConn(conn)`).
            if self.idx.is_local_type(name) {
                return (Ty::Local(name.clone()), None, false);
            }
            return (Ty::Unknown, None, false);
        }
        let owner = self
            .idx
            .resolve_path(self.file, prefix, self.self_ty.as_deref());
        match owner {
            Ty::Db(id) => {
                let tname = &k.ty(id).name;
                if let Some(f) = k.function(id.profile, tname, name) {
                    let ty = self.call_result(CallDef::Function(f), Some(id));
                    let r = Resolved {
                        role: f.role,
                        on: Some(id),
                        effect: f.effect.clone(),
                        note: f.note.clone(),
                    };
                    return (ty, Some(r), false);
                }
                (Ty::Unknown, None, false)
            }
            Ty::Local(owner) => {
                let t = self
                    .idx
                    .method_return(&owner, name)
                    .cloned()
                    .unwrap_or_default();
                let local = !t.is_unknown();
                (t, None, local)
            }
            _ => {
                // `tokio_postgres::connect(..)`: a function at a crate root.
                let root = &prefix[0];
                for &p in k.profiles_for_root(root) {
                    let pre = prefix.last().expect("non-empty");
                    if let Some(f) = k.function(p, pre, name) {
                        let anchor = k.profiles[p as usize].types.first().map(|_| TypeId {
                            profile: p,
                            index: 0,
                        });
                        let ty = self.call_result(CallDef::Function(f), anchor);
                        let r = Resolved {
                            role: f.role,
                            on: None,
                            effect: f.effect.clone(),
                            note: f.note.clone(),
                        };
                        return (ty, Some(r), false);
                    }
                }
                // `crate::db::get_conn(..)`, `db::get_conn(..)`.
                if let Some(t) = self.idx.fn_return(name) {
                    return (t.clone(), None, true);
                }
                (Ty::Unknown, None, false)
            }
        }
    }

    /// Macro arguments are code: parse them as a list of expressions where they parse.
    fn mac(&mut self, m: &syn::Macro) -> Value {
        let name = m
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let tokens = &m.tokens;
        let parsed: Option<syn::Expr> = syn::parse2(quote!([#tokens])).ok();
        match parsed {
            Some(syn::Expr::Array(a)) => {
                let vals: Vec<Value> = a.elems.iter().map(|e| self.expr(e)).collect();
                if name == "vec" {
                    collection_of(vals)
                } else {
                    Value::default()
                }
            }
            Some(syn::Expr::Repeat(r)) => {
                let v = self.expr(&r.expr);
                self.expr(&r.len);
                if name == "vec" {
                    collection_of(vec![v])
                } else {
                    Value::default()
                }
            }
            _ => {
                // `select!`-style bodies: walk each block-like group that parses.
                if let Ok(block) = syn::parse2::<syn::Block>(quote!({ #tokens })) {
                    self.block(&block);
                }
                Value::default()
            }
        }
    }

    /// The held connection of a value, if any.
    pub fn held(&self, v: &Value) -> Option<Held> {
        self.idx.kind_of(&v.ty)
    }
}

fn collection_of(vals: Vec<Value>) -> Value {
    let origin = vals.iter().find_map(|v| v.origin);
    let elem = vals
        .into_iter()
        .map(|v| v.ty)
        .find(|t| !t.is_unknown())
        .unwrap_or_default();
    Value {
        ty: Ty::collection(elem),
        origin,
        place: Place::Temp,
    }
}

fn is_wrapper_ctor(name: &str) -> bool {
    matches!(
        name,
        "Box"
            | "Arc"
            | "Rc"
            | "Mutex"
            | "RwLock"
            | "RefCell"
            | "Cell"
            | "ManuallyDrop"
            | "Pin"
            | "Lazy"
            | "LazyLock"
            | "OnceLock"
            | "OnceCell"
            | "AssertUnwindSafe"
    )
}

/// Is this a kind whose loss the escape rules care about?
pub fn is_connection(kind: Kind) -> bool {
    kind.holds_connection()
}
