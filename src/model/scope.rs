//! The names a file brings into scope with `use` and `extern crate`.

use std::collections::{HashMap, HashSet};

#[derive(Debug, Default, Clone)]
pub struct FileScope {
    /// `Pool` → `["sqlx", "Pool"]` for `use sqlx::Pool;`.
    pub imports: HashMap<String, Vec<String>>,
    /// Glob imports (`use sqlx::postgres::*;`) as path prefixes.
    pub globs: Vec<Vec<String>>,
    /// First segments of every imported path: the crates this file talks to.
    pub roots: HashSet<String>,
    /// Paths imported as `_` (`use crate::ext::AppExt as _;`): traits brought in for their
    /// methods only.
    pub unnamed: Vec<Vec<String>>,
}

impl FileScope {
    /// Records `use prefix::name [as rename];` (`name` may be `self`).
    pub fn add_name(&mut self, prefix: &[String], name: String, rename: Option<String>) {
        let mut full = prefix.to_vec();
        let alias = if name == "self" {
            let Some(last) = prefix.last() else { return };
            rename.unwrap_or_else(|| last.clone())
        } else {
            full.push(name.clone());
            rename.unwrap_or(name)
        };
        if alias == "_" {
            self.unnamed.push(full);
            return;
        }
        if let Some(first) = full.first() {
            self.roots.insert(first.clone());
        }
        self.imports.insert(alias, full);
    }

    /// Records `use prefix::*;`.
    pub fn add_glob(&mut self, prefix: &[String]) {
        if let Some(first) = prefix.first() {
            self.roots.insert(first.clone());
        }
        self.globs.push(prefix.to_vec());
    }

    /// Records `extern crate name [as alias];`.
    pub fn add_extern_crate(&mut self, name: String, alias: Option<String>) {
        let alias = alias.unwrap_or_else(|| name.clone());
        self.roots.insert(name.clone());
        self.imports.insert(alias, vec![name]);
    }

    /// Expands the first segment of a path through this file's imports.
    pub fn expand(&self, segments: &[String]) -> Vec<String> {
        let Some(first) = segments.first() else {
            return Vec::new();
        };
        match self.imports.get(first) {
            Some(full) if full.last() != Some(first) || full.len() > 1 => {
                let mut out = full.clone();
                out.extend_from_slice(&segments[1..]);
                out
            }
            _ => segments.to_vec(),
        }
    }
}
