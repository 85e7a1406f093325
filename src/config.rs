//! The user's configuration: `connlint.toml` at the project root, or
//! `[workspace.metadata.connlint]` / `[package.metadata.connlint]` in `Cargo.toml`, found by
//! walking up from the checked path (`--config FILE` overrides).
//!
//! ```toml
//! include = ["src/**"]                 # only these files (default: every .rs file)
//! exclude = ["src/generated/**"]       # never these
//! blocking = ["metrics::flush_sync"]   # extra calls that block the thread
//! tests = "warn"                       # test code: "check" (default), "warn" or "skip"
//!
//! [rules]
//! held-across-await = "error"          # "error", "warn" or "off"
//! detached-connection = { level = "off" }
//!
//! [[types]]                            # the same schema as lints/profiles/*.toml
//! name = "AppDb"
//! kind = "pool"
//! [[types]]
//! name = "DbConn"
//! kind = "connection"
//! [[methods]]
//! on = ["AppDb"]
//! names = ["conn"]
//! role = "acquire"
//! returns = "DbConn"
//! async = true
//! fallible = true
//!
//! [[release]]                          # manual release APIs, for `release-skipped`
//! acquire = "lock_conn"
//! release = "unlock_conn"
//! ```
//!
//! Every mistake (unknown key, wrong type, unknown rule id, bad glob, a method on an undeclared
//! type) is a [`ConfigError`] that points at the exact place in the file. Rules never see the
//! configuration: levels become `Settings.enabled` and a severity rewrite of findings, and the
//! declared types become a profile loaded next to the built-in ones.

use crate::diagnostic::{Severity, PARSE_ERROR};
use crate::profile::{FnDef, Knowledge, MethodDef, TypeDef, BUILTIN, USER_PROFILE};
use crate::rules;
use crate::suppress::{INVALID_SUPPRESSION, UNUSED_SUPPRESSION};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use toml::Spanned;

/// The configuration file connlint looks for in each directory.
pub const FILE_NAME: &str = "connlint.toml";

/// Diagnostics that are not rules of the registry but can be given a level, selected and
/// ignored like one.
pub const DIAGNOSTIC_IDS: &[&str] = &[PARSE_ERROR, UNUSED_SUPPRESSION, INVALID_SUPPRESSION];

/// Is `id` a rule id or one of connlint's own diagnostic codes?
pub fn known_id(id: &str) -> bool {
    rules::by_id(id).is_some() || DIAGNOSTIC_IDS.contains(&id)
}

/// Every id a user can name, rules first, one per line, for error messages.
pub fn known_ids_list() -> String {
    rules::all()
        .iter()
        .map(|r| r.info().id)
        .chain(DIAGNOSTIC_IDS.iter().copied())
        .map(|id| format!("  {id}\n"))
        .collect()
}

/// The keys of the top level of a configuration.
const TOP_LEVEL_KEYS: &[&str] = &[
    "rules",
    "tests",
    "include",
    "exclude",
    "blocking",
    "types",
    "methods",
    "functions",
    "release",
];

/// The known id nearest to a misspelt one, if one is close.
pub fn suggestion(id: &str) -> Option<&'static str> {
    rules::all()
        .iter()
        .map(|r| r.info().id)
        .chain(DIAGNOSTIC_IDS.iter().copied())
        .map(|k| (edit_distance(id, k), k))
        .min()
        .filter(|(d, _)| *d <= 3)
        .map(|(_, k)| k)
}

/// Help for an unknown id: the nearest known id when one is close, else every id.
pub fn unknown_id_help(id: &str) -> String {
    match suggestion(id) {
        Some(k) => format!("did you mean `{k}`?"),
        None => format!(
            "`connlint rules` lists the rules; known ids:\n{}",
            known_ids_list().trim_end()
        ),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Options each rule accepts in its `[rules.<id>]` table, besides `level`. A rule with no entry
/// here has none; naming an option it does not have is an error.
pub const RULE_OPTIONS: &[(&str, &[&str])] = &[(
    "pool-misconfigured",
    &["max-acquire-timeout", "min-acquire-timeout"],
)];

/// A rule's level as the user sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    #[serde(alias = "warning")]
    Warn,
    Off,
}

impl Level {
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Error => Some(Severity::Error),
            Level::Warn => Some(Severity::Warning),
            Level::Off => None,
        }
    }
}

