//! Walks over a body's expressions, for the questions that look at a whole subtree (does it
//! take a reference, can this loop end, which names does a closure use).

use super::{
    BlockId, Expr, ExprId, FileModel, MacroArgs, MacroCall, Pat, PatId, Stmt, Sym, TypeExpr,
};

/// Visits `e` and the expressions inside it, pre-order. `f` says whether to go into an
/// expression's parts; macro arguments are visited only with `macros`.
pub fn exprs(m: &FileModel, e: ExprId, macros: bool, f: &mut dyn FnMut(ExprId) -> bool) {
    if !f(e) {
        return;
    }
    let mut go = |x: ExprId| exprs(m, x, macros, f);
    match m.expr(e) {
        Expr::Path { .. } | Expr::Lit(_) | Expr::Continue | Expr::Other => {}
        Expr::Field { base, .. } => go(base),
        Expr::MethodCall { recv, args, .. } => {
            go(recv);
            m.exprs_of(args).for_each(go);
        }
        Expr::Call { func, args } => {
            go(func);
            m.exprs_of(args).for_each(go);
        }
        Expr::Await(x)
        | Expr::Try(x)
        | Expr::Reference(x)
        | Expr::Deref(x)
        | Expr::Unary(x)
        | Expr::Cast(x)
        | Expr::RawAddr(x) => go(x),
        Expr::Block { block, .. } | Expr::Async { block, .. } | Expr::Loop { body: block } => {
            block_exprs(m, block, macros, f)
        }
        Expr::Closure { params, body, .. } => {
            for p in m.pats_of(params) {
                pat_exprs(m, p, macros, f);
            }
            exprs(m, body, macros, f);
        }
        Expr::If { cond, then, els } => {
            go(cond);
            block_exprs(m, then, macros, f);
            if let Some(x) = els {
                exprs(m, x, macros, f);
            }
        }
        Expr::Let { pat, expr } => {
            pat_exprs(m, pat, macros, f);
            exprs(m, expr, macros, f);
        }
        Expr::Match { scrut, arms } => {
            go(scrut);
            for &a in m.list(arms) {
                let arm = m.arm(a);
                pat_exprs(m, arm.pat, macros, f);
                exprs(m, arm.body, macros, f);
            }
        }
        Expr::ForLoop { pat, iter, body } => {
            pat_exprs(m, pat, macros, f);
            exprs(m, iter, macros, f);
            block_exprs(m, body, macros, f);
        }
        Expr::While { cond, body } => {
            go(cond);
            block_exprs(m, body, macros, f);
        }
        Expr::Assign { left, right } | Expr::Binary { left, right, .. } => {
            go(left);
            go(right);
        }
        Expr::Index { base, index } => {
            go(base);
            go(index);
        }
        Expr::Tuple(l) | Expr::Array(l) => m.exprs_of(l).for_each(go),
        Expr::Repeat { elem, len } => {
            go(elem);
            go(len);
        }
        Expr::Struct { fields, rest, .. } => {
            for &fi in m.list(fields) {
                go(m.field_init(fi).expr);
            }
            if let Some(r) = rest {
                go(r);
            }
        }
        Expr::Range { start, end } => {
            start.into_iter().chain(end).for_each(go);
        }
        Expr::Return(x) | Expr::Yield(x) | Expr::Break { value: x, .. } => {
            x.into_iter().for_each(go)
        }
        Expr::Macro(i) => {
            if macros {
                macro_exprs(m, i, f)
            }
        }
    }
}

/// Is the condition an `if let` / `while let` (or a let chain), whose scrutinee temporaries
/// live through the body, rather than a plain boolean?
pub fn binds(m: &FileModel, cond: ExprId) -> bool {
    match m.expr(cond) {
        Expr::Let { .. } => true,
        Expr::Binary { left, right, .. } => binds(m, left) || binds(m, right),
        _ => false,
    }
}

/// Visits the expressions of a block's statements.
pub fn block_exprs(m: &FileModel, b: BlockId, macros: bool, f: &mut dyn FnMut(ExprId) -> bool) {
    for s in m.stmts(b) {
        match s {
            Stmt::Local {
                pat, init, diverge, ..
            } => {
                pat_exprs(m, pat, macros, f);
                for x in init.into_iter().chain(diverge) {
                    exprs(m, x, macros, f);
                }
            }
            Stmt::Expr { expr, .. } => exprs(m, expr, macros, f),
            Stmt::Macro(i) => {
                if macros {
                    macro_exprs(m, i, f)
                }
            }
            Stmt::Item => {}
        }
    }
}

fn macro_exprs(m: &FileModel, i: u32, f: &mut dyn FnMut(ExprId) -> bool) {
    match m.mac(i).args {
        MacroArgs::Exprs(l) => {
            for x in m.exprs_of(l) {
                exprs(m, x, true, f);
            }
        }
        MacroArgs::Repeat { elem, len } => {
            exprs(m, elem, true, f);
            exprs(m, len, true, f);
        }
        MacroArgs::Idents(_) | MacroArgs::Lazy { .. } => {}
    }
}

