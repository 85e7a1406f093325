//! The rule catalogue. One rule = one file here + `lints/<id>.md` + `fixtures/<id>/`; a meta test
//! keeps the three in step.

use crate::diagnostic::{self, Finding, Label, Severity};
use crate::flow::{Acquirers, Body, HeldRef, Seen};
use crate::index::{CrateIndex, FileId};
use crate::model::{FileModel, Span, Sym};
use crate::profile::Kind;
use crate::types::Held;

mod accumulated_connections;
mod blocking_acquire_in_async;
mod connection_in_app_state;
mod connection_in_background_task;
mod connection_in_static;
mod connection_per_iteration;
mod connection_per_request;
mod detached_connection;
mod forgotten_connection;
mod held_across_await;
mod held_across_blocking;
mod nested_acquire;
mod pool_misconfigured;
mod pool_per_call;
mod pool_without_acquire_timeout;
mod pool_without_max_size;
mod release_skipped;
mod unclosed_connection;
mod unfinished_transaction;
mod unpolled_connection_task;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Escape,
    Hold,
    Lifecycle,
    Config,
    Close,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Escape => "escape",
            Family::Hold => "hold",
            Family::Lifecycle => "lifecycle",
            Family::Config => "config",
            Family::Close => "close",
        }
    }
}

/// The public face of a rule: its id (a stable interface), family, default level and summary.
#[derive(Debug)]
pub struct RuleInfo {
    pub id: &'static str,
    pub family: Family,
    pub default: Severity,
    pub summary: &'static str,
}

/// When a rule can run: on one file as soon as its bodies are walked, or once the crate-wide
/// facts (which functions acquire, which run as tasks, whether the crate nests) are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    File,
    Crate,
}

pub trait Rule: Sync {
    fn info(&self) -> &'static RuleInfo;
    fn check(&self, cx: &mut FileCx<'_>);
    /// Crate-wide rules read only the events [`crate_events`] keeps, and the model's names.
    fn phase(&self) -> Phase {
        Phase::File
    }
}

/// The events crate-wide rules read: what is held across awaits and blocking calls,
/// acquisitions, crate-local calls, endless loops, pools built and raw connections opened.
/// After the file-phase rules ran, a file keeps only these.
pub fn crate_events(ev: &crate::flow::Event) -> bool {
    use crate::flow::EventKind;
    match &ev.kind {
        EventKind::Await { .. }
        | EventKind::Acquire { .. }
        | EventKind::EndlessLoop { .. }
        | EventKind::PoolBuilt(_)
        | EventKind::PoolFromHelper { .. }
        | EventKind::LocalCall { .. } => true,
        // `pool-per-call` reads which pools go out of scope.
        EventKind::Dropped { held, .. } => held.held.kind == Kind::Pool,
        EventKind::Blocking { held, .. } => !held.is_empty(),
        EventKind::Call(_) | EventKind::Method(_) => {
            ev.role() == Some(crate::profile::Role::Connect)
        }
        _ => false,
    }
}

/// Every rule, in catalogue order.
pub fn all() -> &'static [&'static dyn Rule] {
    &[
        &forgotten_connection::ForgottenConnection,
        &detached_connection::DetachedConnection,
        &connection_in_static::ConnectionInStatic,
        &connection_in_app_state::ConnectionInAppState,
        &accumulated_connections::AccumulatedConnections,
        &held_across_await::HeldAcrossAwait,
        &held_across_blocking::HeldAcrossBlocking,
        &nested_acquire::NestedAcquire,
        &connection_in_background_task::ConnectionInBackgroundTask,
        &blocking_acquire_in_async::BlockingAcquireInAsync,
        &pool_per_call::PoolPerCall,
        &connection_per_iteration::ConnectionPerIteration,
        &connection_per_request::ConnectionPerRequest,
        &pool_without_acquire_timeout::PoolWithoutAcquireTimeout,
        &pool_without_max_size::PoolWithoutMaxSize,
        &pool_misconfigured::PoolMisconfigured,
        &unclosed_connection::UnclosedConnection,
        &unpolled_connection_task::UnpolledConnectionTask,
        &unfinished_transaction::UnfinishedTransaction,
        &release_skipped::ReleaseSkipped,
    ]
}

pub fn by_id(id: &str) -> Option<&'static dyn Rule> {
    all().iter().copied().find(|r| r.info().id == id)
}

/// What a rule sees of one file, and where it reports.
pub struct FileCx<'a> {
    pub index: &'a CrateIndex,
    /// Crate-local functions that acquire, and those run as background tasks.
    pub acquirers: &'a Acquirers,
    pub file: FileId,
    /// The file, as reached from the user's argument.
    pub path: &'a std::path::Path,
    pub model: &'a FileModel,
    pub bodies: &'a [Body],
    pub findings: Vec<Finding>,
    pub(crate) current: Option<&'static RuleInfo>,
    /// `pool-misconfigured` thresholds in milliseconds: (above this, below this).
    pub timeouts: (u128, u128),
}

