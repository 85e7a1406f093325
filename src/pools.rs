//! What a pool built in code ends up with: the effective value of each option (set in code, or
//! the library's default from its profile), for the config rules and `connlint pools`.

use crate::flow::{Setting, SettingValue};
use crate::profile::{Kind, Knowledge, OptionDef, TypeId};

/// An option's value, as the library sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum OptValue {
    Count(u64),
    Millis(u128),
    /// No limit: waits forever, never times out.
    Unbounded,
    /// Depends on the machine (`cpu*2`).
    MachineDependent(String),
    /// Set, but not to something connlint can read (a variable, a config value).
    Unknown,
}

impl std::fmt::Display for OptValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptValue::Count(n) => write!(f, "{n}"),
            OptValue::Millis(ms) => write!(f, "{}", human_millis(*ms)),
            OptValue::Unbounded => write!(f, "unbounded"),
            OptValue::MachineDependent(s) => write!(f, "{}", s.replace("cpu*", "CPU count × ")),
            OptValue::Unknown => write!(f, "set at run time"),
        }
    }
}

pub fn human_millis(ms: u128) -> String {
    match ms {
        0 => "0s".into(),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// Where an effective value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Set in code, at this setting.
    Explicit(usize),
    /// The library's default.
    Default,
    /// The library has no such option.
    Absent,
}

#[derive(Debug, Clone)]
pub struct Effective {
    pub value: OptValue,
    pub source: Source,
    /// The option's setter in this library (for messages and fixes).
    pub setter: Option<String>,
}

/// Parses a profile default: `10`, `30s`, `10m`, `500ms`, `none`, `cpu*2`.
pub fn parse_default(s: &str) -> OptValue {
    let s = s.trim();
    if s == "none" {
        return OptValue::Unbounded;
    }
    if s.starts_with("cpu") {
        return OptValue::MachineDependent(s.to_string());
    }
    if let Ok(n) = s.parse::<u64>() {
        return OptValue::Count(n);
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let Ok(n) = num.parse::<u128>() else {
        return OptValue::Unknown;
    };
    match unit {
        "ms" => OptValue::Millis(n),
        "s" => OptValue::Millis(n * 1000),
        "m" => OptValue::Millis(n * 60_000),
        "h" => OptValue::Millis(n * 3_600_000),
        _ => OptValue::Unknown,
    }
}

/// The options that apply to a pool: its builder's, then every builder of its profile.
fn options<'k>(
    k: &'k Knowledge,
    pool: TypeId,
    builder: Option<TypeId>,
) -> Vec<(&'k str, &'k OptionDef)> {
    let profile = k.profile(pool);
    let pool_name = &k.ty(pool).name;
    let mut out: Vec<(&str, &OptionDef)> = Vec::new();
    let mut push_type = |t: &'k crate::profile::TypeDef| {
        for o in &t.options {
            out.push((t.name.as_str(), o));
        }
    };
    if let Some(b) = builder {
        push_type(k.ty(b));
    }
    let builders = profile.types.iter().filter(|t| t.kind == Kind::Builder);
    let (own, others): (Vec<_>, Vec<_>) =
        builders.partition(|t| t.builds.as_deref() == Some(pool_name));
    for t in own.into_iter().chain(others) {
        push_type(t);
    }
    // Option types re-exported from another crate (deadpool-postgres uses deadpool's
    // `PoolConfig` and `Timeouts`) are described in that crate's profile.
    for p in &k.profiles {
        if p.name != profile.name {
            for t in p
                .types
                .iter()
                .filter(|t| t.kind == Kind::Builder && t.builds.is_none())
            {
                push_type(t);
            }
        }
    }
    out
}

/// How many of `options(..)` belong to the pool's own library (they come first).
fn own_options(k: &Knowledge, pool: TypeId, builder: Option<TypeId>) -> usize {
    let profile = k.profile(pool);
    let mut n = builder.map_or(0, |b| k.ty(b).options.len());
    n += profile
        .types
        .iter()
        .filter(|t| t.kind == Kind::Builder)
        .map(|t| t.options.len())
        .sum::<usize>();
    n
}

/// The canonical key a setting sets, if the library has such an option.
fn key_of<'k>(
    opts: &[(&'k str, &'k OptionDef)],
    own: usize,
    setter: &str,
) -> Option<&'k OptionDef> {
    if let Some((ty, rest)) = setter.split_once("::new#") {
        let i: usize = rest.parse().ok()?;
        // A type of the pool's own library wins over a namesake elsewhere.
        let scope = if opts[..own].iter().any(|(t, _)| *t == ty) {
            &opts[..own]
        } else {
            opts
        };
        return scope
            .iter()
            .filter(|(t, o)| *t == ty && o.setter == "new")
            .map(|(_, o)| *o)
            .nth(i);
    }
    opts.iter()
        .map(|(_, o)| *o)
        .find(|o| !o.setter.is_empty() && o.setter == setter)
}

