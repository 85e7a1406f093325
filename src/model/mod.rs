//! The compact semantic model of one file: what connlint keeps of a file once its syntax tree
//! is gone. Lowering (`crate::lower`) turns syn's tree into this right after parsing; the crate
//! index, the flow analysis and the rules read only this, on any thread.
//!
//! Bodies are flat arenas (expressions, patterns, statements, blocks) addressed by small ids,
//! names are interned per file ([`Sym`]), positions are line/column pairs. Nothing here holds a
//! proc-macro2 span or a reference into the source text.

mod ids;
mod items;
mod scope;
pub mod visit;

pub use ids::{BlockId, ExprId, List, PatId, Sym, SymList, TyId};
pub use items::{
    Attrs, Const, EnumDef, FieldDef, FnDef, FnSig, Generic, ImplDef, Item, MacroRules, Module,
    Param, ParamKind, Region, StaticDecl, StaticVia, StructDef, TraitDef, TypeAlias,
};
pub use scope::FileScope;

use std::path::PathBuf;
use std::sync::Arc;

/// A position as editors count it: 1-based line, 0-based column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A region of the file, from `lo` to `hi` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub lo: Pos,
    pub hi: Pos,
}

impl Span {
    /// From the start of `self` to the end of `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            lo: self.lo,
            hi: other.hi,
        }
    }
}

/// A literal, as far as the analysis reads literals: integers (pool sizes, durations), the
/// rest only by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lit {
    /// An integer literal that fits in a `u32` (larger ones are `Other`: no pool setting is
    /// that large, and keeping expressions 4-byte aligned keeps them small).
    Int(u32),
    Str,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// A compound assignment (`+=`, `*=`, ...).
    Compound,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Plain,
    /// A labelled block (`'a: { .. }`): `break 'a` leaves it.
    Labelled,
    Unsafe,
    Const,
    /// `try { .. }`
    Try,
}

/// An expression. Each has a span in [`FileModel::expr_span`]: its own anchor, which for
/// calls, awaits and `?` is where findings point (see [`FileModel::full_span`] for the whole).
#[derive(Debug, Clone, Copy)]
pub enum Expr {
    /// `a::b::c` (generic arguments are dropped); `qself` for `<T as Trait>::f`.
    Path {
        segs: SymList,
        qself: bool,
    },
    Lit(Lit),
    /// `base.member`; the span is the member's.
    Field {
        base: ExprId,
        member: Sym,
    },
    /// `recv.method(args)`; the span runs from the method name to the closing parenthesis.
    MethodCall {
        recv: ExprId,
        method: Sym,
        args: List,
    },
    /// `func(args)`; the span runs from the callee's first segment to the closing parenthesis.
    Call {
        func: ExprId,
        args: List,
    },
    /// `base.await`; the span is the `await` keyword's.
    Await(ExprId),
    /// `inner?`; the span is the `?`'s.
    Try(ExprId),
    /// `&inner`, `&mut inner`; the span is the `&`'s.
    Reference(ExprId),
    /// `*inner`
    Deref(ExprId),
    /// `!inner`, `-inner`
    Unary(ExprId),
    Block {
        block: BlockId,
        kind: BlockKind,
    },
    /// `async { .. }`, `async move { .. }`
    Async {
        block: BlockId,
        moves: bool,
    },
    /// `|params| body`; the span is the opening `|`'s.
    Closure {
        params: List,
        body: ExprId,
        moves: bool,
        is_async: bool,
    },
    /// `if cond { then } else els`; `cond` may be a `let`.
    If {
        cond: ExprId,
        then: BlockId,
        els: Option<ExprId>,
    },
    /// `let pat = expr` in a condition.
    Let {
        pat: PatId,
        expr: ExprId,
    },
    /// `match scrut { arms }`; `arms` lists [`Arm`] ids.
    Match {
        scrut: ExprId,
        arms: List,
    },
    /// `for pat in iter { body }`; the span is the `for` keyword's.
    ForLoop {
        pat: PatId,
        iter: ExprId,
        body: BlockId,
    },
    /// The span is the `while` keyword's.
    While {
        cond: ExprId,
        body: BlockId,
    },
    /// The span is the `loop` keyword's.
    Loop {
        body: BlockId,
    },
    Assign {
        left: ExprId,
        right: ExprId,
    },
    /// Also compound assignment (`+=`, with `op` Other).
    Binary {
        op: BinOp,
        left: ExprId,
        right: ExprId,
    },
    Index {
        base: ExprId,
        index: ExprId,
    },
    Tuple(List),
    Array(List),
    Repeat {
        elem: ExprId,
        len: ExprId,
    },
    /// `Path { fields, ..rest }`; `fields` lists [`FieldInit`] ids.
    Struct {
        path: SymList,
        fields: List,
        rest: Option<ExprId>,
    },
    Cast(ExprId),
    Range {
        start: Option<ExprId>,
        end: Option<ExprId>,
    },
    /// The span is the `return` keyword's.
    Return(Option<ExprId>),
    /// The span is the `break` keyword's.
    Break {
        value: Option<ExprId>,
        labelled: bool,
    },
    Continue,
    Yield(Option<ExprId>),
    /// A macro call in expression position; the span is the macro path's.
    Macro(u32),
    RawAddr(ExprId),
    Other,
}

