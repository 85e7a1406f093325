//! Items: `use`s, types, functions and their bodies, impls, traits, statics, and the line
//! regions baselines and the test-code setting need.

use super::Lowerer;
use crate::model::{
    visit, Attrs, BlockId, Const, EnumDef, Expr, FieldDef, FnDef, FnSig, Generic, ImplDef, Item,
    MacroRules, Param, ParamKind, Region, Span, StaticDecl, StaticVia, StructDef, TraitDef,
    TypeAlias,
};
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::sync::Arc;
use syn::parse::{ParseStream, Parser};

/// Where an item sits: at item level (the crate index sees it), or inside a function body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Items,
    /// Expanded from an item macro (`cfg_if!`): indexed, but its statics are not among the
    /// file's declared statics (their tokens were never items to the parser).
    MacroItems,
    Nested,
}

impl Lowerer<'_> {
    pub(crate) fn file(&mut self, f: &syn::File) {
        for item in &f.items {
            self.item(item, Level::Items);
        }
        self.regions(&f.items);
    }

    /// An item inside a body (`fn` in `fn`, a local `static`).
    pub(crate) fn nested_item(&mut self, item: &syn::Item) {
        self.item(item, Level::Nested);
    }

    fn item(&mut self, item: &syn::Item, level: Level) {
        let indexed = level != Level::Nested;
        match item {
            syn::Item::Use(u) if level == Level::Items => {
                self.use_tree(&mut Vec::new(), &u.tree);
            }
            syn::Item::ExternCrate(e) if level == Level::Items => {
                let alias = e.rename.as_ref().map(|(_, i)| i.to_string());
                Arc::make_mut(&mut self.m.scope).add_extern_crate(e.ident.to_string(), alias);
            }
            syn::Item::Type(t) if indexed => {
                let name = self.ident(&t.ident);
                let ty = self.ty(&t.ty);
                let module = self.module;
                self.m
                    .items
                    .push(Item::Alias(TypeAlias { name, ty, module }));
            }
            syn::Item::Struct(s) if indexed => {
                let name = self.ident(&s.ident);
                let fields = s
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let name = match &f.ident {
                            Some(n) => self.ident(n),
                            None => self.sym(&i.to_string()),
                        };
                        let ty = self.ty(&f.ty);
                        FieldDef { name, ty }
                    })
                    .collect();
                let attrs = self.attrs(&s.attrs);
                let module = self.module;
                self.m.items.push(Item::Struct(StructDef {
                    name,
                    fields,
                    attrs,
                    module,
                }));
            }
            syn::Item::Enum(e) if indexed => {
                let name = self.ident(&e.ident);
                let variants = e
                    .variants
                    .iter()
                    .map(|v| v.fields.iter().map(|f| self.ty(&f.ty)).collect())
                    .collect();
                let attrs = self.attrs(&e.attrs);
                let module = self.module;
                self.m.items.push(Item::Enum(EnumDef {
                    name,
                    variants,
                    attrs,
                    module,
                }));
            }
            syn::Item::Const(c) => {
                let value = self.expr(&c.expr);
                // Of a `#[cfg(test)]` / `#[cfg(not(test))]` pair, the program runs with the
                // second: constant evaluation reads only that one.
                if indexed && !c.attrs.iter().any(is_cfg_test_only) {
                    let name = self.ident(&c.ident);
                    let ty = self.ty(&c.ty);
                    let module = self.module;
                    self.m.items.push(Item::Const(Const {
                        name,
                        ty,
                        value,
                        module,
                    }));
                }
            }
            syn::Item::Static(s) => {
                let name = self.ident(&s.ident);
                let ty = self.ty(&s.ty);
                let init = self.eager_expr(&s.expr);
                if indexed {
                    self.m.items.push(Item::Static { name, ty });
                    if !s.attrs.iter().any(is_cfg_test_only) {
                        let module = self.module;
                        self.m.items.push(Item::Const(Const {
                            name,
                            ty,
                            value: init,
                            module,
                        }));
                    }
                }
                if level != Level::MacroItems {
                    let span = self.span(s.static_token.span).to(self.span(s.ident.span()));
                    self.m.statics.push(StaticDecl {
                        name,
                        ty,
                        init: Some(init),
                        span,
                        via: StaticVia::Static,
                    });
                }
            }
            syn::Item::Fn(f) => {
                let saved = self.owner.take();
                self.function(&f.attrs, &f.sig, Some(&f.block), indexed, level);
                self.owner = saved;
            }
            syn::Item::Impl(i) => self.impl_block(i, level),
            syn::Item::Trait(t) => {
                let name = self.ident(&t.ident);
                let saved = self.owner.replace(name);
                let mut fns = Vec::new();
                for it in &t.items {
                    if let syn::TraitItem::Fn(m) = it {
                        fns.push(self.function(
                            &m.attrs,
                            &m.sig,
                            m.default.as_ref(),
                            indexed,
                            level,
                        ));
                    }
                }
                self.owner = saved;
                if indexed {
                    let module = self.module;
                    self.m
                        .items
                        .push(Item::Trait(TraitDef { name, fns, module }));
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    let test = m.attrs.iter().any(|a| {
                        a.path().is_ident("cfg")
                            && quote::ToTokens::to_token_stream(&a.meta)
                                .to_string()
                                .contains("test")
                    });
                    let name = self.ident(&m.ident);
                    let saved = (self.module, self.in_test_mod);
                    self.enter_module(name);
                    self.in_test_mod |= test;
                    for item in items {
                        self.item(item, level);
                    }
                    self.module_stack.pop();
                    (self.module, self.in_test_mod) = saved;
                }
            }
            syn::Item::Macro(m) => self.item_macro(m, level),
            _ => {}
        }
    }

    /// Enters `mod name { .. }`: items now sit in the chain of inline modules ending there.
    fn enter_module(&mut self, name: crate::model::Sym) {
        self.module_stack.push(name);
        let chain = self.module_stack.as_slice();
        self.module = match self.m.modules.iter().position(|c| &**c == chain) {
            Some(i) => i as u32,
            None => {
                self.m.modules.push(chain.into());
                (self.m.modules.len() - 1) as u32
            }
        };
    }

    /// Generic parameters with their trait bounds, from `<..>` and the `where` clause.
    fn generics(&mut self, g: &syn::Generics) -> Vec<Generic> {
        let mut out: Vec<Generic> = Vec::new();
        let add = |l: &mut Self,
                   name: &syn::Ident,
                   bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
                   out: &mut Vec<Generic>| {
            let name = l.ident(name);
            let paths: Vec<_> = bounds
                .iter()
                .filter_map(|b| match b {
                    syn::TypeParamBound::Trait(t) => Some(l.path(&t.path)),
                    _ => None,
                })
                .collect();
            match out.iter_mut().find(|g| g.name == name) {
                Some(g) => g.bounds.extend(paths),
                None => out.push(Generic {
                    name,
                    bounds: paths,
                }),
            }
        };
        for p in &g.params {
            if let syn::GenericParam::Type(t) = p {
                add(self, &t.ident, &t.bounds, &mut out);
            }
        }
        if let Some(w) = &g.where_clause {
            for pred in &w.predicates {
                if let syn::WherePredicate::Type(pt) = pred {
                    if let syn::Type::Path(tp) = &pt.bounded_ty {
                        if let Some(id) = tp.path.get_ident() {
                            add(self, id, &pt.bounds, &mut out);
                        }
                    }
                }
            }
        }
        out
    }

    fn impl_block(&mut self, i: &syn::ItemImpl, level: Level) {
        let indexed = level != Level::Nested;
        let generics = self.generics(&i.generics);
        let self_ty = impl_self_path(&i.self_ty).map(|s| self.ident(&s.ident));
        let self_ty_expr = self.ty(&i.self_ty);
        let trait_path = i.trait_.as_ref().map(|(p, _)| self.path(p));
        let saved = std::mem::replace(&mut self.owner, self_ty);
        // Methods of a type that is not a path (`impl Trait for [T]`) have no owner to be
        // called through: they are bodies, not index entries. `impl Trait for &T` (sqlx's
        // `Acquire` for `&TrackedPool`) is called on a `T` by auto-ref: its owner is `T`.
        let fn_indexed = indexed && self_ty.is_some();
        let mut fns = Vec::new();
        let mut assoc_types = Vec::new();
        for it in &i.items {
            match it {
                syn::ImplItem::Fn(m) => {
                    fns.push(self.function(&m.attrs, &m.sig, Some(&m.block), fn_indexed, level));
                }
                syn::ImplItem::Type(t) => {
                    let name = self.ident(&t.ident);
                    let ty = self.ty(&t.ty);
                    assoc_types.push((name, ty));
                }
                _ => {}
            }
        }
        self.owner = saved;
        if indexed {
            let module = self.module;
            self.m.items.push(Item::Impl(ImplDef {
                self_ty,
                self_ty_expr,
                trait_path,
                assoc_types,
                fns,
                module,
                generics,
            }));
        }
    }

    /// `cfg_if! { .. }` and friends: the brace groups of the tokens that parse as items.
    /// `macro_rules!` definitions are kept by name; `thread_local!` and `lazy_static!`
    /// declare statics.
    fn item_macro(&mut self, m: &syn::ItemMacro, level: Level) {
        if m.mac.path.is_ident("macro_rules") {
            if let Some(name) = &m.ident {
                let name = self.ident(name);
                let span = self.path_span(&m.mac.path);
                let rules = self.text_of(m.mac.delimiter.span().join()).into();
                self.m
                    .items
                    .push(Item::MacroRules(MacroRules { name, span, rules }));
            }
            return;
        }
        if level != Level::MacroItems {
            self.macro_statics(&m.mac);
        }
        let level = if level == Level::Nested {
            Level::Nested
        } else {
            Level::MacroItems
        };
        for tt in m.mac.tokens.clone() {
            if let TokenTree::Group(g) = tt {
                if g.delimiter() == Delimiter::Brace {
                    if let Ok(file) = syn::parse2::<syn::File>(g.stream()) {
                        for item in &file.items {
                            self.item(item, level);
                        }
                    }
                }
            }
        }
    }

    /// The statics declared by a `thread_local!` or `lazy_static!` call.
    pub(crate) fn macro_statics(&mut self, mac: &syn::Macro) {
        let via = match mac.path.segments.last().map(|s| s.ident.to_string()) {
            Some(n) if n == "thread_local" => StaticVia::ThreadLocal,
            Some(n) if n == "lazy_static" => StaticVia::LazyStatic,
            _ => return,
        };
        for (static_token, name, ty, init) in parse_macro_statics(mac.tokens.clone()) {
            let span = self.span(static_token).to(self.span(name.span()));
            let name = self.ident(&name);
            let ty = self.ty(&ty);
            let init = self.eager_expr(&init);
            self.m.statics.push(StaticDecl {
                name,
                ty,
                init: Some(init),
                span,
                via,
            });
        }
    }

    /// An expression whose macros are parsed now: a static's initialiser, which rules walk
    /// outside any body.
    fn eager_expr(&mut self, e: &syn::Expr) -> crate::model::ExprId {
        let saved = std::mem::replace(&mut self.lazy_macros, false);
        let id = self.expr(e);
        self.lazy_macros = saved;
        id
    }

    /// Lowers a function or method; returns its index in `FileModel::fns`. Its slot is taken
    /// before its body is lowered, so functions nested in the body come after it.
    fn function(
        &mut self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        block: Option<&syn::Block>,
        indexed: bool,
        level: Level,
    ) -> u32 {
        let index = self.m.fns.len() as u32;
        self.fn_names.push(Vec::new());
        let name = self.ident(&sig.ident);
        let mut params = Vec::with_capacity(sig.inputs.len());
        for input in &sig.inputs {
            params.push(match input {
                syn::FnArg::Receiver(r) => Param {
                    kind: if matches!(r.kind, syn::ReceiverKind::Value) {
                        ParamKind::SelfValue
                    } else {
                        ParamKind::SelfRef
                    },
                    span: self.span(r.self_token.span),
                },
                syn::FnArg::Typed(pt) => {
                    let pat = self.pat(&pt.pat);
                    let ty = self.ty(&pt.ty);
                    Param {
                        kind: ParamKind::Typed {
                            pat,
                            ty,
                            by_ref: matches!(&*pt.ty, syn::Type::Reference(_)),
                        },
                        span: self.m.pat_span(pat),
                    }
                }
            });
        }
        let ret = match &sig.output {
            syn::ReturnType::Type(_, t) => Some(self.ty(t)),
            syn::ReturnType::Default => None,
        };
        let attrs = self.attrs(attrs);
        let generics = self.generics(&sig.generics);
        let text = match block {
            Some(b) => {
                let from = self.offset(self.span(sig.fn_token.span).lo);
                let to = self.offset(self.span(b.brace_token.span.close()).hi);
                (from as u32, to as u32)
            }
            None => (0, 0),
        };
        self.m.fns.push(FnDef {
            sig: FnSig {
                name,
                params,
                ret,
                is_async: sig.asyncness.is_some(),
                generics,
            },
            body: None,
            owner: self.owner,
            module: self.module,
            attrs,
            in_test_mod: self.in_test_mod,
            indexed,
            runs_tasks: false,
            runs_blocking: false,
            suspends: false,
            text,
            names: Box::default(),
        });
        if let Some(b) = block {
            if level == Level::Items {
                // `use` at the top of a function body (`use diesel::dsl::count;`).
                for stmt in &b.stmts {
                    if let syn::Stmt::Item(syn::Item::Use(u)) = stmt {
                        self.use_tree(&mut Vec::new(), &u.tree);
                    }
                }
            }
            let body = self.block(b);
            let (tasks, blocking) = self.runs_off_thread(body);
            // Macro arguments' models have no file text of their own to read.
            let (from, to) = self.m.fns[index as usize].text;
            let suspends = self.shift.is_some()
                || self
                    .text
                    .get(from as usize..to as usize)
                    .is_none_or(may_suspend);
            let f = &mut self.m.fns[index as usize];
            f.body = Some(body);
            f.runs_tasks = tasks;
            f.runs_blocking = blocking;
            f.suspends = suspends;
        }
        let mut names = self.fn_names.pop().unwrap_or_default();
        names.sort_unstable();
        names.dedup();
        // The enclosing function's text holds this one's.
        if let Some(outer) = self.fn_names.last_mut() {
            outer.extend_from_slice(&names);
        }
        self.m.fns[index as usize].names = names.into();
        index
    }

    /// Does a body spawn tasks, or run work on a blocking thread? A crate-local
    /// `spawn_try_task(fut)` or `run_blocking(|| ..)` then behaves like the call it wraps.
    fn runs_off_thread(&self, body: BlockId) -> (bool, bool) {
        let m = &self.m;
        let (mut tasks, mut blocking) = (false, false);
        visit::block_exprs(m, body, false, &mut |e| {
            let name = match m.expr(e) {
                Expr::Call { func, .. } => match m.expr(func) {
                    Expr::Path { segs, .. } => m.last(segs),
                    _ => None,
                },
                Expr::MethodCall { method, .. } => Some(m.name(method)),
                _ => None,
            };
            match name {
                Some("spawn" | "spawn_local" | "spawn_with_handle") => tasks = true,
                Some("spawn_blocking" | "block_in_place" | "unblock") => blocking = true,
                _ => {}
            }
            true
        });
        (tasks, blocking)
    }

    fn attrs(&mut self, attrs: &[syn::Attribute]) -> Attrs {
        // Route macros of rocket, actix-web, poem, salvo and ntex: the function is a handler.
        const ROUTE_ATTRS: &[&str] = &[
            "get",
            "post",
            "put",
            "delete",
            "patch",
            "head",
            "options",
            "route",
            "routes",
            "handler",
            "endpoint",
            "debug_handler",
        ];
        let mut out = Attrs::default();
        for a in attrs {
            let path = a.path();
            if let Some(last) = path.segments.last() {
                let n = last.ident.to_string();
                if matches!(n.as_str(), "test" | "main" | "rstest" | "bench") {
                    out.runs_once = true;
                }
                if ROUTE_ATTRS.contains(&n.as_str()) {
                    out.route = true;
                }
            }
            if path.is_ident("database") {
                out.database = true;
            }
            if path.is_ident("derive") {
                let _ = a.parse_nested_meta(|meta| {
                    if let Some(last) = meta.path.segments.last() {
                        let s = self.ident(&last.ident);
                        out.derives.push(s);
                    }
                    Ok(())
                });
            }
        }
        out
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                Arc::make_mut(&mut self.m.scope).add_name(prefix, n.ident.to_string(), None)
            }
            syn::UseTree::Rename(r) => Arc::make_mut(&mut self.m.scope).add_name(
                prefix,
                r.ident.to_string(),
                Some(r.rename.to_string()),
            ),
            syn::UseTree::Glob(_) => Arc::make_mut(&mut self.m.scope).add_glob(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    // ---- regions ----------------------------------------------------------------------------

    fn regions(&mut self, items: &[syn::Item]) {
        let mut out = Vec::new();
        self.fn_regions(items, &mut out);
        self.test_regions(items, &mut out);
        self.m.regions = out;
    }

    /// Lines of an item: from its first attribute (doc comments included) to its end.
    fn lines(&self, attrs: &[syn::Attribute], first: proc_macro2::Span, last: Span) -> (u32, u32) {
        let lo = attrs
            .first()
            .map_or(first, |a| a.pound_token.span)
            .start()
            .line as u32;
        (lo, last.hi.line)
    }

    /// Every function and method with its lines (`Type::method` for methods), including
    /// functions declared at the top of a function body.
    fn fn_regions(&self, items: &[syn::Item], out: &mut Vec<Region>) {
        for item in items {
            match item {
                syn::Item::Fn(f) => {
                    let first = first_token_of_fn(&f.vis, &f.sig);
                    let (lo, hi) =
                        self.lines(&f.attrs, first, self.span(f.block.brace_token.span.close()));
                    out.push(Region::Fn {
                        lo,
                        hi,
                        name: f.sig.ident.to_string(),
                    });
                    self.nested_fn_regions(&f.block, out);
                }
                syn::Item::Impl(i) => {
                    let owner = impl_self_path(&i.self_ty)
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default();
                    for it in &i.items {
                        if let syn::ImplItem::Fn(m) = it {
                            let first = first_token_of_fn(&m.vis, &m.sig);
                            let close = self.span(m.block.brace_token.span.close());
                            let (lo, hi) = self.lines(&m.attrs, first, close);
                            out.push(Region::Fn {
                                lo,
                                hi,
                                name: qualified(&owner, &m.sig.ident.to_string()),
                            });
                            self.nested_fn_regions(&m.block, out);
                        }
                    }
                }
                syn::Item::Trait(t) => {
                    let owner = t.ident.to_string();
                    for it in &t.items {
                        if let syn::TraitItem::Fn(m) = it {
                            let first = first_token_of_fn(&syn::Visibility::Inherited, &m.sig);
                            let last = match (&m.default, &m.semi_token) {
                                (Some(b), _) => self.span(b.brace_token.span.close()),
                                (None, Some(s)) => self.span(s.span),
                                (None, None) => self.span(m.sig.paren_token.span.close()),
                            };
                            let (lo, hi) = self.lines(&m.attrs, first, last);
                            out.push(Region::Fn {
                                lo,
                                hi,
                                name: qualified(&owner, &m.sig.ident.to_string()),
                            });
                        }
                    }
                }
                syn::Item::Mod(m) => {
                    if let Some((_, items)) = &m.content {
                        self.fn_regions(items, out);
                    }
                }
                _ => {}
            }
        }
    }

    fn nested_fn_regions(&self, block: &syn::Block, out: &mut Vec<Region>) {
        let items: Vec<syn::Item> = block
            .stmts
            .iter()
            .filter_map(|s| match s {
                syn::Stmt::Item(i) => Some(i.clone()),
                _ => None,
            })
            .collect();
        self.fn_regions(&items, out);
    }

    /// `#[cfg(test)]` modules and impls, and `#[test]`-like functions.
    fn test_regions(&self, items: &[syn::Item], out: &mut Vec<Region>) {
        for item in items {
            match item {
                syn::Item::Mod(m) => {
                    if m.attrs.iter().any(is_cfg_test) {
                        let last = match (&m.content, &m.semi) {
                            (Some((b, _)), _) => self.span(b.span.close()),
                            (None, Some(s)) => self.span(s.span),
                            (None, None) => self.span(m.ident.span()),
                        };
                        let first = match &m.vis {
                            syn::Visibility::Inherited => m.mod_token.span,
                            v => syn::spanned::Spanned::span(v),
                        };
                        let (lo, hi) = self.lines(&m.attrs, first, last);
                        out.push(Region::Test { lo, hi });
                    } else if let Some((_, items)) = &m.content {
                        self.test_regions(items, out);
                    }
                }
                syn::Item::Fn(f) if f.attrs.iter().any(is_test_attr) => {
                    let first = first_token_of_fn(&f.vis, &f.sig);
                    let close = self.span(f.block.brace_token.span.close());
                    let (lo, hi) = self.lines(&f.attrs, first, close);
                    out.push(Region::Test { lo, hi });
                }
                syn::Item::Impl(i) if i.attrs.iter().any(is_cfg_test) => {
                    let close = self.span(i.brace_token.span.close());
                    let (lo, hi) = self.lines(&i.attrs, i.impl_token.span, close);
                    out.push(Region::Test { lo, hi });
                }
                _ => {}
            }
        }
    }
}

