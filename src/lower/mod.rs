//! Syntax → model: parses a file with syn and lowers the tree into a [`FileModel`] at once, so
//! the tree (and proc-macro2's copy of the text) is dropped before the next file is parsed.
//! This is the only part of connlint that reads syn's tree.

pub mod expand;
mod exprs;
mod items;
mod pats;

use crate::model::{
    Arm, Block, BlockId, Expr, ExprId, FieldInit, FieldPat, FileModel, List, MacroArgs, MacroCall,
    Names, Pat, PatId, Pos, Span, Stmt, Sym, SymList, TyId, TypeExpr,
};
use rustc_hash::FxHashMap;
use std::fmt::Write;
use std::path::Path;

/// Why a file could not be lowered: syn's message and where.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub message: String,
    pub at: Span,
}

/// Parses `text` and lowers it. `path` is where the file is (for its module name).
pub fn lower_file(path: &Path, text: &str) -> Result<FileModel, ParseError> {
    let parsed = syn::parse_file(text);
    let out = match parsed {
        Ok(file) => {
            let mut l = Lowerer::new(path, text);
            l.file(&file);
            Ok(l.finish())
        }
        Err(e) => Err(ParseError {
            message: e.to_string(),
            at: span_of(e.span()),
        }),
    };
    // Every span of this file is gone with its tree: free proc-macro2's table (and its copy
    // of the text) before the next file.
    proc_macro2::extra::invalidate_current_thread_spans();
    out
}

/// Parses and lowers the arguments of a macro of `base` left unparsed (`MacroArgs::Lazy`):
/// `text` is what stands between its delimiters, which starts at `from` in the file, and
/// `names` maps `base`'s names to their symbols, so the result shares them. The returned
/// model holds just these arguments, as its `macro_root`.
pub fn lower_macro(
    base: &FileModel,
    names: &FxHashMap<&str, Sym>,
    text: &str,
    from: Pos,
) -> FileModel {
    let source = format!("[{text}]");
    let parsed = syn::parse_str::<syn::Expr>(&source);
    side_model(base, names, &source, from, |l| match parsed {
        Ok(syn::Expr::Array(a)) => MacroArgs::Exprs(l.exprs(&a.elems)),
        Ok(syn::Expr::Repeat(r)) => MacroArgs::Repeat {
            elem: l.expr(&r.expr),
            len: l.expr(&r.len),
        },
        _ => {
            let idents = idents_of(names, text);
            MacroArgs::Idents(l.sym_list(&idents))
        }
    })
}

/// The expansion of a call of a crate-local `macro_rules!` (`rules`) whose arguments are
/// `text`, starting at `from`: a model whose root is one block expression. `None` when the
/// arguments do not lex or no rule matches.
pub fn lower_expansion(
    name: &str,
    base: &FileModel,
    names: &FxHashMap<&str, Sym>,
    text: &str,
    from: Pos,
    rules: &str,
    defs: expand::Definitions,
) -> Option<FileModel> {
    let source = format!("({text})");
    let block = source
        .parse::<proc_macro2::TokenStream>()
        .ok()
        .and_then(|tokens| match tokens.into_iter().next() {
            Some(proc_macro2::TokenTree::Group(call)) => {
                let site = call.span_open();
                let body = expand::expand(name, rules, call.stream(), site, defs)?;
                let mut block = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, body);
                block.set_span(site);
                syn::parse2::<syn::Expr>(proc_macro2::TokenTree::Group(block).into()).ok()
            }
            _ => None,
        });
    let Some(block) = block else {
        proc_macro2::extra::invalidate_current_thread_spans();
        return None;
    };
    Some(side_model(base, names, &source, from, |l| {
        let e = l.expr(&block).raw();
        MacroArgs::Exprs(l.list(&[e]))
    }))
}