/// Visits the expressions inside a pattern (match guards).
fn pat_exprs(m: &FileModel, p: PatId, macros: bool, f: &mut dyn FnMut(ExprId) -> bool) {
    each_pat(m, p, &mut |p| {
        if let Pat::Guard { guard, .. } = m.pat(p) {
            exprs(m, guard, macros, f);
        }
    });
}

/// Visits a pattern and every pattern inside it.
pub fn each_pat(m: &FileModel, p: PatId, f: &mut dyn FnMut(PatId)) {
    f(p);
    match m.pat(p) {
        Pat::Ident { sub: Some(s), .. } => each_pat(m, s, f),
        Pat::Typed { pat, .. } | Pat::Reference(pat) | Pat::Guard { pat, .. } => {
            each_pat(m, pat, f)
        }
        Pat::Or(l) | Pat::Tuple(l) | Pat::Slice(l) | Pat::TupleStruct { elems: l, .. } => {
            for x in m.pats_of(l) {
                each_pat(m, x, f);
            }
        }
        Pat::Struct { fields, .. } => {
            for &fp in m.list(fields) {
                each_pat(m, m.field_pat(fp).pat, f);
            }
        }
        Pat::Ident { sub: None, .. } | Pat::Wild | Pat::Other => {}
    }
}

/// Every name written inside an expression: paths, fields, methods, patterns, types and
/// macro arguments (`lazy` gives those of arguments left unparsed). What a closure or an async
/// block can capture is among these.
pub fn names_in(m: &FileModel, e: ExprId, lazy: &dyn Fn(&MacroCall) -> Vec<Sym>) -> Vec<Sym> {
    let mut out = Vec::new();
    exprs(m, e, true, &mut |x| {
        match m.expr(x) {
            Expr::Path { segs, .. } => out.extend_from_slice(m.syms(segs)),
            Expr::Field { member, .. } => out.push(member),
            Expr::MethodCall { method, .. } => out.push(method),
            Expr::Struct { path, fields, .. } => {
                out.extend_from_slice(m.syms(path));
                out.extend(m.list(fields).iter().map(|&f| m.field_init(f).member));
            }
            Expr::Macro(i) => macro_names(m, i, lazy, &mut out),
            Expr::Closure { params, .. } => {
                for p in m.pats_of(params) {
                    pat_names(m, p, &mut out);
                }
            }
            Expr::Let { pat, .. } => pat_names(m, pat, &mut out),
            Expr::ForLoop { pat, body, .. } => {
                pat_names(m, pat, &mut out);
                block_names(m, body, lazy, &mut out);
            }
            Expr::Match { arms, .. } => {
                for &a in m.list(arms) {
                    pat_names(m, m.arm(a).pat, &mut out);
                }
            }
            Expr::Block { block, .. }
            | Expr::Async { block, .. }
            | Expr::Loop { body: block }
            | Expr::While { body: block, .. } => block_names(m, block, lazy, &mut out),
            Expr::If { then, .. } => block_names(m, then, lazy, &mut out),
            _ => {}
        }
        true
    });
    out
}

/// The names bound by a block's `let`s and written in its statement macros.
fn block_names(
    m: &FileModel,
    b: BlockId,
    lazy: &dyn Fn(&MacroCall) -> Vec<Sym>,
    out: &mut Vec<Sym>,
) {
    for s in m.stmts(b) {
        match s {
            Stmt::Local { pat, .. } => pat_names(m, pat, out),
            Stmt::Macro(i) => macro_names(m, i, lazy, out),
            _ => {}
        }
    }
}

fn macro_names(m: &FileModel, i: u32, lazy: &dyn Fn(&MacroCall) -> Vec<Sym>, out: &mut Vec<Sym>) {
    let mac = m.mac(i);
    out.push(mac.name);
    match mac.args {
        MacroArgs::Idents(l) => out.extend_from_slice(m.syms(l)),
        MacroArgs::Lazy { .. } => out.extend(lazy(&mac)),
        MacroArgs::Exprs(_) | MacroArgs::Repeat { .. } => {}
    }
}

fn pat_names(m: &FileModel, p: PatId, out: &mut Vec<Sym>) {
    each_pat(m, p, &mut |p| match m.pat(p) {
        Pat::Ident { name, .. } => out.push(name),
        Pat::TupleStruct { path, .. } | Pat::Struct { path, .. } => {
            out.extend_from_slice(m.syms(path))
        }
        Pat::Typed { ty, .. } => type_names(m, ty, out),
        _ => {}
    })
}

fn type_names(m: &FileModel, t: super::TyId, out: &mut Vec<Sym>) {
    match m.ty(t) {
        TypeExpr::Path { segs, args, assoc } => {
            out.extend_from_slice(m.syms(segs));
            for a in m.tys(args) {
                type_names(m, a, out);
            }
            for (n, a) in m.assoc(assoc) {
                out.push(n);
                type_names(m, a, out);
            }
        }
        TypeExpr::Ref(t) | TypeExpr::Array(t) => type_names(m, t, out),
        TypeExpr::Tuple(ts) => m.tys(ts).for_each(|t| type_names(m, t, out)),
        TypeExpr::Bound { path, assoc } => {
            out.extend_from_slice(m.syms(path));
            for (n, a) in m.assoc(assoc) {
                out.push(n);
                type_names(m, a, out);
            }
        }
        TypeExpr::Other => {}
    }
}
