//! Finds the `.rs` files to check under the user's paths.

use crate::diagnostic::{Finding, Label, Pos, Severity, Span, PARSE_ERROR};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum WalkError {
    Missing(PathBuf),
    /// A path named by the user that exists but cannot be used (a symlink loop, no permission).
    Unusable(PathBuf, std::io::Error),
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalkError::Missing(p) => write!(f, "{}: no such file or directory", p.display()),
            WalkError::Unusable(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// What a walk found: the files to check, and the directories it could not read (with why).
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<PathBuf>,
    pub unreadable: Vec<(PathBuf, String)>,
}

/// A directory that could not be read, as a `parse-error` warning: its files were not checked.
pub fn unreadable_dir(path: &Path, why: &str) -> Finding {
    let at = Pos { line: 1, column: 1 };
    Finding {
        rule: PARSE_ERROR,
        severity: Severity::Warning,
        message: format!("cannot read directory: {why}"),
        path: path.to_path_buf(),
        primary: Label {
            span: Span {
                start: at,
                end: at,
                bytes: (0, 0),
            },
            message: "connlint could not look inside this directory".into(),
        },
        secondary: Vec::new(),
        help: Some("its files were not checked; make it readable, or exclude it".into()),
    }
}

/// Directories never descended into: build output, VCS data, hidden directories.
fn skipped_dir(name: &str) -> bool {
    name == "target" || (name.starts_with('.') && name != "." && name != "..")
}

/// The `.rs` files under `paths`, in a deterministic order, without duplicates. A file named
/// explicitly is always checked, whatever its extension or location. Symlinked `.rs` files inside
/// a directory are checked under the link's name; symlinked directories are not followed.
pub fn rust_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, WalkError> {
    walk(paths).map(|w| w.files)
}

/// [`rust_files`], and the directories below `paths` that could not be read.
pub fn walk(paths: &[PathBuf]) -> Result<Walked, WalkError> {
    // (path, whether it is a symlink found by walking)
    let mut out: Vec<(PathBuf, bool)> = Vec::new();
    let mut unreadable = Vec::new();
    for root in paths {
        let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => WalkError::Missing(root.clone()),
            _ => WalkError::Unusable(root.clone(), e),
        })?;
        if !meta.is_dir() {
            out.push((clean(root), false));
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
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    // Symlinks are not followed, so this is an unreadable directory.
                    if let Some(p) = e.path() {
                        let why = e
                            .io_error()
                            .map_or_else(|| e.to_string(), |io| io.to_string());
                        unreadable.push((clean(p), why));
                    }
                    continue;
                }
            };
            if entry.path().extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let ty = entry.file_type();
            if ty.is_file() {
                out.push((clean(entry.path()), false));
            } else if ty.is_symlink() && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file())
            {
                out.push((clean(entry.path()), true));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|(p, _)| seen.insert(p.clone()));
    // A link to a file that is checked anyway (`alias.rs -> lib.rs`) would report it twice.
    if out.iter().any(|(_, link)| *link) {
        let mut targets: std::collections::HashSet<PathBuf> = out
            .iter()
            .filter(|(_, link)| !link)
            .filter_map(|(p, _)| std::fs::canonicalize(p).ok())
            .collect();
        out.retain(|(p, link)| {
            !link || std::fs::canonicalize(p).map_or(true, |t| targets.insert(t))
        });
    }
    Ok(Walked {
        files: out.into_iter().map(|(p, _)| p).collect(),
        unreadable,
    })
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