/// A pattern. Each has a span in [`FileModel::pat_span`].
#[derive(Debug, Clone, Copy)]
pub enum Pat {
    /// `name`, `mut name`, `ref name`, `name @ sub`.
    Ident {
        name: Sym,
        sub: Option<PatId>,
    },
    /// `pat: Type`
    Typed {
        pat: PatId,
        ty: TyId,
    },
    /// `&pat`
    Reference(PatId),
    /// `pat if guard` (a match arm's guard).
    Guard {
        pat: PatId,
        guard: ExprId,
    },
    Or(List),
    Tuple(List),
    /// `Path(elems)`
    TupleStruct {
        path: SymList,
        elems: List,
    },
    /// `Path { fields }`; `fields` lists [`FieldPat`] ids.
    Struct {
        path: SymList,
        fields: List,
    },
    Slice(List),
    Wild,
    Other,
}

#[derive(Debug, Clone, Copy)]
pub enum Stmt {
    /// `let pat = init else { diverge };`
    Local {
        pat: PatId,
        init: Option<ExprId>,
        diverge: Option<ExprId>,
    },
    Expr {
        expr: ExprId,
        semi: bool,
    },
    /// A macro in statement position (its value is never the block's).
    Macro(u32),
    /// An item (its contents are items of the file, not part of this body).
    Item,
}

#[derive(Debug, Clone, Copy)]
pub struct Block {
    pub stmts: List,
    /// The braces: `{` and `}`.
    pub open: Span,
    pub close: Span,
}

#[derive(Debug, Clone, Copy)]
pub struct Arm {
    pub pat: PatId,
    pub body: ExprId,
}

/// `member: expr` in a struct literal (shorthand `member` gives a path expression).
#[derive(Debug, Clone, Copy)]
pub struct FieldInit {
    /// A name, or a tuple index as written (`0`).
    pub member: Sym,
    pub named: bool,
    pub expr: ExprId,
}

#[derive(Debug, Clone, Copy)]
pub struct FieldPat {
    pub member: Sym,
    pub pat: PatId,
}

/// A macro call inside a body.
#[derive(Debug, Clone, Copy)]
pub struct MacroCall {
    /// The last segment of the macro's path (`join` for `tokio::join!`).
    pub name: Sym,
    /// The path's span.
    pub span: Span,
    pub args: MacroArgs,
    /// The words `return` and `break` appear among its tokens (`select!` arms).
    pub has_return: bool,
    pub has_break: bool,
}

/// A macro's arguments: parsed as a list of expressions where they parse (`[tokens]`), the
/// identifiers otherwise; or not parsed yet (the text between the delimiters, from `from` to
/// `to`): most macros are formatting and logging whose arguments matter only while a
/// connection is held, so bodies' macros are parsed when the flow needs them.
#[derive(Debug, Clone, Copy)]
pub enum MacroArgs {
    Exprs(List),
    /// `vec![elem; len]`
    Repeat {
        elem: ExprId,
        len: ExprId,
    },
    Idents(SymList),
    Lazy {
        from: Pos,
        to: Pos,
    },
}