/// How findings in test code (`tests/`, `benches/`, `#[cfg(test)]` modules, `#[test]`
/// functions) are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestCode {
    /// Like any other code (the default).
    #[default]
    Check,
    /// Reported as warnings, whatever the rule's level.
    Warn,
    /// Not reported.
    Skip,
}

/// A manual release API (`lock_conn` / `unlock_conn`): every path from the acquisition must
/// reach the release. Used by the `release-skipped` rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleasePair {
    /// Method or function name (or `Type::function` path) that takes the resource.
    pub acquire: String,
    /// Method or function name (or path) that must be called before every exit.
    pub release: String,
    /// Receiver type names the methods are called on (any receiver when empty).
    #[serde(default)]
    pub on: Vec<String>,
    /// Shown in the finding's help.
    #[serde(default)]
    pub note: Option<String>,
}

/// The file as written: every key spanned so mistakes point at their place.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    include: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    blocking: Vec<Spanned<String>>,
    #[serde(default)]
    tests: TestCode,
    #[serde(default)]
    types: Vec<Spanned<TypeDef>>,
    #[serde(default)]
    methods: Vec<Spanned<MethodDef>>,
    #[serde(default)]
    functions: Vec<Spanned<FnDef>>,
    #[serde(default)]
    release: Vec<Spanned<ReleasePair>>,
}

/// `Cargo.toml`, as far as connlint reads it.
#[derive(Deserialize)]
struct Manifest {
    package: Option<ManifestSection>,
    workspace: Option<ManifestSection>,
}

#[derive(Deserialize)]
struct ManifestSection {
    metadata: Option<ManifestMetadata>,
}

#[derive(Deserialize)]
struct ManifestMetadata {
    connlint: Option<Raw>,
}

/// A loaded configuration.
#[derive(Debug)]
pub struct Config {
    /// The file it came from (`None`: no configuration file, every default).
    pub file: Option<PathBuf>,
    /// The directory `include`/`exclude` globs and baseline paths are relative to.
    pub root: PathBuf,
    levels: HashMap<String, Level>,
    options: HashMap<String, toml::Table>,
    include: Option<GlobSet>,
    exclude: GlobSet,
    /// The declared types, methods, functions and blocking calls as a profile (TOML), if any.
    user_profile: Option<String>,
    /// Manual release APIs (`[[release]]`).
    pub release: Vec<ReleasePair>,
    /// How findings in test code are treated.
    pub tests: TestCode,
}

/// A configuration mistake, with the place in the file it was found at.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    /// The file's text, when it could be read.
    pub text: Option<String>,
    /// Byte range of the mistake in `text`.
    pub span: Option<Range<usize>>,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl ConfigError {
    fn io(path: &Path, e: std::io::Error) -> Box<ConfigError> {
        Box::new(ConfigError {
            path: path.to_path_buf(),
            text: None,
            span: None,
            message: format!("cannot read configuration: {e}"),
            label: String::new(),
            help: None,
        })
    }

    /// A miette report: the message, the file excerpt with the mistake underlined, and help.
    pub fn render(&self, color: bool) -> String {
        use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic};
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
        let mut diag = MietteDiagnostic::new(format!("invalid configuration: {}", self.message))
            .with_code("connlint::config")
            .with_severity(miette::Severity::Error);
        if let Some(h) = &self.help {
            diag = diag.with_help(h.clone());
        }
        let name = display_path(&self.path);
        let report = match (&self.text, &self.span) {
            (Some(text), Some(span)) => {
                let label = LabeledSpan::new_primary_with_span(
                    Some(self.label.clone()).filter(|l| !l.is_empty()),
                    (span.start, span.end.saturating_sub(span.start)),
                );
                miette::Report::new(diag.with_label(label))
                    .with_source_code(miette::NamedSource::new(name, text.clone()))
            }
            _ => miette::Report::new(diag.with_help(format!("in {name}"))),
        };
        let mut out = String::new();
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            out = format!("error: {self}\n");
        }
        out
    }
}

