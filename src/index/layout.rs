//! Which Cargo package each file belongs to, its module path inside the package, and which
//! workspace packages depend on which: what `use` paths and bare names resolve against.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A package id: an index into [`Layout::packages`]. `0` is the files under no `Cargo.toml`.
pub type PackageId = u32;

#[derive(Debug, Clone, Default)]
pub struct Package {
    /// The name code uses for it (`my_crate` for `my-crate`); empty for package 0.
    pub name: String,
    /// The names this package's code uses for its dependencies, with the package each is
    /// (`pg` → `tokio_postgres` for `pg = { package = "tokio-postgres" }`).
    pub deps: Vec<(String, String)>,
    /// The Rust edition (`2015`, `2018`, `2021`, `2024`); 2015 when the manifest says none.
    pub edition: u16,
}

/// Where one file sits.
#[derive(Debug, Clone, Default)]
pub struct FilePlace {
    pub package: PackageId,
    /// The module path of the file inside its crate (`["db", "pool"]` for `src/db/pool.rs`;
    /// empty for a crate root).
    pub module: Vec<String>,
}

/// Packages and the place of every file.
#[derive(Debug, Clone)]
pub struct Layout {
    pub packages: Vec<Package>,
    pub files: Vec<FilePlace>,
}

impl Default for Layout {
    fn default() -> Layout {
        Layout {
            packages: vec![Package::default()],
            files: Vec::new(),
        }
    }
}

impl Layout {
    /// Reads the manifests above `paths` (file ids are indices into `paths`).
    pub fn of(paths: &[&Path]) -> Layout {
        let mut layout = Layout::default();
        let mut by_manifest_dir: HashMap<PathBuf, PackageId> = HashMap::new();
        // The package directory of each directory, once per directory.
        let mut dir_package: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
        for path in paths {
            let dir = path.parent().unwrap_or(Path::new(""));
            let pkg_dir = package_dir(dir, &mut dir_package);
            let place = match pkg_dir {
                None => FilePlace {
                    package: 0,
                    module: file_module(Path::new(""), path),
                },
                Some(pkg_dir) => {
                    let id = *by_manifest_dir.entry(pkg_dir.clone()).or_insert_with(|| {
                        layout.packages.push(read_package(&pkg_dir));
                        (layout.packages.len() - 1) as PackageId
                    });
                    FilePlace {
                        package: id,
                        module: file_module(&pkg_dir, path),
                    }
                }
            };
            layout.files.push(place);
        }
        layout
    }

    pub fn place(&self, file: usize) -> Option<&FilePlace> {
        self.files.get(file)
    }

    pub fn package(&self, id: PackageId) -> &Package {
        &self.packages[id as usize]
    }

    /// The workspace package a crate name denotes from code of package `from`: one of its
    /// dependencies by the name it uses, or (package 0, whose dependencies are unknown) any
    /// workspace package of that name.
    pub fn package_named(&self, from: PackageId, name: &str) -> Option<PackageId> {
        let pkg = self.package(from);
        let target = if from == 0 {
            name
        } else if name == pkg.name {
            return Some(from);
        } else {
            pkg.deps
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, p)| p.as_str())?
        };
        self.packages
            .iter()
            .position(|p| p.name == target)
            .map(|i| i as PackageId)
    }

    /// Does code of `from` see items of `to` (the same package or a dependency)?
    pub fn sees(&self, from: PackageId, to: PackageId) -> bool {
        from == to
            || from == 0
            || self
                .package(from)
                .deps
                .iter()
                .any(|(_, p)| *p == self.package(to).name)
    }
}

/// The nearest directory at or above `dir` with a `Cargo.toml` that declares a `[package]`.
fn package_dir(dir: &Path, memo: &mut HashMap<PathBuf, Option<PathBuf>>) -> Option<PathBuf> {
    if let Some(found) = memo.get(dir) {
        return found.clone();
    }
    let manifest = dir.join("Cargo.toml");
    let found = if std::fs::read_to_string(&manifest)
        .is_ok_and(|t| t.lines().any(|l| l.trim() == "[package]"))
    {
        Some(dir.to_path_buf())
    } else {
        match dir.parent() {
            Some(parent) if !dir.as_os_str().is_empty() => package_dir(parent, memo),
            _ => None,
        }
    };
    memo.insert(dir.to_path_buf(), found.clone());
    found
}