/// A file model's names: those of the file, shared with the models of its macro arguments
/// (which add their own after them).
#[derive(Debug, Clone, Default)]
pub struct Names {
    shared: Arc<NameTable>,
    own: Vec<Box<str>>,
}

/// Names one after the other in one string, and where each ends.
#[derive(Debug, Default)]
pub struct NameTable {
    text: String,
    ends: Vec<u32>,
}

impl NameTable {
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..end)
    }
    fn len(&self) -> usize {
        self.ends.len()
    }
}

impl Names {
    pub fn new(shared: Arc<NameTable>) -> Names {
        Names {
            shared,
            own: Vec::new(),
        }
    }
    pub fn get(&self, s: Sym) -> &str {
        let i = s.index();
        match self.shared.get(i) {
            Some(n) => n,
            None => self.own.get(i - self.shared.len()).map_or("_", |n| n),
        }
    }
    pub fn len(&self) -> usize {
        self.shared.len() + self.own.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub(crate) fn push(&mut self, name: &str) -> Sym {
        let s = Sym(self.len() as u32);
        self.own.push(name.into());
        s
    }
    /// Makes every name shared (the end of a file's lowering).
    pub(crate) fn freeze(&mut self) {
        if !self.own.is_empty() {
            let mut table = NameTable {
                text: String::with_capacity(
                    self.shared.text.len() + self.own.iter().map(|n| n.len()).sum::<usize>(),
                ),
                ends: Vec::with_capacity(self.len()),
            };
            let names = (0..self.shared.len())
                .filter_map(|i| self.shared.get(i))
                .chain(self.own.iter().map(|n| &**n));
            for n in names {
                table.text.push_str(n);
                table.ends.push(table.text.len() as u32);
            }
            self.shared = Arc::new(table);
            self.own = Vec::new();
        }
    }
    pub fn shared(&self) -> &Arc<NameTable> {
        &self.shared
    }
    /// Every name with its symbol.
    pub fn iter(&self) -> impl Iterator<Item = (Sym, &str)> {
        (0..self.shared.len())
            .filter_map(|i| self.shared.get(i))
            .chain(self.own.iter().map(|n| &**n))
            .enumerate()
            .map(|(i, n)| (Sym(i as u32), n))
    }
}

/// A type as written: paths with the last segment's type arguments, references, tuples,
/// arrays, `impl Trait<Assoc = T>` bindings. Lists of types hold [`TyId`]s; lists of
/// bindings ([`FileModel::assoc`]) hold a name and a type each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeExpr {
    Path {
        segs: SymList,
        args: List,
        /// `Trait<Assoc = T>` bindings of the last segment.
        assoc: List,
    },
    /// `&T`, `*const T`, `(T)`.
    Ref(TyId),
    Tuple(List),
    /// `[T; N]`, `[T]`.
    Array(TyId),
    /// `impl Trait<Assoc = T>` / `dyn Trait<Assoc = T>`: the first bound's path and bindings.
    Bound {
        path: SymList,
        assoc: List,
    },
    Other,
}

/// A file, lowered.
#[derive(Debug, Default)]
pub struct FileModel {
    pub path: PathBuf,
    /// The module the file is, for `module::function` paths (its stem, or its directory for
    /// `mod.rs`/`lib.rs`/`main.rs`).
    pub module: String,
    pub names: Names,
    pub scope: Arc<FileScope>,
    pub items: Vec<Item>,
    /// Every function and method with a body, in source order (nested ones after their
    /// parent).
    pub fns: Vec<FnDef>,
    /// Every `static`, including those declared inside `thread_local!`/`lazy_static!`.
    pub statics: Vec<StaticDecl>,
    /// Functions and test code by line, for baselines and test-code handling.
    pub regions: Vec<Region>,
    /// For the model of a macro's arguments (`lower::lower_macro`): those arguments.
    pub macro_root: Option<MacroArgs>,
    /// Chains of inline modules items sit in (`Module` indexes this; `0` is none).
    pub modules: Vec<Box<[Sym]>>,
    /// Turbofish type arguments of method calls (`req.guard::<DbConn>()`), by call.
    pub(crate) turbofish: Vec<(ExprId, List)>,

