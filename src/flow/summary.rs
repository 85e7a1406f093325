//! Interprocedural facts: which crate-local functions and methods acquire a connection, open
//! a raw one or block the thread (directly or through the functions they call, across files,
//! to a fixed point), and which run as background tasks.

use super::{Acquisition, Body, CalleeKey, EventKind};
use crate::diagnostic::Pos;
use crate::index::CrateIndex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Where a function acquires, for messages ("`load_user` acquires a connection at
/// src/db.rs:42").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireSite {
    pub path: PathBuf,
    pub pos: Pos,
    /// The pool, as the acquiring code names it.
    pub pool: Option<String>,
    /// The chain of calls that leads there, when not direct (`load_user` → `get_conn`).
    pub via: Vec<String>,
    /// From a pool of an embedded database (a per-file SQLite pool): taking it while holding
    /// a server connection waits on no shared pool.
    pub embedded: bool,
}

/// Where a synchronous function blocks the thread, for messages ("`fetch` blocks in
/// `send()` at src/http.rs:12").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSite {
    pub path: PathBuf,
    pub pos: Pos,
    /// The blocking call, as the events name it (`thread::sleep`, `send()`).
    pub callee: String,
    /// The chain of calls that leads there, when not direct (`refetch` → `fetch`).
    pub via: Vec<String>,
}

/// Where a function opens a raw (unpooled) connection, directly or through the functions it
/// calls or runs as tasks ("`check` opens a connection at src/db.rs:12 (through `connect`)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectSite {
    pub path: PathBuf,
    /// The connect call, in the file at `path`.
    pub span: crate::model::Span,
    /// The chain of calls that leads there, when not direct.
    pub via: Vec<String>,
}

/// What one body contributes to the crate-wide facts.
#[derive(Debug, Clone)]
pub struct Summary {
    /// How other code calls it (`None`: no other code can, it is nested in a body).
    pub key: Option<CalleeKey>,
    pub acquires: Option<AcquireSite>,
    /// Opens a raw connection itself (in its body or in a task it spawns).
    pub connects: Option<ConnectSite>,
    /// Where it blocks the thread itself (synchronous functions only: an `async fn` runs
    /// when awaited, which `held-across-await` covers).
    pub blocks: Option<BlockSite>,
    pub is_async: bool,
    pub calls: BTreeSet<CalleeKey>,
    /// Crate-local functions this body runs as background tasks.
    pub spawns: BTreeSet<CalleeKey>,
    /// Holds two pooled connections at once somewhere (a nested acquisition).
    pub nests: bool,
    /// Builds a pool and returns it (`fn db() -> PgPool { PgPoolOptions::new().connect_lazy(..) }`).
    pub builds: Option<ConnectSite>,
    /// Returns the pool that these crate-local functions returned to it.
    pub returns_pool_of: BTreeSet<CalleeKey>,
}

