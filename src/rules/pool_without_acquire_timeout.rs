//! `pool-without-acquire-timeout`: a pool whose effective acquire timeout is unbounded.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::EventKind;
use crate::pools::{effective, OptValue, Source};

pub struct PoolWithoutAcquireTimeout;

static INFO: RuleInfo = RuleInfo {
    id: "pool-without-acquire-timeout",
    family: Family::Config,
    default: Severity::Warning,
    summary:
        "a pool whose effective acquire timeout is unbounded (library default or explicit `None`)",
};

impl Rule for PoolWithoutAcquireTimeout {
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
                let e = effective(k, *pool, *builder, settings, "acquire_timeout");
                if e.value != OptValue::Unbounded {
                    continue;
                }
                let lib = k.profile(*pool).name.clone();
                let (why, labels) = match e.source {
                    Source::Explicit(i) => (
                        format!("the acquire timeout is set to `None`, so {lib} waits forever"),
                        vec![(settings[i].span, "no limit set here".to_string())],
                    ),
                    Source::Default => (
                        format!("{lib} waits forever for a connection by default"),
                        Vec::new(),
                    ),
                    Source::Absent => (format!("{lib} has no acquire timeout at all"), Vec::new()),
                };
                let mut labels = labels;
                if built.start.lo.line != ev.span.lo.line {
                    labels.push((ev.span, "the pool is built here".to_string()));
                }
                let fix = match &e.setter {
                    Some(s) if e.source != Source::Absent => format!("set `{s}` to a few seconds so an exhausted pool fails fast instead of hanging every request"),
                    _ => "bound the wait yourself (`tokio::time::timeout(Duration::from_secs(5), pool.get_conn())`), or use a pool with an acquire timeout".to_string(),
                };
                cx.report(
                    (
                        built.start,
                        "this pool waits forever when exhausted".to_string(),
                    ),
                    format!(
                        "{why}: when the pool is exhausted every request hangs instead of failing"
                    ),
                    labels,
                    Some(fix),
                );
            }
        }
    }
}