/// Builds errors that point into one file's text.
struct Errors<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Errors<'_> {
    fn at(&self, span: Range<usize>, message: String, label: &str) -> Box<ConfigError> {
        Box::new(ConfigError {
            path: self.path.to_path_buf(),
            text: Some(self.text.to_string()),
            span: Some(span),
            message,
            label: label.to_string(),
            help: None,
        })
    }

    fn toml(&self, e: toml::de::Error) -> Box<ConfigError> {
        let message = e.message().trim().to_string();
        let help = if message.starts_with("unknown field") {
            Some("see the Configuration section of the README for every key".to_string())
        } else {
            None
        };
        let mut err = self.at(e.span().unwrap_or(0..0), message, "here");
        err.help = help;
        err
    }

    /// The span of `word` (as a quoted string, or bare) inside `within`, or `within` itself.
    fn find(&self, within: Range<usize>, word: &str) -> Range<usize> {
        let hay = self.text.get(within.clone()).unwrap_or("");
        for needle in [format!("\"{word}\""), format!("'{word}'"), word.to_string()] {
            if let Some(i) = hay.find(&needle) {
                return within.start + i..within.start + i + needle.len();
            }
        }
        within
    }
}

impl Config {
    /// Every default, with paths relative to `root`.
    pub fn default_at(root: PathBuf) -> Config {
        Config {
            file: None,
            root,
            levels: HashMap::new(),
            options: HashMap::new(),
            include: None,
            exclude: GlobSet::empty(),
            user_profile: None,
            release: Vec::new(),
            tests: TestCode::Check,
        }
    }

    /// The configuration file that applies to `start` (a file or a directory): the nearest
    /// `connlint.toml`, or `Cargo.toml` with a `[package.metadata.connlint]` or
    /// `[workspace.metadata.connlint]` table, walking up and stopping at the repository root
    /// (a directory with `.git`).
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let start = absolute(start);
        let mut dir = if start.is_dir() {
            Some(start.as_path())
        } else {
            start.parent()
        };
        while let Some(d) = dir {
            let own = d.join(FILE_NAME);
            if own.is_file() {
                return Some(own);
            }
            let manifest = d.join("Cargo.toml");
            if manifest.is_file() && manifest_has_config(&manifest) {
                return Some(manifest);
            }
            if d.join(".git").exists() {
                break;
            }
            dir = d.parent();
        }
        None
    }

    /// Loads `path`: a `Cargo.toml` (its metadata table) or a `connlint.toml`.
    pub fn load(path: &Path) -> Result<Config, Box<ConfigError>> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::io(path, e))?;
        let errors = Errors { path, text: &text };
        let is_manifest = path.file_name().is_some_and(|n| n == "Cargo.toml");
        let (raw, table) = if is_manifest {
            let m: Manifest = toml::from_str(&text).map_err(|e| errors.toml(e))?;
            let table: toml::Table = toml::from_str(&text).map_err(|e| errors.toml(e))?;
            let pick = |section: &str| {
                table
                    .get(section)
                    .and_then(|s| s.get("metadata"))
                    .and_then(|m| m.get("connlint"))
                    .and_then(|c| c.as_table())
                    .cloned()
            };
            let package = m.package.and_then(|p| p.metadata).and_then(|m| m.connlint);
            let workspace = m
                .workspace
                .and_then(|p| p.metadata)
                .and_then(|m| m.connlint);
            match (package, workspace) {
                (Some(raw), _) => (raw, pick("package").unwrap_or_default()),
                (None, Some(raw)) => (raw, pick("workspace").unwrap_or_default()),
                (None, None) => {
                    return Ok(Config {
                        file: Some(path.to_path_buf()),
                        ..Config::default_at(parent_dir(path))
                    })
                }
            }
        } else {
            let raw: Raw = toml::from_str(&text).map_err(|e| errors.toml(e))?;
            let table: toml::Table = toml::from_str(&text).map_err(|e| errors.toml(e))?;
            (raw, table)
        };
        let mut config = Config::from_raw(raw, &table, &errors)?;
        config.file = Some(path.to_path_buf());
        config.root = parent_dir(path);
        Ok(config)
    }

    fn from_raw(
        raw: Raw,
        table: &toml::Table,
        errors: &Errors<'_>,
    ) -> Result<Config, Box<ConfigError>> {
        let mut config = Config::default_at(PathBuf::from("."));
        for (id, setting) in &raw.rules {
            if !known_id(id.get_ref()) {
                let mut e = errors.at(
                    id.span(),
                    format!("unknown rule `{}`", id.get_ref()),
                    "not a rule id",
                );
                e.help = Some(if TOP_LEVEL_KEYS.contains(&id.get_ref().as_str()) {
                    format!(
                        "`{0}` is a top-level key, but TOML puts every key after a `[rules]` \
                         header into that table: move `{0} = ..` above `[rules]`",
                        id.get_ref()
                    )
                } else {
                    unknown_id_help(id.get_ref())
                });
                return Err(e);
            }
            let (level, options) = rule_setting(id.get_ref(), setting, errors)?;
            if let Some(level) = level {
                config.levels.insert(id.get_ref().clone(), level);
            }
            if !options.is_empty() {
                config.options.insert(id.get_ref().clone(), options);
            }
        }
        if let Some(include) = &raw.include {
            config.include = Some(globs(include, errors)?);
        }
        config.exclude = globs(&raw.exclude, errors)?;
        config.user_profile = user_profile(&raw, table, errors)?;
        config.release = raw.release.iter().map(|r| r.get_ref().clone()).collect();
        config.tests = raw.tests;
        Ok(config)
    }

    /// The level the configuration gives `id`, if it sets one.
    pub fn level(&self, id: &str) -> Option<Level> {
        self.levels.get(id).copied()
    }

    /// Is `id` switched off?
    pub fn is_off(&self, id: &str) -> bool {
        self.level(id) == Some(Level::Off)
    }

    /// The options of a rule's `[rules.<id>]` table (besides `level`).
    pub fn rule_options(&self, id: &str) -> Option<&toml::Table> {
        self.options.get(id)
    }

    /// Does `include`/`exclude` let `path` be checked?
    pub fn is_checked(&self, path: &Path) -> bool {
        let abs = absolute(path);
        let rel = abs.strip_prefix(&self.root).unwrap_or(&abs);
        if self.exclude.is_match(rel) {
            return false;
        }
        self.include.as_ref().is_none_or(|inc| inc.is_match(rel))
    }

    /// The knowledge to run with: the built-in profiles, plus the declared types, methods,
    /// functions and blocking calls. Leaked: a run loads it once.
    pub fn knowledge(&self) -> Result<&'static Knowledge, Box<ConfigError>> {
        let Some(user) = &self.user_profile else {
            return Ok(Knowledge::builtin());
        };
        let sources = BUILTIN
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .chain(std::iter::once((USER_PROFILE.to_string(), user.clone())));
        match Knowledge::load(sources) {
            Ok(k) => Ok(Box::leak(Box::new(k))),
            Err(e) => Err(Box::new(ConfigError {
                path: self.file.clone().unwrap_or_default(),
                text: None,
                span: None,
                message: e.message,
                label: String::new(),
                help: None,
            })),
        }
    }

    /// The profile built from the declared types (TOML), if any; for tests and `--explain`.
    pub fn user_profile(&self) -> Option<&str> {
        self.user_profile.as_deref()
    }
}

