//! `pool-without-max-size`: a pool sized by a machine-dependent or large library default.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::EventKind;
use crate::pools::{effective, OptValue, Source};

pub struct PoolWithoutMaxSize;

static INFO: RuleInfo = RuleInfo {
    id: "pool-without-max-size",
    family: Family::Config,
    default: Severity::Warning,
    summary: "a pool whose size comes from a machine-dependent or large library default",
};

/// A default at or above this many connections is too many for one process to open unasked.
const LARGE: u64 = 50;

impl Rule for PoolWithoutMaxSize {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        let k = cx.index.knowledge;
        for body in cx.bodies {
            for ev in &body.events {
                let EventKind::PoolBuilt(built) = &ev.kind else {
                    continue;
                };
                let crate::flow::PoolBuiltEvent {
                    pool,
                    builder,
                    settings,
                    ..
                } = &**built;
                let e = effective(k, *pool, *builder, settings, "max_size");
                let lib = k.profile(*pool).name.clone();
                let why = match (&e.value, &e.source) {
                    // `max_open(0)` in mobc: no limit at all.
                    (OptValue::Unbounded, Source::Explicit(_)) => {
                        format!("the size is set to 0, which {lib} reads as no limit")
                    }
                    (_, Source::Explicit(_) | Source::Absent) => continue,
                    _ => String::new(),
                };
                let why = if !why.is_empty() {
                    why
                } else {
                    match &e.value {
                    OptValue::MachineDependent(_) => format!("{lib} sizes the pool by default at {} connections, which differs from machine to machine", e.value),
                    OptValue::Count(n) if *n >= LARGE => format!("{lib} allows up to {n} connections by default"),
                    _ => continue,
                }
                };
                let fix = e.setter.as_ref().map_or("set the pool's maximum size explicitly".to_string(), |s| format!("set `{s}` explicitly, within what the database allows for this service"));
                cx.report(
                    (built.start, "no maximum size set".to_string()),
                    format!(
                        "{why}: production can open more connections than the database accepts"
                    ),
                    if built.start.lo.line != ev.span.lo.line {
                        vec![(ev.span, "the pool is built here".to_string())]
                    } else {
                        Vec::new()
                    },
                    Some(fix),
                );
            }
        }
    }
}
