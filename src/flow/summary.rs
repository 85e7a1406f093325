//! Interprocedural facts: which crate-local functions and methods acquire a connection or
//! block the thread (directly or through the functions they call, across files, to a fixed
//! point), and which run as background tasks.

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

/// What one body contributes to the crate-wide facts.
#[derive(Debug, Clone)]
pub struct Summary {
    /// How other code calls it (`None`: no other code can, it is nested in a body).
    pub key: Option<CalleeKey>,
    pub acquires: Option<AcquireSite>,
    pub calls: BTreeSet<CalleeKey>,
    /// Crate-local functions this body runs as background tasks.
    pub spawns: BTreeSet<CalleeKey>,
    /// Holds two pooled connections at once somewhere (a nested acquisition).
    pub nests: bool,
    /// Where it blocks the thread itself (synchronous functions only: an `async fn` runs
    /// when awaited, which `held-across-await` covers).
    pub blocks: Option<BlockSite>,
    pub is_async: bool,
}

impl Summary {
    pub fn of(
        body: &Body,
        path: &std::path::Path,
        pos: impl Fn(crate::model::Span) -> Pos,
    ) -> Summary {
        let mut acquires = None;
        let mut calls = BTreeSet::new();
        let mut spawns = BTreeSet::new();
        let mut nests = false;
        let mut blocks = None;
        for ev in &body.events {
            if let EventKind::Acquire { held, .. } = &ev.kind {
                nests |= held.iter().any(|h| h.held.kind.holds_pool_slot());
            }
            match &ev.kind {
                // What a spawned task does, it does on its own time, not the caller's.
                _ if ev.ctx.in_task
                    && !matches!(
                        ev.kind,
                        EventKind::LocalCall { .. } | EventKind::SpawnFn { .. }
                    ) => {}
                EventKind::Acquire { how, .. } if acquires.is_none() => {
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
                    });
                }
                EventKind::Blocking { callee, .. } if blocks.is_none() && !body.is_async => {
                    blocks = Some(BlockSite {
                        path: path.to_path_buf(),
                        pos: pos(ev.span),
                        callee: callee.clone(),
                        via: Vec::new(),
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
                _ => {}
            }
        }
        Summary {
            key: body.key,
            acquires,
            calls,
            spawns,
            nests,
            blocks,
            is_async: body.is_async,
        }
    }
}

/// The crate-wide answer: every function that acquires, and every function run as a task.
#[derive(Debug, Default)]
pub struct Acquirers {
    sites: BTreeMap<CalleeKey, AcquireSite>,
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
        let mut blocking: BTreeMap<CalleeKey, BlockSite> = BTreeMap::new();
        let mut is_async = BTreeSet::new();
        let mut calls: BTreeMap<CalleeKey, Vec<CalleeKey>> = BTreeMap::new();
        let mut spawned = BTreeSet::new();
        let mut nests = false;
        for s in summaries {
            nests |= s.nests;
            spawned.extend(s.spawns);
            // A function no other code can name (nested in a body) is nobody's callee.
            let Some(key) = s.key else { continue };
            if let Some(site) = s.acquires {
                sites.entry(key).or_insert(site);
            }
            if let Some(site) = s.blocks {
                blocking.entry(key).or_insert(site);
            }
            if s.is_async {
                is_async.insert(key);
            }
            calls.entry(key).or_default().extend(s.calls);
        }
        // A trait method stands for every impl of it (a call through `dyn Trait` or a
        // generic parameter may reach any of them).
        for (key, impls) in idx.dispatch() {
            calls.entry(key).or_default().extend_from_slice(impls);
        }
        for callees in calls.values_mut() {
            callees.sort_by(|a, b| idx.callee_order(*a).cmp(idx.callee_order(*b)));
            callees.dedup();
        }
        loop {
            let mut added = Vec::new();
            for (caller, callees) in &calls {
                if sites.contains_key(caller) {
                    continue;
                }
                if let Some((callee, site)) =
                    callees.iter().find_map(|c| sites.get(c).map(|s| (c, s)))
                {
                    let mut site = site.clone();
                    site.via.insert(0, idx.callee_name(*callee).to_string());
                    added.push((*caller, site));
                }
            }
            if added.is_empty() {
                break;
            }
            sites.extend(added);
        }
        // Blocking spreads the same way, but only through synchronous callers: calling an
        // `async fn` runs nothing until the future is awaited.
        loop {
            let mut added = Vec::new();
            for (caller, callees) in &calls {
                if blocking.contains_key(caller) || is_async.contains(caller) {
                    continue;
                }
                if let Some((callee, site)) =
                    callees.iter().find_map(|c| blocking.get(c).map(|s| (c, s)))
                {
                    let mut site = site.clone();
                    site.via.insert(0, idx.callee_name(*callee).to_string());
                    added.push((*caller, site));
                }
            }
            if added.is_empty() {
                break;
            }
            blocking.extend(added);
        }
        Acquirers {
            sites,
            blocking,
            spawned,
            nests,
        }
    }

    /// Where calling `key` acquires a connection, if it does.
    pub fn site(&self, key: CalleeKey) -> Option<&AcquireSite> {
        self.sites.get(&key)
    }

    /// Where calling `key` blocks the thread, if it does (synchronous functions only).
    pub fn blocks(&self, key: CalleeKey) -> Option<&BlockSite> {
        self.blocking.get(&key)
    }

    /// Does something in the crate run `key` as a background task?
    pub fn is_spawned(&self, key: CalleeKey) -> bool {
        self.spawned.contains(&key)
    }
}
