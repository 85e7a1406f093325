//! The items of a file: what the crate index collects (types, signatures, statics, impls,
//! traits) and the functions whose bodies the flow analysis walks.

use super::{BlockId, ExprId, PatId, Span, Sym, SymList, TyId};

/// What the analysis reads of an item's attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// `#[test]`, `#[tokio::test]`, `#[main]`, `#[rstest]`, `#[bench]`-like: runs once.
    pub runs_once: bool,
    /// `#[database("..")]` (rocket_sync_db_pools).
    pub database: bool,
    /// `#[derive(..)]` names (`Clone`, `FromRef`, ...).
    pub derives: Vec<Sym>,
    /// A route or handler attribute (`#[get("/x")]`, `#[rocket::post(..)]`, `#[handler]`):
    /// the function runs once per request.
    pub route: bool,
}

/// An item the crate index collects.
#[derive(Debug, Clone)]
pub enum Item {
    Alias(TypeAlias),
    Struct(StructDef),
    Enum(EnumDef),
    /// A `static` item (not those of `thread_local!`/`lazy_static!`).
    Static {
        name: Sym,
        ty: TyId,
    },
    Const(Const),
    Impl(ImplDef),
    Trait(TraitDef),
    MacroRules(MacroRules),
}

#[derive(Debug, Clone)]
pub struct TypeAlias {
    pub name: Sym,
    pub ty: TyId,
    pub module: Module,
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    /// The field's name, or its index for tuple structs (`0`).
    pub name: Sym,
    pub ty: TyId,
}

#[derive(Debug, Clone)]
pub struct StructDef {
    pub name: Sym,
    pub fields: Vec<FieldDef>,
    pub attrs: Attrs,
    pub module: Module,
}

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub name: Sym,
    /// Each variant's fields, in order.
    pub variants: Vec<Vec<TyId>>,
    pub attrs: Attrs,
    pub module: Module,
}

/// A `const` item, or the value of a `static` (its type is in `Item::Static`).
#[derive(Debug, Clone)]
pub struct Const {
    pub name: Sym,
    pub ty: TyId,
    pub value: ExprId,
    pub module: Module,
}

/// `impl [Trait for] Type { .. }`.
#[derive(Debug, Clone)]
pub struct ImplDef {
    /// The last segment of the implementing type's path (`None` for other types).
    pub self_ty: Option<Sym>,
    pub self_ty_expr: TyId,
    /// The trait's path, for trait impls.
    pub trait_path: Option<SymList>,
    /// `type Target = T;` and other associated types.
    pub assoc_types: Vec<(Sym, TyId)>,
    /// Its methods, as indices into `FileModel::fns`.
    pub fns: Vec<u32>,
    pub module: Module,
    /// `impl<T: Bound> Trait for T`: its generic parameters.
    pub generics: Vec<Generic>,
}

#[derive(Debug, Clone)]
pub struct TraitDef {
    pub name: Sym,
    /// Its methods (with or without a default body), as indices into `FileModel::fns`.
    pub fns: Vec<u32>,
    pub module: Module,
}

/// A `macro_rules!` definition: its name, span and the text of its rules (the group after
/// the name), expanded by substitution where a body calls it.
#[derive(Debug, Clone)]
pub struct MacroRules {
    pub name: Sym,
    pub span: Span,
    pub rules: std::sync::Arc<str>,
}

/// The module an item is defined in, as an index into `FileModel::modules`: the chain of
/// inline `mod name { .. }` it sits in, inside the file's own module (`0`: none).
pub type Module = u32;

/// A generic parameter and the traits it is bound by (`C: Context`, `where C: Context`).
#[derive(Debug, Clone)]
pub struct Generic {
    pub name: Sym,
    /// The paths of its trait bounds.
    pub bounds: Vec<SymList>,
}

/// How a parameter is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// `self`, `mut self`
    SelfValue,
    /// `&self`, `&mut self`, `self: &Self`, `self: Arc<Self>`...
    SelfRef,
    Typed {
        pat: PatId,
        ty: TyId,
        by_ref: bool,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub kind: ParamKind,
    /// The `self` token, or the pattern.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FnSig {
    pub name: Sym,
    pub params: Vec<Param>,
    pub ret: Option<TyId>,
    pub is_async: bool,
    pub generics: Vec<Generic>,
}

/// A function or method, with its body if it has one.
#[derive(Debug, Clone)]
pub struct FnDef {
    pub sig: FnSig,
    pub body: Option<BlockId>,
    /// The type of the enclosing `impl` (last path segment) or the enclosing trait's name.
    pub owner: Option<Sym>,
    pub module: Module,
    pub attrs: Attrs,
    /// Inside a `#[cfg(..test..)]` module.
    pub in_test_mod: bool,
    /// Collected by the crate index (items of the file, its modules and impls and traits; not
    /// functions nested inside bodies).
    pub indexed: bool,
    /// Spawns tasks (`spawn`, `spawn_local`): what it is given runs in the background.
    pub runs_tasks: bool,
    /// Runs work on a blocking thread (`spawn_blocking`, `block_in_place`).
    pub runs_blocking: bool,
    /// Its body has an `.await` or a macro (which may hide one): an `async fn` without either
    /// runs to completion when first polled, so awaiting it suspends nothing.
    pub suspends: bool,
    /// Byte offsets of the text from `fn` to the closing brace.
    pub text: (u32, u32),
    /// Every name written from `fn` to the closing brace (functions nested inside included),
    /// sorted: whether the function names anything connection-related.
    pub names: Box<[Sym]>,
}

/// Where a `static` is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaticVia {
    Static,
    ThreadLocal,
    LazyStatic,
}

/// A `static`, including those of `thread_local!` and `lazy_static!`.
#[derive(Debug, Clone)]
pub struct StaticDecl {
    pub name: Sym,
    pub ty: TyId,
    pub init: Option<ExprId>,
    /// From `static` to the name.
    pub span: Span,
    pub via: StaticVia,
}

/// Functions and test code by line range: what baselines key findings by, and what the
/// test-code setting applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Region {
    /// A function or method (`Type::method`), lines `lo..=hi`.
    Fn { lo: u32, hi: u32, name: String },
    /// A `#[cfg(test)]` module or impl, or a `#[test]`-like function.
    Test { lo: u32, hi: u32 },
}
