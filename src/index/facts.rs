//! What the index takes from one lowered file: its types, aliases, signatures, impls, traits
//! and statics, as owned values (syn's trees and the file's model stay on the thread that
//! lowered them).

use super::consts::ConstExpr;
use crate::model::{self, FileModel, FileScope, TyId};
use std::sync::Arc;

/// A type as written, without spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExpr {
    /// `a::b::C<T, U>`: segments and the last segment's type arguments.
    Path(Vec<String>, Vec<TypeExpr>),
    /// `&T`, `*const T`, `(T)`.
    Ref(Box<TypeExpr>),
    Tuple(Vec<TypeExpr>),
    /// `[T; N]`, `[T]`.
    Array(Box<TypeExpr>),
    /// `impl Trait` / `dyn Trait`: the first bound's path and its associated type binding.
    Bound(Vec<String>, Option<(String, Box<TypeExpr>)>),
    Other,
}

impl TypeExpr {
    /// The owned form of a type of a file model.
    pub fn from_model(m: &FileModel, t: TyId) -> TypeExpr {
        match m.ty(t) {
            model::TypeExpr::Path { segs, args, .. } => TypeExpr::Path(
                m.path_strings(segs),
                m.tys(args).map(|a| TypeExpr::from_model(m, a)).collect(),
            ),
            model::TypeExpr::Ref(inner) => TypeExpr::Ref(Box::new(TypeExpr::from_model(m, inner))),
            model::TypeExpr::Array(inner) => {
                TypeExpr::Array(Box::new(TypeExpr::from_model(m, inner)))
            }
            model::TypeExpr::Tuple(ts) => {
                TypeExpr::Tuple(m.tys(ts).map(|t| TypeExpr::from_model(m, t)).collect())
            }
            model::TypeExpr::Bound { path, assoc } => TypeExpr::Bound(
                m.path_strings(path),
                m.assoc(assoc).next().map(|(name, t)| {
                    (
                        m.name(name).to_string(),
                        Box::new(TypeExpr::from_model(m, t)),
                    )
                }),
            ),
            model::TypeExpr::Other => TypeExpr::Other,
        }
    }

    /// Is the value reached through shared ownership (`Arc<Mutex<T>>`, `Option<Rc<T>>`)?
    pub fn shared(&self) -> bool {
        match self {
            TypeExpr::Path(segs, args) => match segs.last().map(String::as_str) {
                Some("Arc" | "Rc") => true,
                _ => args.first().is_some_and(TypeExpr::shared),
            },
            TypeExpr::Ref(t) => t.shared(),
            _ => false,
        }
    }
}

/// A generic parameter and the paths of its trait bounds.
pub type RawGeneric = (String, Vec<Vec<String>>);

#[derive(Debug, Clone)]
pub struct RawType {
    pub name: String,
    pub module: u32,
    /// Struct fields by name (or index); enum fields as `variant#field`.
    pub fields: Vec<(String, TypeExpr)>,
    /// `#[database("..")]` (rocket_sync_db_pools): a request guard holding a pooled connection.
    pub db_guard: bool,
    /// For enums, the number of variants (0 for structs).
    pub variants: usize,
}

#[derive(Debug, Clone)]
pub struct RawAlias {
    pub name: String,
    pub module: u32,
    pub ty: TypeExpr,
}

/// What a function belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Free,
    /// A method of `FileFacts::impls[i]`.
    Impl(u32),
    /// A method of `FileFacts::traits[i]` (declared, with or without a default body).
    Trait(u32),
}

#[derive(Debug, Clone)]
pub struct RawFn {
    /// Its index in the file model's `fns`.
    pub fn_index: u32,
    pub name: String,
    pub module: u32,
    pub owner: Owner,
    /// Spawns tasks (`tokio::spawn`): what it is given runs in the background.
    pub runs_tasks: bool,
    /// Runs work on a blocking thread (`spawn_blocking`): closures given to it may block.
    pub runs_blocking: bool,
    /// See `model::FnDef::suspends`.
    pub suspends: bool,
    pub ret: Option<TypeExpr>,
    pub is_async: bool,
    /// Takes `self` by value.
    pub self_by_value: bool,
    pub generics: Vec<RawGeneric>,
}

#[derive(Debug, Clone)]
pub struct RawImpl {
    /// The implementing type as written.
    pub self_ty: TypeExpr,
    pub trait_path: Option<Vec<String>>,
    /// `type Target = T;` and other associated types.
    pub assoc: Vec<(String, TypeExpr)>,
    pub module: u32,
    pub generics: Vec<RawGeneric>,
}

#[derive(Debug, Clone)]
pub struct RawTrait {
    pub name: String,
    pub module: u32,
}