    pub(crate) exprs: Vec<Expr>,
    pub(crate) expr_spans: Vec<Span>,
    pub(crate) pats: Vec<Pat>,
    pub(crate) pat_spans: Vec<Span>,
    pub(crate) stmts: Vec<Stmt>,
    pub(crate) blocks: Vec<Block>,
    pub(crate) arms: Vec<Arm>,
    pub(crate) field_inits: Vec<FieldInit>,
    pub(crate) field_pats: Vec<FieldPat>,
    pub(crate) macros: Vec<MacroCall>,
    pub(crate) types: Vec<TypeExpr>,
    pub(crate) type_spans: Vec<Span>,
    /// Child lists: `List` ranges index this.
    pub(crate) lists: Vec<u32>,
    /// Name lists (paths): `SymList` ranges index this.
    pub(crate) sym_lists: Vec<Sym>,
}

impl FileModel {
    /// Frees everything but the path, the names and the regions: what messages and baselines
    /// still read once a file's bodies are walked.
    pub fn keep_names(&mut self) {
        let kept = FileModel {
            path: std::mem::take(&mut self.path),
            module: std::mem::take(&mut self.module),
            names: std::mem::take(&mut self.names),
            regions: std::mem::take(&mut self.regions),
            ..FileModel::default()
        };
        *self = kept;
    }

    pub fn name(&self, s: Sym) -> &str {
        self.names.get(s)
    }
    /// The type arguments written on a method call (`::<T>`), if any.
    pub fn turbofish(&self, call: ExprId) -> Option<List> {
        self.turbofish
            .binary_search_by_key(&call, |(e, _)| *e)
            .ok()
            .map(|i| self.turbofish[i].1)
    }

