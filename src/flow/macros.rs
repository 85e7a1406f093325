//! Macro arguments the flow needs: parsed from the file's text when a walk reaches a macro
//! while it follows something (most macros are logging and formatting, walked only then).

use crate::index::{CrateIndex, FileId};
use crate::lower::{idents_of, lower_expansion, lower_macro};
use crate::model::{ExprId, FileModel, MacroArgs, MacroCall, Sym};
use crate::source::SourceFile;
use rustc_hash::FxHashMap;
use std::cell::OnceCell;
use typed_arena::Arena;

/// Reads a file's text again, for the macro arguments a walk needs.
pub type TextSource<'a> = &'a (dyn Fn() -> Option<SourceFile> + Sync);

/// Parses the arguments of a file's macros on demand. The models it makes live as long as it
/// does, so a walk can switch to one while it walks the arguments.
pub struct Expander<'a> {
    base: &'a FileModel,
    /// Reads the file's text; without it, unparsed arguments stay unknown.
    read: Option<TextSource<'a>>,
    /// The text, once read.
    source: OnceCell<Option<SourceFile>>,
    /// The file's names by text, built on first use.
    names: OnceCell<FxHashMap<&'a str, Sym>>,
    models: Arena<FileModel>,
    /// The crate's `macro_rules!`, for calls the walk expands.
    macros: Option<(&'a CrateIndex, FileId)>,
}

impl<'a> Expander<'a> {
    pub fn new(base: &'a FileModel, read: Option<TextSource<'a>>) -> Expander<'a> {
        Expander {
            base,
            read,
            source: OnceCell::new(),
            names: OnceCell::new(),
            models: Arena::new(),
            macros: None,
        }
    }

    /// Expands the calls of the crate's own `macro_rules!` made in `file`.
    pub fn with_macros(mut self, idx: &'a CrateIndex, file: FileId) -> Expander<'a> {
        self.macros = Some((idx, file));
        self
    }

    /// A call of a crate-local `macro_rules!`, expanded: the model of the expansion and its
    /// block expression. `None` for other macros, and where no rule matches.
    pub fn expansion(&'a self, name: &str, mac: &MacroCall) -> Option<(&'a FileModel, ExprId)> {
        let (idx, file) = self.macros?;
        let rules = idx.macro_rules(file, name)?.clone();
        let (text, from) = self.text(mac)?;
        let defs = |name: &str| idx.macro_rules(file, name).cloned();
        let side = lower_expansion(name, self.base, self.names(), text, from, &rules, &defs)?;
        let side: &'a FileModel = self.models.alloc(side);
        match side.macro_root {
            Some(MacroArgs::Exprs(l)) if l.len() == 1 => Some((side, side.nth_expr(l, 0))),
            _ => None,
        }
    }

    fn names(&self) -> &FxHashMap<&'a str, Sym> {
        let base: &'a FileModel = self.base;
        self.names
            .get_or_init(|| base.names.iter().map(|(s, n)| (n, s)).collect())
    }

    /// The text between a macro's delimiters, and where it starts.
    fn text(&self, mac: &MacroCall) -> Option<(&str, crate::model::Pos)> {
        let MacroArgs::Lazy { from, to } = mac.args else {
            return None;
        };
        let source = self
            .source
            .get_or_init(|| self.read.and_then(|read| read()))
            .as_ref()?;
        let a = source.offset(from.line as usize, from.col as usize);
        let b = source.offset(to.line as usize, to.col as usize);
        Some((source.text.get(a..b.max(a))?, from))
    }

    /// A macro's arguments and the model they live in: the file's own when they were parsed
    /// with it, a model of their own otherwise.
    pub fn args(&'a self, m: &'a FileModel, mac: &MacroCall) -> (&'a FileModel, MacroArgs) {
        if !matches!(mac.args, MacroArgs::Lazy { .. }) {
            return (m, mac.args);
        }
        match self.text(mac) {
            Some((text, from)) => {
                let side: &'a FileModel =
                    self.models
                        .alloc(lower_macro(self.base, self.names(), text, from));
                let root = side
                    .macro_root
                    .unwrap_or(MacroArgs::Exprs(Default::default()));
                (side, root)
            }
            None => (m, MacroArgs::Exprs(Default::default())),
        }
    }

    /// The names of the file among a macro's identifiers (for what a task captures).
    pub fn idents(&self, mac: &MacroCall) -> Vec<Sym> {
        match self.text(mac) {
            Some((text, _)) => idents_of(self.names(), text),
            None => Vec::new(),
        }
    }
}