/// The first token of a function item after its attributes.
fn first_token_of_fn(vis: &syn::Visibility, sig: &syn::Signature) -> proc_macro2::Span {
    if !matches!(vis, syn::Visibility::Inherited) {
        return syn::spanned::Spanned::span(vis);
    }
    sig.constness
        .map(|t| t.span)
        .or(sig.asyncness.map(|t| t.span))
        .or(match &sig.safety {
            syn::Safety::Unsafe(u) => Some(u.span),
            _ => None,
        })
        .or(sig.abi.as_ref().map(|a| a.extern_token.span))
        .unwrap_or(sig.fn_token.span)
}

/// The last segment of the type an impl is for, through references (`impl Acquire for &T`).
fn impl_self_path(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last(),
        syn::Type::Reference(r) => impl_self_path(&r.elem),
        _ => None,
    }
}

fn qualified(owner: &str, name: &str) -> String {
    if owner.is_empty() {
        name.to_string()
    } else {
        format!("{owner}::{name}")
    }
}

/// `#[cfg(test)]`, `#[cfg(all(test, ..))]`.
fn is_cfg_test(a: &syn::Attribute) -> bool {
    a.path().is_ident("cfg")
        && a.meta.require_list().is_ok_and(|l| {
            l.tokens
                .to_string()
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == "test")
        })
}