/// A model of code parsed from a macro call's text (`source`, one delimiter before the
/// arguments that start at `from`), sharing the file's names; `root` lowers what it holds.
fn side_model(
    base: &FileModel,
    names: &FxHashMap<&str, Sym>,
    source: &str,
    from: Pos,
    root: impl FnOnce(&mut Lowerer<'_>) -> MacroArgs,
) -> FileModel {
    let mut l = Lowerer::new(&base.path, source);
    l.m.names = Names::new(base.names.shared().clone());
    l.base_names = Some(names);
    l.shift = Some(from);
    l.lazy_macros = false;
    l.expanding = true;
    let root = root(&mut l);
    l.m.macro_root = Some(root);
    let m = l.finish();
    proc_macro2::extra::invalidate_current_thread_spans();
    m
}

/// The identifiers of a macro's argument text that are names of the file (`names`): the
/// only ones that can be bindings.
pub fn idents_of(names: &FxHashMap<&str, Sym>, text: &str) -> Vec<Sym> {
    fn scan(tokens: proc_macro2::TokenStream, names: &FxHashMap<&str, Sym>, out: &mut Vec<Sym>) {
        for t in tokens {
            match t {
                proc_macro2::TokenTree::Ident(i) => {
                    if let Some(&s) = names.get(i.to_string().as_str()) {
                        out.push(s);
                    }
                }
                proc_macro2::TokenTree::Group(g) => scan(g.stream(), names, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(tokens) = text.parse::<proc_macro2::TokenStream>() {
        scan(tokens, names, &mut out);
    }
    proc_macro2::extra::invalidate_current_thread_spans();
    out
}

/// The module a file is, for matching `module::function` paths: its stem, or the directory
/// of a `mod.rs`, `lib.rs` or `main.rs`.
pub fn module_of(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = if matches!(stem.as_str(), "mod" | "lib" | "main") {
        let mut dir = path.parent();
        if dir.and_then(|d| d.file_name()).is_some_and(|n| n == "src") {
            dir = dir.and_then(|d| d.parent());
        }
        dir.and_then(|d| d.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(stem)
    } else {
        stem
    };
    name.replace('-', "_")
}

fn span_of(s: proc_macro2::Span) -> Span {
    let (a, b) = (s.start(), s.end());
    Span {
        lo: Pos {
            line: a.line as u32,
            col: a.column as u32,
        },
        hi: Pos {
            line: b.line as u32,
            col: b.column as u32,
        },
    }
}

/// The lowering of one file: the model under construction and the interner.
pub(crate) struct Lowerer<'t> {
    m: FileModel,
    text: &'t str,
    /// Byte offset of each line's start, for the byte ranges of function texts.
    line_starts: Vec<usize>,
    interned: FxHashMap<Box<str>, Sym>,
    /// The names of the file whose macro arguments are being lowered (see [`lower_macro`]).
    base_names: Option<&'t FxHashMap<&'t str, Sym>>,
    /// Positions of the text being parsed start here in the file (macro arguments).
    shift: Option<Pos>,
    /// Leave bodies' macro arguments unparsed (`MacroArgs::Lazy`).
    lazy_macros: bool,
    /// Lowering a macro's arguments: items inside them are not the file's.
    expanding: bool,
    /// The names written in each function being lowered (innermost last).
    fn_names: Vec<Vec<Sym>>,
    buf: String,
    /// The chain of inline modules being lowered, and its index in `FileModel::modules`.
    module_stack: Vec<Sym>,
    module: u32,
    /// Inside a `#[cfg(..test..)]` module.
    in_test_mod: bool,
    /// The type of the enclosing `impl` or trait, for the functions lowered now.
    owner: Option<Sym>,
}

impl<'t> Lowerer<'t> {
    fn new(path: &Path, text: &'t str) -> Lowerer<'t> {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        let mut m = FileModel {
            path: path.to_path_buf(),
            module: module_of(path),
            ..FileModel::default()
        };
        // Slot 0 of every arena is a placeholder: ids are never 0.
        m.exprs.push(Expr::Other);
        m.expr_spans.push(Span::default());
        m.pats.push(Pat::Wild);
        m.pat_spans.push(Span::default());
        m.blocks.push(Block {
            stmts: List::default(),
            open: Span::default(),
            close: Span::default(),
        });
        m.types.push(TypeExpr::Other);
        m.type_spans.push(Span::default());
        m.modules.push(Box::default());
        let mut l = Lowerer {
            m,
            text,
            line_starts,
            interned: FxHashMap::default(),
            base_names: None,
            shift: None,
            lazy_macros: true,
            expanding: false,
            fn_names: Vec::new(),
            buf: String::new(),
            module_stack: Vec::new(),
            module: 0,
            in_test_mod: false,
            owner: None,
        };
        let this = l.sym("self");
        debug_assert_eq!(this, Sym::SELF);
        l
    }

    fn finish(mut self) -> FileModel {
        self.m.names.freeze();
        self.m.exprs.shrink_to_fit();
        self.m.expr_spans.shrink_to_fit();
        self.m.pats.shrink_to_fit();
        self.m.pat_spans.shrink_to_fit();
        self.m.stmts.shrink_to_fit();
        self.m.blocks.shrink_to_fit();
        self.m.lists.shrink_to_fit();
        self.m.sym_lists.shrink_to_fit();
        self.m.types.shrink_to_fit();
        self.m.type_spans.shrink_to_fit();
        self.m
    }

    // ---- names and positions ---------------------------------------------------------------

    pub(crate) fn sym(&mut self, name: &str) -> Sym {
        let s = self.intern(name);
        if let Some(names) = self.fn_names.last_mut() {
            names.push(s);
        }
        s
    }

    fn intern(&mut self, name: &str) -> Sym {
        if let Some(&s) = self.interned.get(name) {
            return s;
        }
        if let Some(&s) = self.base_names.and_then(|b| b.get(name)) {
            return s;
        }
        let s = self.m.names.push(name);
        self.interned.insert(name.into(), s);
        s
    }

    /// Interns an identifier without allocating for names seen before.
    pub(crate) fn ident(&mut self, i: &proc_macro2::Ident) -> Sym {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let _ = write!(buf, "{i}");
        let s = self.sym(&buf);
        self.buf = buf;
        s
    }

    pub(crate) fn span(&self, s: proc_macro2::Span) -> Span {
        let span = span_of(s);
        match self.shift {
            None => span,
            Some(at) => {
                // The parsed text is `[` followed by the arguments, which start at `at`.
                let shift = |p: Pos| {
                    if p.line == 1 {
                        Pos {
                            line: at.line,
                            col: (at.col + p.col).saturating_sub(1),
                        }
                    } else {
                        Pos {
                            line: at.line + p.line - 1,
                            col: p.col,
                        }
                    }
                };
                Span {
                    lo: shift(span.lo),
                    hi: shift(span.hi),
                }
            }
        }
    }

    /// The source text a span covers.
    pub(crate) fn text_of(&self, s: proc_macro2::Span) -> &'t str {
        let span = self.span(s);
        let (a, b) = (self.offset(span.lo), self.offset(span.hi));
        self.text.get(a..b.max(a)).unwrap_or("")
    }

    /// The byte offset of a position, for function text ranges.
    fn offset(&self, p: Pos) -> usize {
        let Some(&start) = self.line_starts.get((p.line as usize).saturating_sub(1)) else {
            return self.text.len();
        };
        let line = &self.text[start..];
        let line = line.split('\n').next().unwrap_or("");
        start
            + line
                .char_indices()
                .nth(p.col as usize)
                .map_or(line.len(), |(i, _)| i)
    }

    // ---- arenas ----------------------------------------------------------------------------

    pub(crate) fn push_expr(&mut self, e: Expr, span: Span) -> ExprId {
        let id = ExprId::from_raw(self.m.exprs.len() as u32);
        self.m.exprs.push(e);
        self.m.expr_spans.push(span);
        id
    }

    pub(crate) fn push_pat(&mut self, p: Pat, span: Span) -> PatId {
        let id = PatId::from_raw(self.m.pats.len() as u32);
        self.m.pats.push(p);
        self.m.pat_spans.push(span);
        id
    }

    pub(crate) fn push_type(&mut self, t: TypeExpr, span: Span) -> TyId {
        let id = TyId::from_raw(self.m.types.len() as u32);
        self.m.types.push(t);
        self.m.type_spans.push(span);
        id
    }

    pub(crate) fn push_block(&mut self, b: Block) -> BlockId {
        let id = BlockId::from_raw(self.m.blocks.len() as u32);
        self.m.blocks.push(b);
        id
    }

    pub(crate) fn push_stmt(&mut self, s: Stmt) -> u32 {
        self.m.stmts.push(s);
        (self.m.stmts.len() - 1) as u32
    }

    pub(crate) fn push_arm(&mut self, a: Arm) -> u32 {
        self.m.arms.push(a);
        (self.m.arms.len() - 1) as u32
    }

    pub(crate) fn push_field_init(&mut self, f: FieldInit) -> u32 {
        self.m.field_inits.push(f);
        (self.m.field_inits.len() - 1) as u32
    }

    pub(crate) fn push_field_pat(&mut self, f: FieldPat) -> u32 {
        self.m.field_pats.push(f);
        (self.m.field_pats.len() - 1) as u32
    }

    pub(crate) fn push_macro(&mut self, mc: MacroCall) -> u32 {
        self.m.macros.push(mc);
        (self.m.macros.len() - 1) as u32
    }

    /// Stores a finished child list.
    pub(crate) fn list(&mut self, ids: &[u32]) -> List {
        let start = self.m.lists.len() as u32;
        self.m.lists.extend_from_slice(ids);
        List {
            start,
            len: ids.len() as u32,
        }
    }

    pub(crate) fn sym_list(&mut self, syms: &[Sym]) -> SymList {
        let start = self.m.sym_lists.len() as u32;
        self.m.sym_lists.extend_from_slice(syms);
        SymList {
            start,
            len: syms.len() as u32,
        }
    }

    /// A path's segment names.
    pub(crate) fn path(&mut self, p: &syn::Path) -> SymList {
        let start = self.m.sym_lists.len() as u32;
        for s in &p.segments {
            let sym = self.ident(&s.ident);
            self.m.sym_lists.push(sym);
        }
        SymList {
            start,
            len: p.segments.len() as u32,
        }
    }
}
