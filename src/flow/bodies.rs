//! Which bodies get a full walk, and the light pass for the others.

use super::macros::TextSource;
use super::{Body, CalleeKey, Ctx, Event, EventKind, Expander, Walker};
use crate::index::{BodyInfo, CrateIndex, FileId, Where};
use crate::model::{visit, BlockId, Expr, FileModel, FnDef};
use crate::types::Ty;

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
    let ex = Expander::new(m, text).with_macros(idx, file);
    // Which of the file's names are connection-related, once for all its functions.
    let hot_names: Vec<bool> = m.names.iter().map(|(_, n)| idx.is_hot(n)).collect();
    let mut bodies = Vec::new();
    for (i, f) in m.fns.iter().enumerate() {
        let Some(block) = f.body else { continue };
        let name = m.name(f.sig.name).to_string();
        let BodyInfo { key, at } = idx.body(file, m, i as u32);
        let entry = super::entry::entry_of(idx, &at, m, i);
        let events = if hot(idx, f, &at, &hot_names) {
            let mut w = Walker::new(idx, m, &ex, at);
            w.ctx.in_async = f.sig.is_async;
            let handler = f.attrs.route || (f.sig.is_async && f.owner.is_none());
            w.params(&f.sig.params, handler);
            w.body_block(block);
            w.finish(m.block(block).close);
            w.into_events()
        } else {
            cold_calls(idx, &at, m, block)
        };
        bodies.push(Body {
            runs_once: runs_once(&name, f) || f.in_test_mod,
            entry,
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
fn hot(idx: &CrateIndex, f: &FnDef, at: &Where, hot_names: &[bool]) -> bool {
    at.self_ty.is_some_and(|t| idx.is_hot(idx.type_name(t)))
        || f.names
            .iter()
            .any(|s| hot_names.get(s.index()).copied().unwrap_or(false))
}

/// The light pass: the crate-local functions a body calls, by path (`helper(..)`,
/// `db::load(..)`, `Type::f(..)`), on `self` or as a guard, as `LocalCall` events (their spans are never
/// shown: nothing is held in a cold body). Macro arguments are not looked into.
fn cold_calls(idx: &CrateIndex, at: &Where, m: &FileModel, block: BlockId) -> Vec<Event> {
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
                        [name] => idx.bare_fn(at, name).map(|(k, _)| k),
                        [prefix @ .., name] => match idx.resolve_path(at, prefix) {
                            ty @ (Ty::Local(_) | Ty::Param(_)) => {
                                idx.method_on(at, &ty, name).map(|f| f.key)
                            }
                            _ => idx.path_fn(at, &path).map(|(k, _)| k),
                        },
                        [] => None,
                    };
                    if let Some(key) = key {
                        push(key, m.expr_span(func));
                    }
                }
            }
            // `request.guard::<User>()`: runs `User`'s `from_request`.
            Expr::MethodCall { method, .. }
                if super::calls::EXTRACT_CALLS.contains(&m.name(method)) =>
            {
                let ty = m.turbofish(e).and_then(|l| m.tys(l).next());
                if let Some(key) = ty.and_then(|t| idx.extractor(&idx.resolve(at, m, t))) {
                    push(key, m.expr_span(e));
                }
            }
            Expr::MethodCall { recv, method, .. } if m.is_ident(recv, "self") => {
                let name = m.name(method);
                if let Some(key) = at.self_ty.and_then(|t| idx.method_key(t, name)) {
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