/// `#[cfg(test)]`, `#[cfg(all(test, ..))]`: present in test builds only (unlike
/// `#[cfg(not(test))]` or `#[cfg(any(test, ..))]`).
fn is_cfg_test_only(a: &syn::Attribute) -> bool {
    a.path().is_ident("cfg")
        && a.meta.require_list().is_ok_and(|l| {
            let text = l.tokens.to_string().replace(' ', "");
            text == "test"
                || (text.starts_with("all(") && !text.contains("not(") && {
                    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(|w| w == "test")
                })
        })
}

/// `#[test]`, `#[tokio::test]`, `#[sqlx::test(..)]`, `#[rstest]`.
fn is_test_attr(a: &syn::Attribute) -> bool {
    a.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "test" || s.ident == "rstest")
}

type MacroStatic = (proc_macro2::Span, syn::Ident, syn::Type, syn::Expr);

/// Parses the `[attrs] [vis] static [ref] NAME: TYPE = [const] EXPR;` items of
/// `thread_local!` and `lazy_static!`.
fn parse_macro_statics(tokens: TokenStream) -> Vec<MacroStatic> {
    let parser = |input: ParseStream| -> syn::Result<Vec<MacroStatic>> {
        let mut out = Vec::new();
        while !input.is_empty() {
            input.call(syn::Attribute::parse_outer)?;
            input.parse::<syn::Visibility>()?;
            let static_token: syn::Token![static] = input.parse()?;
            if input.peek(syn::Token![ref]) {
                input.parse::<syn::Token![ref]>()?;
            }
            let name: syn::Ident = input.parse()?;
            input.parse::<syn::Token![:]>()?;
            let ty: syn::Type = input.parse()?;
            input.parse::<syn::Token![=]>()?;
            let init: syn::Expr = input.parse()?;
            if !input.is_empty() {
                input.parse::<syn::Token![;]>()?;
            }
            out.push((static_token.span, name, ty, init));
        }
        Ok(out)
    };
    parser.parse2(tokens).unwrap_or_default()
}

/// Can a function's text suspend: an `.await` anywhere (macro arguments included), or a
/// `join!`/`select!`-like macro that awaits inside? (A word in a comment errs towards yes.)
fn may_suspend(text: &str) -> bool {
    text.contains("await") || text.contains("join!") || text.contains("select!")
}