    pub fn expr(&self, id: ExprId) -> Expr {
        self.exprs[id.index()]
    }
    pub fn expr_span(&self, id: ExprId) -> Span {
        self.expr_spans[id.index()]
    }
    pub fn pat(&self, id: PatId) -> Pat {
        self.pats[id.index()]
    }
    pub fn pat_span(&self, id: PatId) -> Span {
        self.pat_spans[id.index()]
    }
    pub fn block(&self, id: BlockId) -> Block {
        self.blocks[id.index()]
    }
    pub fn stmts(&self, b: BlockId) -> impl ExactSizeIterator<Item = Stmt> + '_ {
        self.list(self.blocks[b.index()].stmts)
            .iter()
            .map(|&i| self.stmts[i as usize])
    }
    pub fn arm(&self, i: u32) -> Arm {
        self.arms[i as usize]
    }
    pub fn field_init(&self, i: u32) -> FieldInit {
        self.field_inits[i as usize]
    }
    pub fn field_pat(&self, i: u32) -> FieldPat {
        self.field_pats[i as usize]
    }
    pub fn mac(&self, i: u32) -> MacroCall {
        self.macros[i as usize]
    }
    pub fn ty(&self, id: TyId) -> TypeExpr {
        self.types[id.index()]
    }
    /// The types of a list.
    pub fn tys(&self, l: List) -> impl ExactSizeIterator<Item = TyId> + '_ {
        self.list(l).iter().map(|&i| TyId::from_raw(i))
    }
    /// The `Assoc = T` bindings of a list.
    pub fn assoc(&self, l: List) -> impl Iterator<Item = (Sym, TyId)> + '_ {
        self.list(l)
            .chunks_exact(2)
            .map(|p| (Sym(p[0]), TyId::from_raw(p[1])))
    }
    pub fn ty_span(&self, id: TyId) -> Span {
        self.type_spans[id.index()]
    }
    pub fn list(&self, l: List) -> &[u32] {
        &self.lists[l.range()]
    }
    /// The expressions of a list.
    pub fn exprs_of(&self, l: List) -> impl ExactSizeIterator<Item = ExprId> + '_ {
        self.list(l).iter().map(|&i| ExprId::from_raw(i))
    }
    /// The `i`th expression of a list.
    pub fn nth_expr(&self, l: List, i: usize) -> ExprId {
        ExprId::from_raw(self.list(l)[i])
    }
    pub fn pats_of(&self, l: List) -> impl ExactSizeIterator<Item = PatId> + '_ {
        self.list(l).iter().map(|&i| PatId::from_raw(i))
    }
    pub fn syms(&self, l: SymList) -> &[Sym] {
        &self.sym_lists[l.range()]
    }
    /// A path's segments as strings.
    pub fn path_strings(&self, l: SymList) -> Vec<String> {
        self.syms(l)
            .iter()
            .map(|s| self.name(*s).to_string())
            .collect()
    }
    /// The last segment of a path.
    pub fn last(&self, l: SymList) -> Option<&str> {
        self.syms(l).last().map(|s| self.name(*s))
    }
    /// Is this expression the single-segment path `name`?
    pub fn is_ident(&self, e: ExprId, name: &str) -> bool {
        matches!(self.expr(e), Expr::Path { segs, qself: false } if segs.len() == 1 && self.name(self.syms(segs)[0]) == name)
    }

    /// Is this field name a name (not a tuple index such as `0`)?
    pub fn is_named(&self, member: Sym) -> bool {
        !self.name(member).starts_with(|c: char| c.is_ascii_digit())
    }

    /// A place expression as written, without spaces (`self.pool`, `*guard`, `POOL`), for
    /// messages.
    pub fn render(&self, e: ExprId) -> String {
        match self.expr(e) {
            Expr::Path { segs, .. } => self.path_strings(segs).join("::"),
            Expr::Field { base, member } => format!("{}.{}", self.render(base), self.name(member)),
            Expr::Deref(inner) => format!("*{}", self.render(inner)),
            Expr::Index { base, index } => {
                format!("{}[{}]", self.render(base), self.render(index))
            }
            Expr::MethodCall { recv, method, .. } => {
                format!("{}.{}(..)", self.render(recv), self.name(method))
            }
            Expr::Call { func, .. } => format!("{}(..)", self.render(func)),
            Expr::Lit(Lit::Int(n)) => n.to_string(),
            _ => "..".to_string(),
        }
    }

    /// The whole expression's span, from its first token to its last. Most expressions keep
    /// it as their own span; those anchored at a token (a method name, `.await`, `?`, a
    /// keyword) extend it over their parts.
    pub fn full_span(&self, e: ExprId) -> Span {
        let own = self.expr_span(e);
        match self.expr(e) {
            Expr::Field { base, .. }
            | Expr::MethodCall { recv: base, .. }
            | Expr::Call { func: base, .. }
            | Expr::Await(base)
            | Expr::Try(base) => self.full_span(base).to(own),
            Expr::Return(Some(v)) | Expr::Yield(Some(v)) => own.to(self.full_span(v)),
            Expr::Break { value: Some(v), .. } => own.to(self.full_span(v)),
            Expr::Closure { body, .. } => own.to(self.full_span(body)),
            Expr::ForLoop { body, .. } | Expr::While { body, .. } | Expr::Loop { body } => {
                own.to(self.block(body).close)
            }
            _ => own,
        }
    }
}

impl FileModel {
    /// Roughly how many bytes the model takes (its arenas and names), for the benchmark.
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        let items: usize = self.items.len() * size_of::<Item>()
            + self.fns.len() * size_of::<FnDef>()
            + self
                .fns
                .iter()
                .map(|f| f.sig.params.len() * size_of::<Param>())
                .sum::<usize>();
        let names: usize = self.names.iter().map(|(_, n)| n.len() + 16).sum();
        items
            + names
            + self.exprs.capacity() * size_of::<Expr>()
            + self.expr_spans.capacity() * size_of::<Span>()
            + self.pats.capacity() * size_of::<Pat>()
            + self.pat_spans.capacity() * size_of::<Span>()
            + self.stmts.capacity() * size_of::<Stmt>()
            + self.blocks.capacity() * size_of::<Block>()
            + self.arms.capacity() * size_of::<Arm>()
            + self.field_inits.capacity() * size_of::<FieldInit>()
            + self.field_pats.capacity() * size_of::<FieldPat>()
            + self.macros.capacity() * size_of::<MacroCall>()
            + self.types.capacity() * (size_of::<TypeExpr>() + size_of::<Span>())
            + self.lists.capacity() * 4
            + self.sym_lists.capacity() * 4
    }
}