impl<'a> FileCx<'a> {
    pub fn new(
        index: &'a CrateIndex,
        acquirers: &'a Acquirers,
        file: FileId,
        path: &'a std::path::Path,
        model: &'a FileModel,
        bodies: &'a [Body],
    ) -> FileCx<'a> {
        FileCx {
            index,
            acquirers,
            file,
            path,
            model,
            bodies,
            findings: Vec::new(),
            current: None,
            timeouts: (
                pool_misconfigured::MAX_TIMEOUT_MS,
                pool_misconfigured::MIN_TIMEOUT_MS,
            ),
        }
    }

    /// What connection-relevant thing a value is (looking through results and futures).
    pub fn kind_of(&self, v: &Seen) -> Option<Held> {
        self.index.kind_of(&v.ty)
    }

    /// What connection-relevant thing a value contains (collections included).
    pub fn held_in(&self, v: &Seen) -> Option<Held> {
        self.index.held_in(&v.ty)
    }

    /// "sqlx `PoolConnection`", or "`DbConn` (wraps an r2d2 `PooledConnection`)".
    pub fn describe(&self, h: &Held) -> String {
        let k = self.index.knowledge;
        let lib = format!("{} `{}`", k.profile(h.ty).name, k.ty(h.ty).name);
        match &h.wrapper {
            Some(w) => format!("`{w}` (holds {lib})"),
            None => lib,
        }
    }

    /// Reports a finding of the running rule: `at` is the hazard with its label, `labels` the
    /// places that explain it.
    /// The (too long, too short) acquire-timeout bounds of `pool-misconfigured`.
    pub fn timeout_bounds(&self) -> (u128, u128) {
        self.timeouts
    }

    /// A name of this file's model.
    pub fn name(&self, s: Sym) -> &'a str {
        self.model.name(s)
    }

    /// The binding that holds `h`, when it has a name the file knows (a local of an expanded
    /// macro may have none: `_`).
    pub fn held_binding(&self, h: &HeldRef) -> Option<&'a str> {
        h.name.map(|n| self.name(n)).filter(|n| *n != "_")
    }

    /// "`conn`" or "a temporary connection", for messages.
    pub fn held_name(&self, h: &HeldRef) -> String {
        match self.held_binding(h) {
            Some(n) => format!("`{n}`"),
            None => format!("a temporary {}", h.held.kind.noun()),
        }
    }

    /// The secondary label at the place a held connection came from.
    pub fn origin_label(&self, h: &HeldRef) -> (Span, String) {
        let what = self.describe(&h.held);
        let text = match (self.held_binding(h), h.param) {
            (Some(n), true) => {
                format!("`{n}` ({what}) is held for the whole function: it comes in here")
            }
            (Some(n), false) => format!("`{n}` ({what}) is acquired here"),
            (None, _) => format!("{what} acquired here"),
        };
        (h.origin, text)
    }

    pub fn report(
        &mut self,
        at: (Span, String),
        message: String,
        labels: Vec<(Span, String)>,
        help: Option<String>,
    ) {
        let (primary, primary_message) = at;
        let info = self.current.expect("report is called from a rule");
        let primary_span = diagnostic::Span::from_model(primary);
        let mut secondary: Vec<Label> = labels
            .into_iter()
            .map(|(s, m)| Label {
                span: diagnostic::Span::from_model(s),
                message: m,
            })
            .filter(|l| l.span != primary_span)
            .collect();
        secondary.dedup();
        self.findings.push(Finding {
            rule: info.id,
            severity: info.default,
            message,
            path: self.path.to_path_buf(),
            primary: Label {
                span: primary_span,
                message: primary_message,
            },
            secondary,
            help,
        });
    }
}

/// Runs the enabled rules of a phase over one file.
pub fn run(cx: &mut FileCx<'_>, enabled: &dyn Fn(&str) -> bool, phase: Phase) {
    for rule in all().iter().filter(|r| r.phase() == phase) {
        let info = rule.info();
        if enabled(info.id) {
            cx.current = Some(info);
            rule.check(cx);
        }
    }
    cx.current = None;
}

/// The rule docs (`lints/<id>.md`), embedded.
const DOCS: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/docs.rs"));

/// A rule's documentation, by id.
pub fn doc(id: &str) -> Option<&'static str> {
    DOCS.iter().find(|(n, _)| *n == id).map(|(_, d)| *d)
}

/// Ids of every embedded doc (the meta test compares them with the registry).
pub fn documented_ids() -> impl Iterator<Item = &'static str> {
    DOCS.iter().map(|(n, _)| *n)
}

/// Held connections that matter to the hold rules: those that occupy a pool slot, and any
/// connection received from the caller (which is usually a pooled one, dereferenced).
pub fn slot_holders<'h>(
    index: &CrateIndex,
    held: &'h [HeldRef],
) -> impl Iterator<Item = &'h HeldRef> {
    let k = index.knowledge;
    held.iter().filter(move |h| {
        let slot = h.held.kind.holds_pool_slot() && !h.unpooled;
        // A connection received by reference is usually a pooled one dereferenced, unless
        // its type is a single shared client (tokio-postgres `Client`) or a crate-local type
        // that owns a raw connection itself (a worker that opened its own `rusqlite`
        // connection): neither takes a pool slot.
        let owned_raw = h.held.kind == Kind::Raw && h.held.wrapper.is_some();
        let param =
            h.param && h.held.kind.holds_connection() && !k.ty(h.held.ty).shareable && !owned_raw;
        slot || param
    })
}