impl Summary {
    pub fn of(
        body: &Body,
        path: &std::path::Path,
        pos: impl Fn(crate::model::Span) -> Pos,
        idx: &CrateIndex,
    ) -> Summary {
        let mut acquires = None;
        let mut calls = BTreeSet::new();
        let mut spawns = BTreeSet::new();
        let mut nests = false;
        let mut connects = None;
        let mut blocks = None;
        let mut builds = None;
        let mut returns_pool_of = BTreeSet::new();
        for ev in &body.events {
            if let EventKind::Acquire { held, .. } = &ev.kind {
                nests |= held.iter().any(|h| h.held.kind.holds_pool_slot());
            }
            if connects.is_none() && opens_server_connection(ev, idx) {
                connects = Some(ConnectSite {
                    path: path.to_path_buf(),
                    span: ev.span,
                    via: Vec::new(),
                });
            }
            match &ev.kind {
                // What a spawned task does, it does on its own time, not the caller's.
                _ if ev.ctx.in_task
                    && !matches!(
                        ev.kind,
                        EventKind::LocalCall { .. } | EventKind::SpawnFn { .. }
                    ) => {}
                EventKind::Acquire { how, on, .. } if acquires.is_none() => {
                    let (pool, via) = match how {
                        Acquisition::Direct { pool } | Acquisition::Executor { pool } => {
                            (pool.clone(), vec![])
                        }
                        Acquisition::Helper { callee } => (None, vec![callee.clone()]),
                        // Guards are taken by the framework, not by calling this function.
                        Acquisition::Guard { .. } => continue,
                    };
                    acquires = Some(AcquireSite {
                        path: path.to_path_buf(),
                        pos: pos(ev.span),
                        pool: pool.as_deref().map(str::to_string),
                        via,
                        embedded: on.is_some_and(|t| idx.knowledge.ty(t).embedded),
                    });
                }
                EventKind::LocalCall { key, .. } => {
                    if ev.ctx.in_task {
                        spawns.insert(*key);
                    } else {
                        calls.insert(*key);
                    }
                }
                EventKind::SpawnFn { key } => {
                    spawns.insert(*key);
                }
                EventKind::PoolBuilt(p)
                    if builds.is_none() && p.fate.as_deref() == Some(super::RETURNED) =>
                {
                    builds = Some(ConnectSite {
                        path: path.to_path_buf(),
                        span: ev.span,
                        via: Vec::new(),
                    });
                }
                EventKind::PoolFromHelper { key, fate, .. }
                    if fate.as_deref() == Some(super::RETURNED) =>
                {
                    returns_pool_of.insert(*key);
                }
                EventKind::Blocking { callee, .. } if blocks.is_none() && !body.is_async => {
                    blocks = Some(BlockSite {
                        path: path.to_path_buf(),
                        pos: pos(ev.span),
                        callee: callee.clone(),
                        via: Vec::new(),
                    });
                }
                _ => {}
            }
        }
        Summary {
            key: body.key,
            acquires,
            connects,
            blocks,
            is_async: body.is_async,
            calls,
            spawns,
            nests,
            builds,
            returns_pool_of,
        }
    }
}

/// Does this event open a raw connection to a database server (not an embedded database)?
pub fn opens_server_connection(ev: &super::Event, idx: &CrateIndex) -> bool {
    if ev.role() != Some(crate::profile::Role::Connect) {
        return false;
    }
    let embedded = ev
        .result()
        .and_then(|r| idx.held_in(&r.ty))
        .is_some_and(|h| idx.knowledge.ty(h.ty).embedded);
    !embedded
}

/// The crate-wide answer: every function that acquires, and every function run as a task.
#[derive(Debug, Default)]
pub struct Acquirers {
    sites: BTreeMap<CalleeKey, AcquireSite>,
    connect_sites: BTreeMap<CalleeKey, ConnectSite>,
    /// Functions that return a pool they build (or that a function they call built).
    build_sites: BTreeMap<CalleeKey, ConnectSite>,
    blocking: BTreeMap<CalleeKey, BlockSite>,
    spawned: BTreeSet<CalleeKey>,
    /// Somewhere in the crate, two pooled connections are held at once.
    pub nests: bool,
}

