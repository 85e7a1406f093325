//! Embeds `lints/profiles/*.toml` and `lints/*.md` so the binary carries its knowledge and docs,
//! and adding a profile or a rule doc needs no code change.
use std::{env, fs, path::Path};

fn embed_dir(dir: &str, ext: &str, out: &str) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    entries.sort();
    let mut code = String::from("[\n");
    for path in &entries {
        let stem = path.file_stem().unwrap().to_string_lossy();
        let abs = fs::canonicalize(path).unwrap();
        code.push_str(&format!(
            "    ({stem:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    code.push(']');
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join(out), code).unwrap();
    println!("cargo:rerun-if-changed={dir}");
}

fn main() {
    embed_dir("lints/profiles", "toml", "profiles.rs");
    embed_dir("lints", "md", "docs.rs");
}