/// Does this `Cargo.toml` carry a connlint table (or fail to parse while mentioning one, so the
/// error is shown rather than the file silently skipped)?
fn manifest_has_config(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    if !text.contains("connlint") {
        return false;
    }
    match toml::from_str::<toml::Table>(&text) {
        Ok(t) => ["package", "workspace"].iter().any(|s| {
            t.get(*s)
                .and_then(|s| s.get("metadata"))
                .and_then(|m| m.get("connlint"))
                .is_some()
        }),
        Err(_) => true,
    }
}

fn rule_setting(
    id: &str,
    setting: &Spanned<toml::Value>,
    errors: &Errors<'_>,
) -> Result<(Option<Level>, toml::Table), Box<ConfigError>> {
    let level_of = |v: &toml::Value, span: Range<usize>| -> Result<Level, Box<ConfigError>> {
        let bad = || {
            errors.at(
                span.clone(),
                format!("invalid level {v} for `{id}`, expected \"error\", \"warn\" or \"off\""),
                "here",
            )
        };
        match v.as_str() {
            Some(s) => Level::deserialize(toml::Value::String(s.to_string())).map_err(|_| bad()),
            None => Err(bad()),
        }
    };
    match setting.get_ref() {
        toml::Value::Table(t) => {
            let mut level = None;
            let mut options = toml::Table::new();
            let allowed = RULE_OPTIONS
                .iter()
                .find(|(r, _)| *r == id)
                .map_or(&[][..], |(_, o)| *o);
            for (k, v) in t {
                let at = errors.find(setting.span(), k);
                if k == "level" {
                    let vspan = errors.find(at.end..setting.span().end, &v.to_string());
                    level = Some(level_of(v, vspan)?);
                } else if allowed.contains(&k.as_str()) {
                    options.insert(k.clone(), v.clone());
                } else {
                    let mut e = errors.at(
                        at,
                        format!("unknown option `{k}` for rule `{id}`"),
                        "not an option of this rule",
                    );
                    e.help = Some(if allowed.is_empty() {
                        format!("`{id}` has no options; only `level` can be set")
                    } else {
                        format!("`{id}` accepts `level` and: {}", allowed.join(", "))
                    });
                    return Err(e);
                }
            }
            Ok((level, options))
        }
        v => Ok((Some(level_of(v, setting.span())?), toml::Table::new())),
    }
}

