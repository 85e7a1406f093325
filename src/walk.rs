//! Finds the `.rs` files to check under the user's paths.

use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum WalkError {
    Missing(PathBuf),
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalkError::Missing(p) => write!(f, "{}: no such file or directory", p.display()),
        }
    }
}

/// Directories never descended into: build output, VCS data, hidden directories.
fn skipped_dir(name: &str) -> bool {
    name == "target" || (name.starts_with('.') && name != "." && name != "..")
}

/// The `.rs` files under `paths`, in a deterministic order, without duplicates. A file named
/// explicitly is always checked, whatever its extension or location.
pub fn rust_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, WalkError> {
    let mut out = Vec::new();
    for root in paths {
        let meta = std::fs::metadata(root).map_err(|_| WalkError::Missing(root.clone()))?;
        if !meta.is_dir() {
            out.push(clean(root));
            continue;
        }
        let walker = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !e.file_type().is_dir()
                    || !skipped_dir(&e.file_name().to_string_lossy())
            });
        for entry in walker.flatten() {
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|x| x == "rs") {
                out.push(clean(entry.path()));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

/// `./src/a.rs`, `src/./a.rs` and `src//a.rs` → `src/a.rs`, as people write it. `..` is kept:
/// resolving it needs the file system (symlinks).
fn clean(p: &Path) -> PathBuf {
    let cleaned: PathBuf = p
        .components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect();
    if cleaned.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::clean;
    use std::path::Path;

    #[test]
    fn clean_drops_current_dir_components_only() {
        for (raw, want) in [
            ("./src/a.rs", "src/a.rs"),
            ("src/./a.rs", "src/a.rs"),
            ("././src//a.rs", "src/a.rs"),
            ("src/a.rs", "src/a.rs"),
            ("../x/./a.rs", "../x/a.rs"),
            ("/abs/./a.rs", "/abs/a.rs"),
            (".", "."),
            ("./", "."),
        ] {
            assert_eq!(clean(Path::new(raw)), Path::new(want), "{raw}");
            assert_eq!(clean(Path::new(raw)).to_str().unwrap(), want, "{raw}");
        }
    }
}