impl Acquirers {
    /// Propagates acquisitions from callees to callers until nothing changes. A caller of
    /// several acquiring callees names the first in the index's order of names.
    pub fn compute(summaries: Vec<Summary>, idx: &CrateIndex) -> Acquirers {
        let mut sites: BTreeMap<CalleeKey, AcquireSite> = BTreeMap::new();
        let mut calls: BTreeMap<CalleeKey, Vec<CalleeKey>> = BTreeMap::new();
        let mut spawned = BTreeSet::new();
        let mut nests = false;
        let mut connect_sites = BTreeMap::new();
        let mut blocking: BTreeMap<CalleeKey, BlockSite> = BTreeMap::new();
        let mut is_async = BTreeSet::new();
        let mut build_sites = BTreeMap::new();
        // Caller -> the functions whose returned pool it returns in turn.
        let mut passes_pool: BTreeMap<CalleeKey, Vec<CalleeKey>> = BTreeMap::new();
        // Calls and spawns: a task a function spawns opens its connection once per call too.
        let mut runs: BTreeMap<CalleeKey, Vec<CalleeKey>> = BTreeMap::new();
        for s in summaries {
            nests |= s.nests;
            // A function no other code can name (nested in a body) is nobody's callee.
            let Some(key) = s.key else {
                spawned.extend(s.spawns);
                continue;
            };
            if let Some(site) = s.acquires {
                sites.entry(key).or_insert(site);
            }
            if let Some(site) = s.blocks {
                blocking.entry(key).or_insert(site);
            }
            if s.is_async {
                is_async.insert(key);
            }
            if let Some(site) = s.connects {
                connect_sites.entry(key).or_insert(site);
            }
            if let Some(site) = s.builds {
                build_sites.entry(key).or_insert(site);
            }
            if !s.returns_pool_of.is_empty() {
                passes_pool
                    .entry(key)
                    .or_default()
                    .extend(s.returns_pool_of.iter().copied());
            }
            let r = runs.entry(key).or_default();
            r.extend(s.calls.iter().copied());
            r.extend(s.spawns.iter().copied());
            spawned.extend(s.spawns);
            calls.entry(key).or_default().extend(s.calls);
        }
        // A trait method stands for every impl of it (a call through `dyn Trait` or a
        // generic parameter may reach any of them).
        for (key, impls) in idx.dispatch() {
            calls.entry(key).or_default().extend_from_slice(impls);
        }
        for (key, impls) in idx.dispatch() {
            runs.entry(key).or_default().extend_from_slice(impls);
        }
        for callees in calls.values_mut().chain(runs.values_mut()) {
            callees.sort_by(|a, b| idx.callee_order(*a).cmp(idx.callee_order(*b)));
            callees.dedup();
        }
        propagate(&mut sites, &calls, idx, |s| &mut s.via);
        propagate(&mut connect_sites, &runs, idx, |s| &mut s.via);
        propagate(&mut build_sites, &passes_pool, idx, |s| &mut s.via);
        // Blocking spreads only through synchronous callers: calling an `async fn` runs
        // nothing until the future is awaited.
        let sync_calls: BTreeMap<CalleeKey, Vec<CalleeKey>> = calls
            .iter()
            .filter(|(k, _)| !is_async.contains(*k))
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        propagate(&mut blocking, &sync_calls, idx, |s| &mut s.via);
        Acquirers {
            sites,
            connect_sites,
            build_sites,
            blocking,
            spawned,
            nests,
        }
    }

    /// Where calling `key` blocks the thread, if it does (synchronous functions only).
    pub fn blocks(&self, key: CalleeKey) -> Option<&BlockSite> {
        self.blocking.get(&key)
    }

    /// Where calling `key` opens a raw connection, if it does.
    pub fn connect_site(&self, key: CalleeKey) -> Option<&ConnectSite> {
        self.connect_sites.get(&key)
    }

    /// Where `key` builds the pool it returns, if it does: calling it builds a pool.
    pub fn build_site(&self, key: CalleeKey) -> Option<&ConnectSite> {
        self.build_sites.get(&key)
    }

    /// Where calling `key` acquires a connection, if it does.
    pub fn site(&self, key: CalleeKey) -> Option<&AcquireSite> {
        self.sites.get(&key)
    }

    /// Does something in the crate run `key` as a background task?
    pub fn is_spawned(&self, key: CalleeKey) -> bool {
        self.spawned.contains(&key)
    }
}

/// Extends `sites` from callees to callers until nothing changes, naming each step in the
/// site's `via` chain.
fn propagate<S: Clone>(
    sites: &mut BTreeMap<CalleeKey, S>,
    calls: &BTreeMap<CalleeKey, Vec<CalleeKey>>,
    idx: &CrateIndex,
    via: impl Fn(&mut S) -> &mut Vec<String>,
) {
    loop {
        let mut added = Vec::new();
        for (caller, callees) in calls {
            if sites.contains_key(caller) {
                continue;
            }
            if let Some((callee, site)) = callees.iter().find_map(|c| sites.get(c).map(|s| (c, s)))
            {
                let mut site = site.clone();
                via(&mut site).insert(0, idx.callee_name(*callee).to_string());
                added.push((*caller, site));
            }
        }
        if added.is_empty() {
            break;
        }
        sites.extend(added);
    }
}