/// Compiles `include`/`exclude` patterns. A pattern is matched against paths relative to the
/// configuration's directory; one without `/` matches at any depth (`*.gen.rs`), and a
/// directory pattern matches everything under it (`src/legacy`).
fn globs(patterns: &[Spanned<String>], errors: &Errors<'_>) -> Result<GlobSet, Box<ConfigError>> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let pat = p.get_ref().trim_start_matches("./").trim_end_matches('/');
        let mut forms = vec![pat.to_string(), format!("{pat}/**")];
        if !pat.contains('/') {
            forms.push(format!("**/{pat}"));
            forms.push(format!("**/{pat}/**"));
        }
        for f in forms {
            let glob = Glob::new(&f).map_err(|e| {
                errors.at(
                    p.span(),
                    format!("invalid glob `{}`: {}", p.get_ref(), e.kind()),
                    "here",
                )
            })?;
            b.add(glob);
        }
    }
    b.build().map_err(|e| {
        Box::new(ConfigError {
            path: errors.path.to_path_buf(),
            text: None,
            span: None,
            message: format!("invalid globs: {e}"),
            label: String::new(),
            help: None,
        })
    })
}

/// Checks the declared types, methods, functions and blocking calls against each other and
/// turns them into a profile's TOML.
fn user_profile(
    raw: &Raw,
    table: &toml::Table,
    errors: &Errors<'_>,
) -> Result<Option<String>, Box<ConfigError>> {
    if raw.types.is_empty()
        && raw.methods.is_empty()
        && raw.functions.is_empty()
        && raw.blocking.is_empty()
    {
        return Ok(None);
    }
    let declared: Vec<&str> = raw
        .types
        .iter()
        .map(|t| t.get_ref().name.as_str())
        .collect();
    let undeclared = |span: Range<usize>, what: &str, name: &str| {
        let mut e = errors.at(
            errors.find(span, name),
            format!("{what} `{name}`, which no [[types]] entry of this configuration declares"),
            "not declared",
        );
        e.help = Some(format!(
            "declare it: [[types]] name = \"{name}\" kind = \"connection\" (or pool, transaction, raw, client)"
        ));
        e
    };
    let mut roots: Vec<String> = Vec::new();
    for t in &raw.types {
        for p in &t.get_ref().paths {
            if let Some(first) = p.split("::").next() {
                roots.push(first.to_string());
            }
        }
    }
    for m in &raw.methods {
        let def = m.get_ref();
        for on in &def.on {
            if !declared.contains(&on.as_str()) {
                return Err(undeclared(m.span(), "method on", on));
            }
        }
        for r in def.returns.iter().chain(&def.returns_tuple) {
            if r != "Self" && !declared.contains(&r.as_str()) {
                return Err(undeclared(m.span(), "method returns", r));
            }
        }
    }
    let check_path = |path: &str, span: Range<usize>| -> Result<String, Box<ConfigError>> {
        let segs: Vec<&str> = path.split("::").collect();
        if segs.len() < 2 || segs.iter().any(|s| s.is_empty()) {
            let mut e = errors.at(
                errors.find(span, path),
                format!("function path `{path}` needs a prefix"),
                "write it as called: `module::function` or `Type::function`",
            );
            e.help = Some("a call is matched by its last two path segments".into());
            return Err(e);
        }
        Ok(segs[0].to_string())
    };
    for f in &raw.functions {
        let def = f.get_ref();
        for r in def.returns.iter().chain(&def.returns_tuple) {
            if r != "Self" && !declared.contains(&r.as_str()) {
                return Err(undeclared(f.span(), "function returns", r));
            }
        }
        for p in &def.paths {
            roots.push(check_path(p, f.span())?);
        }
    }
    for b in &raw.blocking {
        roots.push(check_path(b.get_ref(), b.span())?);
    }
    // Type names and path keywords are not crate roots.
    roots.retain(|r| {
        !declared.contains(&r.as_str())
            && !matches!(r.as_str(), "crate" | "self" | "super" | "Self")
    });
    roots.sort();
    roots.dedup();

    let mut profile = toml::Table::new();
    profile.insert("name".into(), USER_PROFILE.into());
    profile.insert(
        "roots".into(),
        toml::Value::Array(roots.into_iter().map(toml::Value::String).collect()),
    );
    profile.insert("versions".into(), "user configuration".into());
    for key in ["types", "methods"] {
        if let Some(v) = table.get(key) {
            profile.insert(key.into(), v.clone());
        }
    }
    let mut functions = table
        .get("functions")
        .and_then(|f| f.as_array())
        .cloned()
        .unwrap_or_default();
    for b in &raw.blocking {
        let mut f = toml::Table::new();
        f.insert(
            "paths".into(),
            toml::Value::Array(vec![b.get_ref().clone().into()]),
        );
        f.insert("role".into(), "block".into());
        f.insert("blocking".into(), true.into());
        functions.push(toml::Value::Table(f));
    }
    if !functions.is_empty() {
        profile.insert("functions".into(), toml::Value::Array(functions));
    }
    Ok(Some(toml::to_string(&profile).expect("a table serializes")))
}