/// Everything the index needs from one file, extracted on the thread that lowered it.
#[derive(Debug, Default, Clone)]
pub struct FileFacts {
    pub scope: Arc<FileScope>,
    /// The chains of inline modules (`FileModel::modules`).
    pub modules: Vec<Vec<String>>,
    pub types: Vec<RawType>,
    pub aliases: Vec<RawAlias>,
    pub fns: Vec<RawFn>,
    pub impls: Vec<RawImpl>,
    pub traits: Vec<RawTrait>,
    pub statics: Vec<(String, TypeExpr)>,
    /// `macro_rules!` definitions: name and the text of the rules.
    pub macros: Vec<(String, Arc<str>)>,
    /// `const` and `static` items' values, for constant evaluation.
    pub consts: Vec<RawConst>,
    /// Names in `SCREAMING_CASE` the file's code uses (`MAX_CONNECTIONS`): constants whose
    /// definitions may be in files the prefilter would skip.
    pub const_uses: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RawConst {
    pub name: String,
    pub module: u32,
    pub value: ConstExpr,
}

impl FileFacts {
    /// What the index needs from a lowered file.
    pub fn of(m: &FileModel) -> FileFacts {
        let mut facts = FileFacts {
            scope: m.scope.clone(),
            modules: m
                .modules
                .iter()
                .map(|chain| chain.iter().map(|s| m.name(*s).to_string()).collect())
                .collect(),
            ..FileFacts::default()
        };
        let ty = |t: TyId| TypeExpr::from_model(m, t);
        let generics = |gs: &[model::Generic]| -> Vec<RawGeneric> {
            gs.iter()
                .map(|g| {
                    let bounds = g.bounds.iter().map(|b| m.path_strings(*b)).collect();
                    (m.name(g.name).to_string(), bounds)
                })
                .collect()
        };
        let mut owners = vec![Owner::Free; m.fns.len()];
        for item in &m.items {
            match item {
                model::Item::Alias(a) => facts.aliases.push(RawAlias {
                    name: m.name(a.name).into(),
                    module: a.module,
                    ty: ty(a.ty),
                }),
                model::Item::Struct(st) => facts.types.push(RawType {
                    name: m.name(st.name).into(),
                    module: st.module,
                    fields: st
                        .fields
                        .iter()
                        .map(|f| (m.name(f.name).to_string(), ty(f.ty)))
                        .collect(),
                    db_guard: st.attrs.database,
                    variants: 0,
                }),
                model::Item::Enum(e) => {
                    // Enum fields are named `variant#field`: a value holds a connection only
                    // if every variant does.
                    let fields = e
                        .variants
                        .iter()
                        .enumerate()
                        .flat_map(|(vi, v)| {
                            v.iter()
                                .enumerate()
                                .map(move |(fi, t)| (format!("{vi}#{fi}"), ty(*t)))
                        })
                        .collect();
                    facts.types.push(RawType {
                        name: m.name(e.name).into(),
                        module: e.module,
                        fields,
                        db_guard: false,
                        variants: e.variants.len(),
                    });
                }
                model::Item::Static { name, ty: t } => {
                    facts.statics.push((m.name(*name).into(), ty(*t)))
                }
                model::Item::MacroRules(r) => {
                    facts.macros.push((m.name(r.name).into(), r.rules.clone()))
                }
                // Unknown values too: a name must never resolve to a namesake instead.
                model::Item::Const(c) => facts.consts.push(RawConst {
                    name: m.name(c.name).into(),
                    module: c.module,
                    value: ConstExpr::of(m, c.value),
                }),
                model::Item::Impl(i) => {
                    let id = facts.impls.len() as u32;
                    for f in &i.fns {
                        if let Some(o) = owners.get_mut(*f as usize) {
                            *o = Owner::Impl(id);
                        }
                    }
                    facts.impls.push(RawImpl {
                        self_ty: ty(i.self_ty_expr),
                        trait_path: i.trait_path.map(|p| m.path_strings(p)),
                        assoc: i
                            .assoc_types
                            .iter()
                            .map(|(n, t)| (m.name(*n).to_string(), ty(*t)))
                            .collect(),
                        module: i.module,
                        generics: generics(&i.generics),
                    });
                }
                model::Item::Trait(t) => {
                    let id = facts.traits.len() as u32;
                    for f in &t.fns {
                        if let Some(o) = owners.get_mut(*f as usize) {
                            *o = Owner::Trait(id);
                        }
                    }
                    facts.traits.push(RawTrait {
                        name: m.name(t.name).into(),
                        module: t.module,
                    });
                }
            }
        }
        let mut uses: Vec<&str> = m
            .exprs
            .iter()
            .filter_map(|e| match e {
                model::Expr::Path { segs, .. } => m.last(*segs).filter(|n| screaming(n)),
                _ => None,
            })
            .collect();
        uses.sort_unstable();
        uses.dedup();
        facts.const_uses = uses.into_iter().map(String::from).collect();
        for (i, f) in m.fns.iter().enumerate().filter(|(_, f)| f.indexed) {
            facts.fns.push(RawFn {
                fn_index: i as u32,
                name: m.name(f.sig.name).to_string(),
                module: f.module,
                owner: owners[i],
                runs_tasks: f.runs_tasks,
                runs_blocking: f.runs_blocking,
                suspends: f.suspends,
                ret: f.sig.ret.map(ty),
                is_async: f.sig.is_async,
                self_by_value: f
                    .sig
                    .params
                    .first()
                    .is_some_and(|p| p.kind == model::ParamKind::SelfValue),
                generics: generics(&f.sig.generics),
            });
        }
        facts
    }
}

/// `MAX_CONNECTIONS`, `TIMEOUT`: how constants are named (not `T`, not `Self`).
fn screaming(name: &str) -> bool {
    name.len() > 1
        && name.bytes().any(|b| b.is_ascii_uppercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}
