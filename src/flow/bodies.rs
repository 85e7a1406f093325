//! Which bodies get a full walk, and the light pass for the others.

use super::macros::TextSource;
use super::{Body, CalleeKey, Ctx, Event, EventKind, Expander, Walker};
use crate::index::{CrateIndex, FileId};
use crate::model::{visit, BlockId, Expr, FileModel, FnDef};

/// Analyses the bodies of one file: functions that name nothing connection-related (no
/// profile type or crate, no crate-local name that leads to a connection) get only a light
/// pass that records the crate-local functions they call, which is all they can contribute.
/// `text` reads the file's text when a walk needs macro arguments (none without it).
pub fn analyse_file(
    idx: &CrateIndex,
    file: FileId,
    m: &FileModel,
    text: Option<TextSource<'_>>,
) -> Vec<Body> {
    let ex = Expander::new(m, text);
    // Which of the file's names are connection-related, once for all its functions.
    let hot_names: Vec<bool> = m.names.iter().map(|(_, n)| idx.is_hot(n)).collect();
    let mut bodies = Vec::new();
    for f in &m.fns {
        let Some(block) = f.body else { continue };
        let self_ty = f.owner.map(|o| m.name(o).to_string());
        let name = m.name(f.sig.name).to_string();
        let key = match &self_ty {
            Some(t) => idx.method_key(t, &name),
            None => idx.fn_key(&name, file),
        };
        let events = if hot(idx, f, self_ty.as_deref(), &hot_names) {
            let mut w = Walker::new(idx, m, &ex, file, self_ty);
            w.ctx.in_async = f.sig.is_async;
            w.params(&f.sig.params);
            w.body_block(block);
            w.finish(m.block(block).close);
            w.into_events()
        } else {
            cold_calls(idx, file, m, self_ty.as_deref(), block)
        };
        bodies.push(Body {
            runs_once: runs_once(&name, f) || f.in_test_mod,
            name,
            key,
            is_async: f.sig.is_async,
            events,
        });
    }
    bodies
}

/// Does this function name anything connection-related (its signature or body text, or the
/// type it is a method of)?
fn hot(idx: &CrateIndex, f: &FnDef, self_ty: Option<&str>, hot_names: &[bool]) -> bool {
    self_ty.is_some_and(|t| idx.is_hot(t))
        || f.names
            .iter()
            .any(|s| hot_names.get(s.index()).copied().unwrap_or(false))
}

/// The light pass: the crate-local functions a body calls, by path (`helper(..)`,
/// `db::load(..)`, `Type::f(..)`) or on `self`, as `LocalCall` events (their spans are never
/// shown: nothing is held in a cold body). Macro arguments are not looked into.
fn cold_calls(
    idx: &CrateIndex,
    file: FileId,
    m: &FileModel,
    self_ty: Option<&str>,
    block: BlockId,
) -> Vec<Event> {
    let mut out = Vec::new();
    let mut push = |key: CalleeKey, span| {
        out.push(Event {
            kind: EventKind::LocalCall {
                key,
                held: Vec::new(),
            },
            span,
            ctx: Ctx::default(),
        })
    };
    visit::block_exprs(m, block, false, &mut |e| {
        match m.expr(e) {
            Expr::Call { func, .. } => {
                if let Expr::Path { segs, .. } = m.expr(func) {
                    let path = m.path_strings(segs);
                    let key = match path.as_slice() {
                        [name] => idx.bare_fn_key(name, file),
                        [.., ty, name] if ty == "Self" => {
                            self_ty.and_then(|t| idx.method_key(t, name))
                        }
                        [.., ty, name] if idx.has_method(ty, name) => idx.method_key(ty, name),
                        [.., module, name] => idx.fn_key_in(module, name),
                        [] => None,
                    };
                    if let Some(key) = key {
                        push(key, m.expr_span(func));
                    }
                }
            }
            Expr::MethodCall { recv, method, .. } if m.is_ident(recv, "self") => {
                let name = m.name(method);
                if let Some(key) = self_ty.and_then(|t| idx.method_key(t, name)) {
                    push(key, m.expr_span(e));
                }
            }
            _ => {}
        }
        true
    });
    out
}

/// Does a function run once per process (so building a pool in it is fine)? `main`, tests,
/// and start-up functions by name: init, setup, bootstrap, startup, migrate, seed.
fn runs_once(name: &str, f: &FnDef) -> bool {
    let name = name.to_lowercase();
    // Whole words of the name, so `initiate_refund` is not start-up code.
    let startup = name.split('_').any(|w| {
        matches!(
            w,
            "init"
                | "initialize"
                | "initialise"
                | "setup"
                | "bootstrap"
                | "startup"
                | "migrate"
                | "migrations"
                | "seed"
        )
    });
    f.attrs.runs_once || name == "main" || startup
}