/// A path as shown to the user: relative to the current directory when it is below it.
pub fn display_path(path: &Path) -> String {
    let abs = absolute(path);
    let cwd = absolute(Path::new("."));
    abs.strip_prefix(&cwd)
        .map_or_else(|_| path.display().to_string(), |r| r.display().to_string())
}

fn parent_dir(path: &Path) -> PathBuf {
    absolute(path)
        .parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

/// `path` made absolute against the current directory, with `.` and `..` removed lexically
/// (symlinks are not resolved, and the path need not exist).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Box<ConfigError>> {
        let path = Path::new("connlint.toml");
        let raw: Raw = toml::from_str(text).map_err(|e| Errors { path, text }.toml(e))?;
        let table: toml::Table = toml::from_str(text).unwrap();
        Config::from_raw(raw, &table, &Errors { path, text })
    }

    fn err_at(text: &str) -> (String, String) {
        let e = parse(text).expect_err("an error");
        let span = e.span.clone().expect("a span");
        (e.message, text[span].to_string())
    }

    #[test]
    fn levels_strings_and_tables() {
        let c = parse(
            "[rules]\nforgotten-connection = \"warn\"\ndetached-connection = { level = \"off\" }\nparse-error = \"error\"\n",
        )
        .unwrap();
        assert_eq!(c.level("forgotten-connection"), Some(Level::Warn));
        assert!(c.is_off("detached-connection"));
        assert_eq!(c.level("parse-error"), Some(Level::Error));
        assert_eq!(c.level("connection-in-static"), None);
    }

    #[test]
    fn mistakes_point_at_their_place() {
        assert_eq!(
            err_at("[rules]\nforgoten-connection = \"warn\"\n"),
            (
                "unknown rule `forgoten-connection`".into(),
                "forgoten-connection".into()
            )
        );
        let e = parse("[rules]\nforgotten-connection = \"warn\"\nblocking = [\"a::b\"]\n")
            .expect_err("blocking inside [rules]");
        assert!(e
            .help
            .unwrap()
            .contains("move `blocking = ..` above `[rules]`"));
        let (m, at) = err_at("[rules]\nforgotten-connection = \"loud\"\n");
        assert!(m.contains("invalid level"), "{m}");
        assert_eq!(at, "\"loud\"");
        let (m, at) = err_at("[rules]\nforgotten-connection = { level = \"warn\", depth = 3 }\n");
        assert!(m.contains("unknown option `depth`"), "{m}");
        assert_eq!(at, "depth");
        let (m, at) = err_at("exclude = [\"a\"]\nexlude = [\"b\"]\n");
        assert!(m.starts_with("unknown field `exlude`"), "{m}");
        assert_eq!(at, "exlude");
        let (m, at) = err_at("exclude = \"src\"\n");
        assert!(m.contains("invalid type"), "{m}");
        assert_eq!(at, "\"src\"");
        let (m, at) = err_at("[[types]]\nname = \"AppDb\"\nkind = \"pool\"\ncolour = 1\n");
        assert!(m.contains("unknown field `colour`"), "{m}");
        assert_eq!(at, "colour");
        let (m, at) = err_at("[[types]]\nname = \"AppDb\"\nkind = \"puddle\"\n");
        assert!(m.contains("unknown variant `puddle`"), "{m}");
        assert_eq!(at, "\"puddle\"");
        let (m, at) =
            err_at("[[methods]]\non = [\"AppDb\"]\nnames = [\"conn\"]\nrole = \"acquire\"\n");
        assert!(m.contains("method on `AppDb`"), "{m}");
        assert_eq!(at, "\"AppDb\"");
        let (m, at) = err_at("blocking = [\"sleep_forever\"]\n");
        assert!(m.contains("needs a prefix"), "{m}");
        assert_eq!(at, "\"sleep_forever\"");
        let (m, at) = err_at("exclude = [\"src/[a\"]\n");
        assert!(m.contains("invalid glob"), "{m}");
        assert_eq!(at, "\"src/[a\"");
    }

    #[test]
    fn user_types_become_a_profile() {
        let c = parse(
            "blocking = [\"replica::wait_for_sync\"]\n\
             [[types]]\nname = \"AppDb\"\nkind = \"pool\"\n\
             [[types]]\nname = \"DbConn\"\nkind = \"connection\"\n\
             [[methods]]\non = [\"AppDb\"]\nnames = [\"conn\"]\nrole = \"acquire\"\nreturns = \"DbConn\"\nasync = true\nfallible = true\n\
             [[functions]]\npaths = [\"db::checkout\", \"AppDb::open\"]\nrole = \"acquire\"\nreturns = \"DbConn\"\n",
        )
        .unwrap();
        let k = c.knowledge().unwrap();
        let app = k.user_type("AppDb").expect("declared");
        assert_eq!(k.ty(app).kind, crate::profile::Kind::Pool);
        let conn = k.method(app, "conn").expect("method");
        assert_eq!(conn.role, crate::profile::Role::Acquire);
        assert!(k.is_user_root("db") && k.is_user_root("replica"));
        assert!(!k.is_user_root("sqlx") && !k.is_user_root("AppDb"));
        let p = k
            .profiles
            .iter()
            .position(|p| p.name == USER_PROFILE)
            .unwrap() as u16;
        assert!(k.function(p, "db", "checkout").is_some());
        assert!(k.function(p, "AppDb", "open").is_some());
        let wait = k.function(p, "replica", "wait_for_sync").unwrap();
        assert!(wait.blocking && wait.role == crate::profile::Role::Block);
    }

    #[test]
    fn test_code_setting() {
        assert_eq!(parse("").unwrap().tests, TestCode::Check);
        assert_eq!(parse("tests = \"skip\"\n").unwrap().tests, TestCode::Skip);
        assert_eq!(parse("tests = \"warn\"\n").unwrap().tests, TestCode::Warn);
        let (m, at) = err_at("tests = \"ignore\"\n");
        assert!(m.contains("unknown variant `ignore`"), "{m}");
        assert_eq!(at, "\"ignore\"");
    }

    #[test]
    fn release_pairs_parse() {
        let c = parse(
            "[[release]]\nacquire = \"lock_conn\"\nrelease = \"unlock_conn\"\n\
             [[release]]\nacquire = \"Session::checkout\"\nrelease = \"Session::checkin\"\non = [\"Session\"]\nnote = \"the C pool never reclaims\"\n",
        )
        .unwrap();
        assert_eq!(c.release.len(), 2);
        assert_eq!(c.release[0].acquire, "lock_conn");
        assert_eq!(c.release[0].release, "unlock_conn");
        assert_eq!(c.release[1].on, vec!["Session".to_string()]);
        assert_eq!(
            c.release[1].note.as_deref(),
            Some("the C pool never reclaims")
        );
        let (m, at) = err_at("[[release]]\nacquire = \"a\"\n");
        assert!(m.contains("missing field `release`"), "{m}");
        assert!(at.contains("acquire"), "{at}");
    }

    #[test]
    fn globs_match_relative_paths() {
        let mut c =
            parse("include = [\"src\"]\nexclude = [\"*.gen.rs\", \"src/legacy\"]\n").unwrap();
        c.root = PathBuf::from("/p");
        assert!(c.is_checked(Path::new("/p/src/a.rs")));
        assert!(!c.is_checked(Path::new("/p/tests/a.rs")));
        assert!(!c.is_checked(Path::new("/p/src/x/schema.gen.rs")));
        assert!(!c.is_checked(Path::new("/p/src/legacy/old.rs")));
    }
}
