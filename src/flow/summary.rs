//! Interprocedural facts: which crate-local functions and methods acquire a connection
//! (directly or through the functions they call, across files, to a fixed point), and which
//! run as background tasks.

use super::{Acquisition, Body, CalleeKey, EventKind};
use crate::diagnostic::Pos;
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

/// What one body contributes to the crate-wide facts.
#[derive(Debug, Clone)]
pub struct Summary {
    pub key: CalleeKey,
    pub acquires: Option<AcquireSite>,
    pub calls: BTreeSet<CalleeKey>,
    /// Crate-local functions this body runs as background tasks.
    pub spawns: BTreeSet<CalleeKey>,
    /// Holds two pooled connections at once somewhere (a nested acquisition).
    pub nests: bool,
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
                        pool,
                        via,
                    });
                }
                EventKind::LocalCall { key, .. } => {
                    if ev.ctx.in_task {
                        spawns.insert(key.clone());
                    } else {
                        calls.insert(key.clone());
                    }
                }
                EventKind::SpawnFn { key } => {
                    spawns.insert(key.clone());
                }
                _ => {}
            }
        }
        Summary {
            key: body.key.clone(),
            acquires,
            calls,
            spawns,
            nests,
        }
    }
}

/// The crate-wide answer: every function that acquires, and every function run as a task.
#[derive(Debug, Default)]
pub struct Acquirers {
    sites: BTreeMap<CalleeKey, AcquireSite>,
    spawned: BTreeSet<CalleeKey>,
    /// Somewhere in the crate, two pooled connections are held at once.
    pub nests: bool,
}

impl Acquirers {
    /// Propagates acquisitions from callees to callers until nothing changes.
    pub fn compute(summaries: Vec<Summary>) -> Acquirers {
        let mut sites: BTreeMap<CalleeKey, AcquireSite> = BTreeMap::new();
        let mut calls: BTreeMap<CalleeKey, BTreeSet<CalleeKey>> = BTreeMap::new();
        let mut spawned = BTreeSet::new();
        let mut nests = false;
        for s in summaries {
            nests |= s.nests;
            if let Some(site) = s.acquires {
                sites.entry(s.key.clone()).or_insert(site);
            }
            spawned.extend(s.spawns);
            calls.entry(s.key).or_default().extend(s.calls);
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
                    site.via.insert(0, callee.to_string());
                    added.push((caller.clone(), site));
                }
            }
            if added.is_empty() {
                break;
            }
            sites.extend(added);
        }
        Acquirers {
            sites,
            spawned,
            nests,
        }
    }

    /// Where calling `key` acquires a connection, if it does.
    pub fn site(&self, key: &CalleeKey) -> Option<&AcquireSite> {
        self.sites.get(key)
    }

    /// Does something in the crate run `key` as a background task?
    pub fn is_spawned(&self, key: &CalleeKey) -> bool {
        self.spawned.contains(key)
    }
}