fn read_package(dir: &Path) -> Package {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Package {
            name: crate_name(dir.file_name().and_then(|n| n.to_str()).unwrap_or("")),
            deps: Vec::new(),
            edition: 2015,
        };
    };
    let package = doc.get("package").and_then(|p| p.as_table());
    let name = package
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(crate_name)
        .unwrap_or_default();
    let edition = match package.and_then(|p| p.get("edition")) {
        Some(toml::Value::String(e)) => e.parse().unwrap_or(2015),
        // `edition.workspace = true`: the workspace root's `[workspace.package]`.
        Some(toml::Value::Table(_)) => workspace_edition(dir).unwrap_or(2015),
        _ => 2015,
    };
    let mut deps = Vec::new();
    let mut tables: Vec<&toml::Table> = Vec::new();
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        tables.extend(doc.get(key).and_then(|t| t.as_table()));
    }
    if let Some(targets) = doc.get("target").and_then(|t| t.as_table()) {
        for t in targets.values().filter_map(|t| t.as_table()) {
            for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
                tables.extend(t.get(key).and_then(|t| t.as_table()));
            }
        }
    }
    for table in tables {
        for (key, spec) in table {
            let package = spec.get("package").and_then(|p| p.as_str()).unwrap_or(key);
            deps.push((crate_name(key), crate_name(package)));
        }
    }
    Package {
        name,
        deps,
        edition,
    }
}

fn workspace_edition(dir: &Path) -> Option<u16> {
    for d in dir.ancestors().skip(1) {
        let Ok(text) = std::fs::read_to_string(d.join("Cargo.toml")) else {
            continue;
        };
        let doc = text.parse::<toml::Table>().ok()?;
        if let Some(ws) = doc.get("workspace") {
            let e = ws.get("package")?.get("edition")?.as_str()?;
            return e.parse().ok();
        }
    }
    None
}

/// The name code uses for a package: dashes become underscores.
pub fn crate_name(package: &str) -> String {
    package.replace('-', "_")
}

/// The module path of `file` inside its crate: `src/db/pool.rs` → `[db, pool]`,
/// `src/db/mod.rs` → `[db]`, `src/lib.rs`, `src/bin/tool.rs`, `tests/api.rs` → `[]`.
pub fn file_module(pkg_dir: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(pkg_dir).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        if let Some(stem) = last.strip_suffix(".rs") {
            *last = stem.to_string();
        }
    }
    // What follows the directory that holds the crate roots; a file directly in it is a
    // crate root (`tests/api.rs`) unless it is `src`'s module (`src/db.rs`).
    let (mut module, roots_are_files) = match parts.as_slice() {
        [src, bin, rest @ ..] if src == "src" && bin == "bin" => {
            // `src/bin/tool.rs` and `src/bin/tool/main.rs` are roots; `src/bin/tool/x.rs` is `x`.
            if rest.len() >= 2 {
                (rest[1..].to_vec(), false)
            } else {
                (rest.to_vec(), true)
            }
        }
        [src, rest @ ..] if src == "src" => (rest.to_vec(), false),
        [dir, rest @ ..] if matches!(dir.as_str(), "tests" | "examples" | "benches") => {
            (rest.to_vec(), true)
        }
        [.., last] => (vec![last.clone()], true),
        [] => (Vec::new(), true),
    };
    if module.len() == 1 && (roots_are_files || matches!(module[0].as_str(), "lib" | "main")) {
        module.clear();
    }
    if module.len() == 1 && module[0] == "main" {
        module.clear();
    }
    if module.last().is_some_and(|l| l == "mod") {
        module.pop();
    }
    module
}

#[cfg(test)]
mod tests {
    use super::file_module;
    use std::path::Path;

    fn module(p: &str) -> Vec<String> {
        file_module(Path::new("/w/pkg"), &Path::new("/w/pkg").join(p))
    }

    #[test]
    fn module_paths_follow_cargo_layout() {
        assert_eq!(module("src/lib.rs"), Vec::<String>::new());
        assert_eq!(module("src/main.rs"), Vec::<String>::new());
        assert_eq!(module("src/db.rs"), ["db"]);
        assert_eq!(module("src/db/mod.rs"), ["db"]);
        assert_eq!(module("src/db/pool.rs"), ["db", "pool"]);
        assert_eq!(module("src/bin/tool.rs"), Vec::<String>::new());
        assert_eq!(module("src/bin/tool/util.rs"), ["util"]);
        assert_eq!(module("tests/api.rs"), Vec::<String>::new());
        assert_eq!(module("tests/common/mod.rs"), ["common"]);
        assert_eq!(module("build.rs"), Vec::<String>::new());
    }
}
