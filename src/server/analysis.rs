//! The server's only door into the engine. Everything the server knows about checking code goes
//! through [`Analysis`]: which texts make up the workspace (open buffers over files on disk),
//! and what the findings of one file are.
//!
//! Today each [`Analysis::check`] runs the whole engine (`engine::check_with`) over the open
//! buffer together with every other `.rs` file of the workspace, so a crate-local helper defined
//! in another file is known, then applies the configuration as `connlint check` does
//! (suppressions, levels, test code) and keeps the findings of the asked-for files. The
//! workspace is walked once, its files read once, and kept up to date by [`Analysis::refresh`]
//! (a file saved, created or deleted) and [`Analysis::rescan`] (the configuration changed).
//!
//! The interface is meant to outlive that implementation: an incremental crate index can replace
//! the internals (re-lowering only the changed file) without the server changing.

use super::settings::Settings;
use crate::diagnostic::Finding;
use crate::engine::{self, Input};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// A workspace bigger than this is not read: only open buffers are checked (each on its own).
const MAX_FILES: usize = 20_000;

pub struct Analysis {
    root: PathBuf,
    settings: Settings,
    /// The workspace's `.rs` files as they are on disk (absolute paths).
    disk: BTreeMap<PathBuf, String>,
    /// Open buffers: their text replaces the disk's.
    open: HashMap<PathBuf, String>,
    /// Set when the workspace was too big to read.
    pub too_big: Option<usize>,
}

impl Analysis {
    /// The workspace at `root` (absolute), checked with `settings`. Walks and reads its files.
    pub fn new(root: PathBuf, settings: Settings) -> Analysis {
        let mut a = Analysis {
            root,
            settings,
            disk: BTreeMap::new(),
            open: HashMap::new(),
            too_big: None,
        };
        a.rescan();
        a
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Checks with new settings (the configuration changed); re-reads the workspace, since its
    /// include/exclude globs may have changed.
    pub fn set_settings(&mut self, settings: Settings) {
        self.settings = settings;
        self.rescan();
    }

    /// Walks the workspace again and reads every `.rs` file the configuration lets through.
    pub fn rescan(&mut self) {
        self.disk.clear();
        self.too_big = None;
        let files = crate::walk::rust_files(std::slice::from_ref(&self.root)).unwrap_or_default();
        if files.len() > MAX_FILES {
            self.too_big = Some(files.len());
            return;
        }
        for path in files {
            self.refresh(&path);
        }
    }

    /// The text of `path` changed on disk (saved, created, deleted): read it again.
    pub fn refresh(&mut self, path: &Path) {
        let in_workspace = path.starts_with(&self.root)
            && path.extension().is_some_and(|x| x == "rs")
            && self.too_big.is_none()
            && self.settings.config.is_checked(path);
        // Unreadable and non-UTF-8 files are left out: the CLI reports them, the editor cannot
        // show them anyway.
        match std::fs::read_to_string(path) {
            Ok(text) if in_workspace => {
                self.disk.insert(path.to_path_buf(), text);
            }
            _ => {
                self.disk.remove(path);
            }
        }
    }

    /// An open buffer's text for `path`, or `None` when it was closed (the disk's text applies
    /// again).
    pub fn update(&mut self, path: &Path, text: Option<String>) {
        match text {
            Some(t) => self.open.insert(path.to_path_buf(), t),
            None => self.open.remove(path),
        };
    }

    /// The findings of `path`, with the configuration applied.
    pub fn check(&self, path: &Path) -> Vec<Finding> {
        self.check_many(&[path.to_path_buf()])
            .into_values()
            .next()
            .unwrap_or_default()
    }

    /// The findings of each of `paths` (one engine run for all of them).
    pub fn check_many(&self, paths: &[PathBuf]) -> BTreeMap<PathBuf, Vec<Finding>> {
        let cfg = &self.settings.config;
        let mut out: BTreeMap<PathBuf, Vec<Finding>> =
            paths.iter().map(|p| (p.clone(), Vec::new())).collect();
        // A buffer the configuration excludes is not checked, as with `--stdin-filename`.
        let wanted: Vec<&PathBuf> = paths.iter().filter(|p| cfg.is_checked(p)).collect();
        if wanted.is_empty() {
            return out;
        }
        let text_of = |p: &PathBuf| self.open.get(p).or_else(|| self.disk.get(p)).cloned();
        let mut inputs: Vec<Input> = self
            .disk
            .keys()
            .map(|p| Input {
                path: p.clone(),
                text: text_of(p),
            })
            .collect();
        // Buffers outside the workspace, or new files not yet on disk.
        for p in self.open.keys().filter(|p| !self.disk.contains_key(*p)) {
            if cfg.is_checked(p) {
                inputs.push(Input {
                    path: p.clone(),
                    text: text_of(p),
                });
            }
        }
        let enabled = |id: &str| self.settings.enabled(id);
        let mut outcome = engine::check_with(
            &inputs,
            &engine::Settings {
                knowledge: self.settings.knowledge,
                enabled: &enabled,
                release: &cfg.release,
                timeouts: self.settings.timeouts,
            },
        );
        crate::configured::apply(cfg, &mut outcome, &inputs, &enabled);
        for f in outcome.findings {
            if let Some(list) = out.get_mut(&f.path) {
                list.push(f);
            }
        }
        out
    }
}
