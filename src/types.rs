//! The analysis' view of types: just enough structure to follow connections through wrappers,
//! results, futures, collections and crate-local structs, without a type checker.

use crate::profile::{Kind, TypeId};

/// A struct or enum of the checked code: an index into the crate index's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalTy(pub u32);

/// A trait of the checked code: an index into the crate index's traits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraitId(pub u32);

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Ty {
    #[default]
    Unknown,
    /// A type a profile knows (`sqlx::PoolConnection`, `r2d2::Pool`).
    Db(TypeId),
    /// A struct or enum defined in the checked code.
    Local(LocalTy),
    /// A value known only by a crate-local trait it implements: a generic parameter
    /// (`C: Context`), `impl Trait` or `dyn Trait`.
    Param(TraitId),
    /// `Result<T, _>` or `Option<T>`: peeled by `?`, `unwrap`, `expect`, `if let Some(..)`.
    Fallible(Box<Ty>),
    /// A future: peeled by `.await`.
    Future(Box<Ty>),
    /// A collection whose elements (or map values) are `T`.
    Collection(Box<Ty>),
    /// An iterator yielding `T`.
    Iter(Box<Ty>),
    /// A write-once cell (`OnceLock<T>`, `OnceCell<T>`): `get()` gives `Option<&T>`.
    Cell(Box<Ty>),
    Tuple(Vec<Ty>),
}

impl Ty {
    pub fn fallible(t: Ty) -> Ty {
        if t == Ty::Unknown {
            t
        } else {
            Ty::Fallible(Box::new(t))
        }
    }
    pub fn future(t: Ty) -> Ty {
        if t == Ty::Unknown {
            t
        } else {
            Ty::Future(Box::new(t))
        }
    }
    pub fn collection(t: Ty) -> Ty {
        if t == Ty::Unknown {
            t
        } else {
            Ty::Collection(Box::new(t))
        }
    }
    pub fn iter(t: Ty) -> Ty {
        Ty::Iter(Box::new(t))
    }

    /// A declared type with its `_` parts filled in from what was inferred:
    /// `let (client, conn): (Client, _) = cfg.connect(..)` keeps the connection's type.
    pub fn declared_over(self, inferred: Ty) -> Ty {
        match (self, inferred) {
            (Ty::Unknown, inferred) => inferred,
            (Ty::Tuple(declared), Ty::Tuple(inferred)) if declared.len() == inferred.len() => {
                Ty::Tuple(
                    declared
                        .into_iter()
                        .zip(inferred)
                        .map(|(d, i)| d.declared_over(i))
                        .collect(),
                )
            }
            (declared, _) => declared,
        }
    }

    pub fn is_unknown(&self) -> bool {
        *self == Ty::Unknown
    }

    /// The value once results and futures are unwrapped (`pool.get().await?` → connection).
    pub fn settled(&self) -> &Ty {
        match self {
            Ty::Fallible(t) | Ty::Future(t) => t.settled(),
            t => t,
        }
    }

    /// Drops one level of `Result`/`Option`.
    pub fn unwrap_fallible(self) -> Ty {
        match self {
            Ty::Fallible(t) => *t,
            t => t,
        }
    }

    /// Drops one level of future.
    pub fn awaited(self) -> Ty {
        match self {
            Ty::Future(t) => *t,
            t => t,
        }
    }

    /// The element type of a collection or iterator.
    pub fn element(&self) -> Option<&Ty> {
        match self {
            Ty::Collection(t) | Ty::Iter(t) => Some(t),
            Ty::Fallible(t) => t.element(),
            _ => None,
        }
    }
}

/// A connection-relevant type found inside a value: its kind and the library type that makes it
/// so, plus the crate-local wrapper it sits in, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub kind: Kind,
    pub ty: TypeId,
    pub wrapper: Option<std::sync::Arc<str>>,
}
