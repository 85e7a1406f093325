//! Expressions, statements, blocks and macro calls.

use super::Lowerer;
use crate::model::{
    Arm, BinOp, Block, BlockId, BlockKind, Expr, ExprId, FieldInit, Lit, MacroArgs, MacroCall,
    Span, Stmt, Sym,
};
use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

impl Lowerer<'_> {
    pub(crate) fn block(&mut self, b: &syn::Block) -> BlockId {
        let mut stmts = Vec::with_capacity(b.stmts.len());
        for s in &b.stmts {
            let stmt = self.stmt(s);
            stmts.push(self.push_stmt(stmt));
        }
        let stmts = self.list(&stmts);
        self.push_block(Block {
            stmts,
            open: self.span(b.brace_token.span.open()),
            close: self.span(b.brace_token.span.close()),
        })
    }

    fn stmt(&mut self, s: &syn::Stmt) -> Stmt {
        match s {
            syn::Stmt::Local(l) => {
                let pat = self.pat(&l.pat);
                let (init, diverge) = match &l.init {
                    Some(init) => (
                        Some(self.expr(&init.expr)),
                        init.diverge.as_ref().map(|(_, e)| self.expr(e)),
                    ),
                    None => (None, None),
                };
                Stmt::Local { pat, init, diverge }
            }
            syn::Stmt::Expr(e, semi) => Stmt::Expr {
                expr: self.expr(e),
                semi: semi.is_some(),
            },
            syn::Stmt::Macro(m) => Stmt::Macro(self.macro_call(&m.mac)),
            syn::Stmt::Item(item) => {
                if !self.expanding {
                    self.nested_item(item);
                }
                Stmt::Item
            }
        }
    }

    pub(crate) fn exprs<'e>(
        &mut self,
        es: impl IntoIterator<Item = &'e syn::Expr>,
    ) -> crate::model::List {
        let ids: Vec<u32> = es.into_iter().map(|e| self.expr(e).raw()).collect();
        self.list(&ids)
    }

    pub(crate) fn expr(&mut self, e: &syn::Expr) -> ExprId {
        match e {
            syn::Expr::Path(p) => {
                let segs = self.path(&p.path);
                let span = self.path_span(&p.path);
                self.push_expr(
                    Expr::Path {
                        segs,
                        qself: p.qself.is_some(),
                    },
                    span,
                )
            }
            syn::Expr::Lit(l) => {
                let lit = match &l.lit {
                    syn::Lit::Int(i) => i.base10_parse::<u32>().map_or(Lit::Other, Lit::Int),
                    syn::Lit::Str(_) => Lit::Str,
                    _ => Lit::Other,
                };
                let span = self.span(l.lit.span());
                self.push_expr(Expr::Lit(lit), span)
            }
            syn::Expr::Field(f) => {
                let base = self.expr(&f.base);
                let member = self.member(&f.member);
                let span = match &f.member {
                    syn::Member::Named(n) => self.span(n.span()),
                    syn::Member::Unnamed(i) => self.span(i.span),
                };
                self.push_expr(Expr::Field { base, member }, span)
            }
            syn::Expr::MethodCall(mc) => {
                let recv = self.expr(&mc.receiver);
                let method = self.ident(&mc.method);
                let args = self.exprs(&mc.args);
                let turbofish = mc.turbofish.as_ref().map(|t| {
                    let tys: Vec<u32> = t
                        .args
                        .iter()
                        .filter_map(|g| match g {
                            syn::GenericArgument::Type(ty) => Some(self.ty(ty).raw()),
                            _ => None,
                        })
                        .collect();
                    self.list(&tys)
                });
                let span = self
                    .span(mc.method.span())
                    .to(self.span(mc.paren_token.span.close()));
                let id = self.push_expr(Expr::MethodCall { recv, method, args }, span);
                if let Some(t) = turbofish {
                    self.m.turbofish.push((id, t));
                }
                id
            }
            syn::Expr::Call(c) => {
                let func = self.expr(&c.func);
                let args = self.exprs(&c.args);
                let close = self.span(c.paren_token.span.close());
                let span = match &*c.func {
                    syn::Expr::Path(p) => match p.path.segments.first() {
                        Some(s) => self.span(s.ident.span()).to(close),
                        None => close,
                    },
                    _ => close,
                };
                self.push_expr(Expr::Call { func, args }, span)
            }
            syn::Expr::Await(a) => {
                let base = self.expr(&a.base);
                let span = self.span(a.await_token.span);
                self.push_expr(Expr::Await(base), span)
            }
            syn::Expr::Try(t) => {
                let inner = self.expr(&t.expr);
                let span = self.span(t.question_token.span);
                self.push_expr(Expr::Try(inner), span)
            }
            syn::Expr::Paren(p) => self.expr(&p.expr),
            syn::Expr::Group(g) => self.expr(&g.expr),
            syn::Expr::Reference(r) => {
                let inner = self.expr(&r.expr);
                let span = self.span(r.and_token.span).to(self.m.full_span(inner));
                self.push_expr(Expr::Reference(inner), span)
            }
            syn::Expr::Unary(u) => {
                let inner = self.expr(&u.expr);
                let op = match u.op {
                    syn::UnOp::Deref(t) => self.span(t.span),
                    syn::UnOp::Not(t) => self.span(t.span),
                    syn::UnOp::Neg(t) => self.span(t.span),
                    _ => self.m.full_span(inner),
                };
                let span = op.to(self.m.full_span(inner));
                let e = if matches!(u.op, syn::UnOp::Deref(_)) {
                    Expr::Deref(inner)
                } else {
                    Expr::Unary(inner)
                };
                self.push_expr(e, span)
            }
            syn::Expr::Block(b) => {
                let block = self.block(&b.block);
                let kind = if b.label.is_some() {
                    BlockKind::Labelled
                } else {
                    BlockKind::Plain
                };
                let span = self.block_span(&b.block);
                self.push_expr(Expr::Block { block, kind }, span)
            }
            syn::Expr::Unsafe(u) => {
                self.keyword_block(u.unsafe_token.span, &u.block, BlockKind::Unsafe)
            }
            syn::Expr::Const(c) => {
                self.keyword_block(c.const_token.span, &c.block, BlockKind::Const)
            }
            syn::Expr::TryBlock(t) => {
                self.keyword_block(t.try_token.span, &t.block, BlockKind::Try)
            }
            syn::Expr::Async(a) => {
                let block = self.block(&a.block);
                let span = self.span(a.async_token.span).to(self.block_span(&a.block));
                let moves = a.capture.is_some();
                self.push_expr(Expr::Async { block, moves }, span)
            }
            syn::Expr::Closure(c) => {
                let params: Vec<u32> = c.inputs.iter().map(|p| self.pat(p).raw()).collect();
                let params = self.list(&params);
                let body = self.expr(&c.body);
                let span = self.span(c.inputs_begin.span);
                let e = Expr::Closure {
                    params,
                    body,
                    moves: c.capture.is_some(),
                    is_async: c.asyncness.is_some(),
                };
                self.push_expr(e, span)
            }
            syn::Expr::If(i) => {
                let cond = self.expr(&i.cond);
                let then = self.block(&i.then_branch);
                let els = i.else_branch.as_ref().map(|(_, e)| self.expr(e));
                let end = match els {
                    Some(x) => self.m.full_span(x),
                    None => self.span(i.then_branch.brace_token.span.close()),
                };
                let span = self.span(i.if_token.span).to(end);
                self.push_expr(Expr::If { cond, then, els }, span)
            }
            syn::Expr::Let(l) => {
                let pat = self.pat(&l.pat);
                let expr = self.expr(&l.expr);
                let span = self.span(l.let_token.span).to(self.m.full_span(expr));
                self.push_expr(Expr::Let { pat, expr }, span)
            }
            syn::Expr::Match(m) => {
                let scrut = self.expr(&m.expr);
                let mut arms = Vec::with_capacity(m.arms.len());
                for arm in &m.arms {
                    let pat = self.pat(&arm.pat);
                    let body = self.expr(&arm.body);
                    arms.push(self.push_arm(Arm { pat, body }));
                }
                let arms = self.list(&arms);
                let span = self
                    .span(m.match_token.span)
                    .to(self.span(m.brace_token.span.close()));
                self.push_expr(Expr::Match { scrut, arms }, span)
            }
            syn::Expr::ForLoop(f) => {
                let iter = self.expr(&f.expr);
                let pat = self.pat(&f.pat);
                let body = self.block(&f.body);
                let span = self.span(f.for_token.span);
                self.push_expr(Expr::ForLoop { pat, iter, body }, span)
            }
            syn::Expr::While(w) => {
                let cond = self.expr(&w.cond);
                let body = self.block(&w.body);
                let span = self.span(w.while_token.span);
                self.push_expr(Expr::While { cond, body }, span)
            }
            syn::Expr::Loop(l) => {
                let body = self.block(&l.body);
                let span = self.span(l.loop_token.span);
                self.push_expr(Expr::Loop { body }, span)
            }
            syn::Expr::Assign(a) => {
                let left = self.expr(&a.left);
                let right = self.expr(&a.right);
                let span = self.m.full_span(left).to(self.m.full_span(right));
                self.push_expr(Expr::Assign { left, right }, span)
            }
            syn::Expr::Binary(b) => {
                let left = self.expr(&b.left);
                let right = self.expr(&b.right);
                let op = match b.op {
                    syn::BinOp::Add(_) => BinOp::Add,
                    syn::BinOp::Sub(_) => BinOp::Sub,
                    syn::BinOp::Mul(_) => BinOp::Mul,
                    syn::BinOp::Div(_) => BinOp::Div,
                    syn::BinOp::AddAssign(_)
                    | syn::BinOp::SubAssign(_)
                    | syn::BinOp::MulAssign(_)
                    | syn::BinOp::DivAssign(_)
                    | syn::BinOp::RemAssign(_)
                    | syn::BinOp::BitXorAssign(_)
                    | syn::BinOp::BitAndAssign(_)
                    | syn::BinOp::BitOrAssign(_)
                    | syn::BinOp::ShlAssign(_)
                    | syn::BinOp::ShrAssign(_) => BinOp::Compound,
                    _ => BinOp::Other,
                };
                let span = self.m.full_span(left).to(self.m.full_span(right));
                self.push_expr(Expr::Binary { op, left, right }, span)
            }
            syn::Expr::Index(i) => {
                let base = self.expr(&i.expr);
                let index = self.expr(&i.index);
                let span = self
                    .m
                    .full_span(base)
                    .to(self.span(i.bracket_token.span.close()));
                self.push_expr(Expr::Index { base, index }, span)
            }
            syn::Expr::Tuple(t) => {
                let l = self.exprs(&t.elems);
                let span = self.span(t.paren_token.span.join());
                self.push_expr(Expr::Tuple(l), span)
            }
            syn::Expr::Array(a) => {
                let l = self.exprs(&a.elems);
                let span = self.span(a.bracket_token.span.join());
                self.push_expr(Expr::Array(l), span)
            }
            syn::Expr::Repeat(r) => {
                let elem = self.expr(&r.expr);
                let len = self.expr(&r.len);
                let span = self.span(r.bracket_token.span.join());
                self.push_expr(Expr::Repeat { elem, len }, span)
            }
            syn::Expr::Struct(s) => {
                let path = self.path(&s.path);
                let mut fields = Vec::with_capacity(s.fields.len());
                for f in &s.fields {
                    let member = self.member(&f.member);
                    let expr = self.expr(&f.expr);
                    let named = matches!(f.member, syn::Member::Named(_));
                    fields.push(self.push_field_init(FieldInit {
                        member,
                        named,
                        expr,
                    }));
                }
                let fields = self.list(&fields);
                let rest = s.rest.as_ref().map(|r| self.expr(r));
                let span = self
                    .path_start(&s.path)
                    .to(self.span(s.brace_token.span.close()));
                self.push_expr(Expr::Struct { path, fields, rest }, span)
            }
            syn::Expr::Cast(c) => {
                let inner = self.expr(&c.expr);
                let ty = self.ty(&c.ty);
                let span = self.m.full_span(inner).to(self.m.ty_span(ty));
                self.push_expr(Expr::Cast(inner), span)
            }
            syn::Expr::Range(r) => {
                let start = r.start.as_ref().map(|s| self.expr(s));
                let end = r.end.as_ref().map(|e| self.expr(e));
                let span = match (start, end) {
                    (Some(a), Some(b)) => self.m.full_span(a).to(self.m.full_span(b)),
                    (Some(a), None) => self.m.full_span(a),
                    (None, Some(b)) => self.m.full_span(b),
                    (None, None) => Span::default(),
                };
                self.push_expr(Expr::Range { start, end }, span)
            }
            syn::Expr::Return(r) => {
                let value = r.expr.as_ref().map(|e| self.expr(e));
                let span = self.span(r.return_token.span);
                self.push_expr(Expr::Return(value), span)
            }
            syn::Expr::Break(b) => {
                let value = b.expr.as_ref().map(|e| self.expr(e));
                let span = self.span(b.break_token.span);
                let labelled = b.label.is_some();
                self.push_expr(Expr::Break { value, labelled }, span)
            }
            syn::Expr::Continue(c) => {
                let span = self.span(c.continue_token.span);
                self.push_expr(Expr::Continue, span)
            }
            syn::Expr::Yield(y) => {
                let value = y.expr.as_ref().map(|e| self.expr(e));
                let span = self.span(y.yield_token.span);
                self.push_expr(Expr::Yield(value), span)
            }
            syn::Expr::Macro(m) => {
                let i = self.macro_call(&m.mac);
                let span = self.m.mac(i).span;
                self.push_expr(Expr::Macro(i), span)
            }
            syn::Expr::RawAddr(r) => {
                let inner = self.expr(&r.expr);
                let span = self.span(r.and_token.span).to(self.m.full_span(inner));
                self.push_expr(Expr::RawAddr(inner), span)
            }
            other => {
                let span = self.span(syn::spanned::Spanned::span(other));
                self.push_expr(Expr::Other, span)
            }
        }
    }

    /// `unsafe { .. }`, `const { .. }`, `try { .. }`: a block that starts at its keyword.
    fn keyword_block(
        &mut self,
        keyword: proc_macro2::Span,
        b: &syn::Block,
        kind: BlockKind,
    ) -> ExprId {
        let block = self.block(b);
        let span = self.span(keyword).to(self.block_span(b));
        self.push_expr(Expr::Block { block, kind }, span)
    }

    fn block_span(&self, b: &syn::Block) -> Span {
        self.span(b.brace_token.span.open())
            .to(self.span(b.brace_token.span.close()))
    }

    /// A macro call: its arguments parsed as a list of expressions where they parse
    /// (`format!`, `join!`, `vec!`), its identifiers otherwise (`select!`, `info!(x = %y)`).
    pub(crate) fn macro_call(&mut self, mac: &syn::Macro) -> u32 {
        if !self.expanding {
            self.macro_statics(mac);
        }
        let name = match mac.path.segments.last() {
            Some(s) => self.ident(&s.ident),
            None => self.sym(""),
        };
        let span = self.path_span(&mac.path);
        let tokens = &mac.tokens;
        // `cfg!(test)` is read at once: constant evaluation picks the non-test branch.
        if self.lazy_macros && !mac.path.is_ident("cfg") {
            // Left for the flow to parse if it needs them; their names are the file's names.
            let mut words = Words::default();
            words.scan_names(tokens.clone(), self);
            let delim = match &mac.delimiter {
                syn::MacroDelimiter::Paren(p) => p.span,
                syn::MacroDelimiter::Brace(b) => b.span,
                syn::MacroDelimiter::Bracket(b) => b.span,
            };
            return self.push_macro(MacroCall {
                name,
                span,
                args: MacroArgs::Lazy {
                    from: self.span(delim.open()).hi,
                    to: self.span(delim.close()).lo,
                },
                has_return: words.has_return,
                has_break: words.has_break,
            });
        }
        let parsed = syn::parse2::<syn::Expr>(quote!([#tokens])).ok();
        let mut words = Words {
            idents: (!matches!(parsed, Some(syn::Expr::Array(_) | syn::Expr::Repeat(_))))
                .then(Vec::new),
            ..Words::default()
        };
        words.scan(tokens.clone());
        let args = match (parsed, words.idents.take()) {
            (Some(syn::Expr::Array(a)), _) => MacroArgs::Exprs(self.exprs(&a.elems)),
            (Some(syn::Expr::Repeat(r)), _) => MacroArgs::Repeat {
                elem: self.expr(&r.expr),
                len: self.expr(&r.len),
            },
            (_, idents) => {
                let idents: Vec<Sym> = idents
                    .unwrap_or_default()
                    .iter()
                    .map(|i| self.ident(i))
                    .collect();
                MacroArgs::Idents(self.sym_list(&idents))
            }
        };
        self.push_macro(MacroCall {
            name,
            span,
            args,
            has_return: words.has_return,
            has_break: words.has_break,
        })
    }
}

/// Whether `return` or `break` is among the identifiers of a token stream, and the
/// identifiers themselves when wanted.
#[derive(Default)]
struct Words {
    idents: Option<Vec<proc_macro2::Ident>>,
    has_return: bool,
    has_break: bool,
}

impl Words {
    /// Interns every identifier as a name of the file, without keeping the list.
    fn scan_names(&mut self, tokens: TokenStream, l: &mut Lowerer<'_>) {
        for t in tokens {
            match t {
                TokenTree::Ident(i) => {
                    if i == "return" {
                        self.has_return = true;
                    } else if i == "break" {
                        self.has_break = true;
                    }
                    l.ident(&i);
                }
                TokenTree::Group(g) => self.scan_names(g.stream(), l),
                _ => {}
            }
        }
    }

    fn scan(&mut self, tokens: TokenStream) {
        for t in tokens {
            match t {
                TokenTree::Ident(i) => {
                    if i == "return" {
                        self.has_return = true;
                    } else if i == "break" {
                        self.has_break = true;
                    }
                    if let Some(out) = &mut self.idents {
                        out.push(i);
                    }
                }
                TokenTree::Group(g) => self.scan(g.stream()),
                _ => {}
            }
        }
    }
}