/// The effective value of option `key` for a pool built with `settings`.
pub fn effective(
    k: &Knowledge,
    pool: TypeId,
    builder: Option<TypeId>,
    settings: &[Setting],
    key: &str,
) -> Effective {
    let opts = options(k, pool, builder);
    let own = own_options(k, pool, builder);
    // The last setting in code wins.
    for (i, s) in settings.iter().enumerate().rev() {
        let option = key_of(&opts, own, &s.setter);
        if option.is_none() && s.value == SettingValue::Computed {
            return Effective {
                value: OptValue::Unknown,
                source: Source::Explicit(i),
                setter: None,
            };
        }
        if let Some(o) = option.filter(|o| o.key == key) {
            let value = match &s.value {
                SettingValue::Number(0) if o.zero_is_unlimited => OptValue::Unbounded,
                SettingValue::Number(n) => OptValue::Count(*n),
                SettingValue::Millis(ms) => OptValue::Millis(*ms),
                SettingValue::Unbounded => OptValue::Unbounded,
                SettingValue::Other | SettingValue::Computed => OptValue::Unknown,
            };
            return Effective {
                value,
                source: Source::Explicit(i),
                setter: Some(o.setter.clone()),
            };
        }
    }
    // Defaults come from the pool's own library only.
    match opts[..own].iter().map(|(_, o)| *o).find(|o| o.key == key) {
        Some(o) => Effective {
            value: o
                .default
                .as_deref()
                .map_or(OptValue::Unknown, parse_default),
            source: Source::Default,
            setter: (!o.setter.is_empty() && o.setter != "new").then(|| o.setter.clone()),
        },
        None => Effective {
            value: OptValue::Unknown,
            source: Source::Absent,
            setter: None,
        },
    }
}

/// One pool the code builds, for `connlint pools`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PoolEntry {
    pub path: String,
    pub line: usize,
    pub column: usize,
    /// The library (profile) and pool type: `sqlx`, `PgPool`.
    pub library: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// The function that builds it.
    pub function: String,
    pub max_size: Shown,
    pub acquire_timeout: Shown,
    /// What becomes of it: returned, stored, handed to a call, dropped.
    pub fate: String,
}

/// An effective option value and where it comes from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Shown {
    /// `10`, `30s`, `unbounded`, `CPU count × 2`, `set at run time`, or `-` (no such option).
    pub value: String,
    /// `set` (in code), `default` (the library's), or `none` (the library has no such option).
    pub source: &'static str,
}

fn describe(e: &Effective) -> Shown {
    match e.source {
        Source::Explicit(_) => Shown {
            value: e.value.to_string(),
            source: "set",
        },
        Source::Default => Shown {
            value: e.value.to_string(),
            source: "default",
        },
        Source::Absent => Shown {
            value: "-".into(),
            source: "none",
        },
    }
}

/// The pools built in one analysed file.
pub fn inventory(
    k: &Knowledge,
    path: &std::path::Path,
    bodies: &[crate::flow::Body],
) -> Vec<PoolEntry> {
    let mut out = Vec::new();
    for body in bodies {
        for ev in &body.events {
            let crate::flow::EventKind::PoolBuilt(built) = &ev.kind else {
                continue;
            };
            let crate::flow::PoolBuiltEvent {
                pool,
                builder,
                settings,
                fate,
                ..
            } = &**built;
            let at = crate::diagnostic::Span::from_model(ev.span).start;
            out.push(PoolEntry {
                path: path.display().to_string(),
                line: at.line,
                column: at.column,
                library: k.profile(*pool).name.clone(),
                ty: k.ty(*pool).name.clone(),
                function: body.name.clone(),
                max_size: describe(&effective(k, *pool, *builder, settings, "max_size")),
                acquire_timeout: describe(&effective(
                    k,
                    *pool,
                    *builder,
                    settings,
                    "acquire_timeout",
                )),
                fate: fate
                    .clone()
                    .unwrap_or_else(|| "kept in a binding or captured".into()),
            });
        }
    }
    out
}

/// The inventory as a table for people.
pub fn render_table(pools: &[PoolEntry]) -> String {
    let mut rows: Vec<[String; 6]> = vec![[
        "LOCATION".into(),
        "POOL".into(),
        "MAX SIZE".into(),
        "ACQUIRE TIMEOUT".into(),
        "BUILT IN".into(),
        "THEN".into(),
    ]];
    let cell = |s: &Shown| match s.source {
        "none" => "-".to_string(),
        src => format!("{} ({src})", s.value),
    };
    for p in pools {
        rows.push([
            format!("{}:{}:{}", p.path, p.line, p.column),
            format!("{} {}", p.library, p.ty),
            cell(&p.max_size),
            cell(&p.acquire_timeout),
            format!("{}()", p.function),
            p.fate.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "{} pool{} built\n",
        pools.len(),
        if pools.len() == 1 { "" } else { "s" }
    ));
    out
}

/// The inventory as JSON: `{ "version": 1, "pools": [...] }`.
pub fn render_json(pools: &[PoolEntry]) -> String {
    let doc = serde_json::json!({ "version": 1, "pools": pools });
    let mut s = serde_json::to_string_pretty(&doc).expect("pools serialize");
    s.push('\n');
    s
}
