//! Small ids into a file model's arenas. Index 0 of every arena is a placeholder, so an id is
//! never zero and `Option<Id>` costs nothing.

use std::num::NonZeroU32;

macro_rules! arena_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(NonZeroU32);

        impl $name {
            /// The id of arena slot `i` (never 0: slot 0 is the placeholder).
            pub fn from_raw(i: u32) -> $name {
                $name(NonZeroU32::new(i).expect("arena ids start at 1"))
            }
            pub fn raw(self) -> u32 {
                self.0.get()
            }
            pub fn index(self) -> usize {
                self.0.get() as usize
            }
        }
    };
}

arena_id!(
    /// An expression of a file model.
    ExprId
);
arena_id!(
    /// A pattern of a file model.
    PatId
);
arena_id!(
    /// A block of a file model.
    BlockId
);
arena_id!(
    /// A type expression of a file model.
    TyId
);

/// A name interned in its file model (`FileModel::name` gives the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sym(pub(crate) u32);

impl Sym {
    /// `self`: every file model interns it first.
    pub const SELF: Sym = Sym(0);

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A run of ids in the file model's child lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct List {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl List {
    pub fn len(self) -> usize {
        self.len as usize
    }
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
    pub(crate) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// A run of names (a path's segments) in the file model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SymList {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl SymList {
    pub fn len(self) -> usize {
        self.len as usize
    }
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
    pub(crate) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}
