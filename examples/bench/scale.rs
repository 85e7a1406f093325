//! A generated workspace for the scale benchmark: copies of a realistic, database-heavy crate,
//! each a workspace member with every item the crate defines renamed for that copy, so the
//! crate index sees distinct names as it would in a large real workspace. The crate is the demo
//! backend plus one module per fixture folder, each fixture an inline `mod` of it (about 9,000
//! lines in 24 files, the sizes of real modules).

use aho_corasick::{AhoCorasick, MatchKind};
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

/// Names the copies keep: the standard library's and the database crates' own.
const KEEP: &[&str] = &[
    "main", "new", "Error", "Result", "Option", "Some", "None", "Ok", "Err", "Self", "self",
    "default", "from", "into", "clone", "drop", "run", "get", "test", "tests",
];

/// Generates (or reuses) a workspace of at least `lines` lines; returns its directory.
pub fn workspace(lines: usize) -> io::Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = template_files(root)?;
    let per_copy: usize = template.iter().map(|(_, t)| t.lines().count()).sum();
    let copies = lines.div_ceil(per_copy.max(1));
    let dir = root
        .join("target")
        .join("bench-scale")
        .join(format!("{copies}x{per_copy}"));
    let done = dir.join(".complete");
    if done.exists() {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let names = defined_names(&template);
    let finder = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&names)
        .map_err(io::Error::other)?;
    let mut members = Vec::with_capacity(copies);
    for k in 0..copies {
        let member = format!("crate_{k:05}");
        let src = dir.join(&member).join("src");
        for (rel, text) in &template {
            let path = src.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, rename(&finder, text, k))?;
        }
        std::fs::write(
            dir.join(&member).join("Cargo.toml"),
            format!("[package]\nname = \"{member}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        )?;
        members.push(format!("\"{member}\""));
    }
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("[workspace]\nmembers = [{}]\n", members.join(", ")),
    )?;
    std::fs::write(&done, "")?;
    Ok(dir)
}

/// The crate's sources, by path inside the copy's `src/`: the demo backend's files as they
/// are, and for each fixture folder one module whose inline modules are its fixtures.
fn template_files(root: &Path) -> io::Result<Vec<(PathBuf, String)>> {
    let rust_files = |dir: &Path| -> io::Result<Vec<PathBuf>> {
        let mut files = connlint::walk::rust_files(&[dir.to_path_buf()])
            .map_err(|e| io::Error::other(e.to_string()))?;
        files.sort();
        Ok(files)
    };
    let mut out = Vec::new();
    let demo = root.join("examples/demo/src");
    for f in rust_files(&demo)? {
        let rel = f.strip_prefix(&demo).unwrap_or(&f);
        out.push((Path::new("demo").join(rel), std::fs::read_to_string(&f)?));
    }
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root.join("fixtures"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let mut module = String::new();
        for f in rust_files(&folder)? {
            let stem = f.strip_prefix(&folder).unwrap_or(&f).with_extension("");
            let name: String = stem
                .to_string_lossy()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            module.push_str(&format!(
                "mod {name} {{\n{}\n}}\n\n",
                std::fs::read_to_string(&f)?
            ));
        }
        let file = folder
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .replace('-', "_");
        out.push((PathBuf::from(format!("{file}.rs")), module));
    }
    Ok(out)
}

/// Every type, trait, function, static and const the template defines (not the libraries'
/// names, not the standard ones): what each copy renames.
fn defined_names(template: &[(PathBuf, String)]) -> Vec<String> {
    let vocabulary: BTreeSet<String> = connlint::profile::Knowledge::builtin()
        .all_names()
        .into_iter()
        .collect();
    let mut names = BTreeSet::new();
    for (path, text) in template {
        let Ok(m) = connlint::lower::lower_file(path, text) else {
            continue;
        };
        for f in m.fns.iter().filter(|f| f.owner.is_none()) {
            names.insert(m.name(f.sig.name).to_string());
        }
        for item in &m.items {
            let name = match item {
                connlint::model::Item::Alias(a) => a.name,
                connlint::model::Item::Struct(s) => s.name,
                connlint::model::Item::Enum(e) => e.name,
                connlint::model::Item::Trait(t) => t.name,
                connlint::model::Item::Const(c) => c.name,
                connlint::model::Item::Static { name, .. } => *name,
                _ => continue,
            };
            names.insert(m.name(name).to_string());
        }
    }
    names
        .into_iter()
        .filter(|n| !KEEP.contains(&n.as_str()) && !vocabulary.contains(n))
        .collect()
}

/// `text` with every whole-word occurrence of a defined name suffixed with the copy's number.
fn rename(finder: &AhoCorasick, text: &str, k: usize) -> String {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut last = 0;
    for m in finder.find_iter(text) {
        let before = m.start().checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(m.end()).copied();
        if before.is_some_and(ident) || after.is_some_and(ident) {
            continue;
        }
        out.push_str(&text[last..m.end()]);
        out.push_str(&format!("_{k}"));
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}
