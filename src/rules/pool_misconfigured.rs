//! `pool-misconfigured`: pool settings that cannot work.

use super::{Family, FileCx, Phase, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::EventKind;
use crate::pools::{effective, human_millis, OptValue, Source};

pub struct PoolMisconfigured;

static INFO: RuleInfo = RuleInfo {
    id: "pool-misconfigured",
    family: Family::Config,
    default: Severity::Warning,
    summary: "settings that cannot work: max size 0, or 1 where the code holds two connections at once; min idle above max size; an acquire timeout of hours or of a few milliseconds",
};

/// Default thresholds for timeouts (rule options may change them).
pub const MAX_TIMEOUT_MS: u128 = 10 * 60 * 1000;
pub const MIN_TIMEOUT_MS: u128 = 100;

impl Rule for PoolMisconfigured {
    fn phase(&self) -> Phase {
        Phase::Crate
    }

    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        let k = cx.index.knowledge;
        let (max_ms, min_ms) = cx.timeout_bounds();
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
                let get = |key| effective(k, *pool, *builder, settings, key);
                let at = |e: &crate::pools::Effective| match e.source {
                    Source::Explicit(i) => settings[i].span,
                    _ => ev.span,
                };
                let mut problems: Vec<(crate::model::Span, String)> = Vec::new();
                let max = get("max_size");
                match max.value {
                    OptValue::Count(0) => problems.push((at(&max), "a maximum size of 0: no connection can ever be acquired".into())),
                    OptValue::Count(1) if matches!(max.source, Source::Explicit(_)) && cx.acquirers.nests => problems.push((
                        at(&max),
                        "a maximum size of 1, but this crate holds two connections at once (see `nested-acquire`): the second acquisition waits for a connection that is never returned, until it times out".into(),
                    )),
                    _ => {}
                }
                let min = get("min_idle");
                if let (OptValue::Count(lo), OptValue::Count(hi)) = (&min.value, &max.value) {
                    if lo > hi
                        && (matches!(min.source, Source::Explicit(_))
                            || matches!(max.source, Source::Explicit(_)))
                    {
                        let place = if matches!(min.source, Source::Explicit(_)) {
                            at(&min)
                        } else {
                            at(&max)
                        };
                        problems.push((
                            place,
                            format!(
                                "a minimum of {lo} idle connections above the maximum size of {hi}"
                            ),
                        ));
                    }
                }
                for key in ["acquire_timeout", "connect_timeout"] {
                    let t = get(key);
                    let (OptValue::Millis(ms), Source::Explicit(_)) = (&t.value, &t.source) else {
                        continue;
                    };
                    let what = key.replace('_', " ");
                    if *ms > max_ms {
                        problems.push((at(&t), format!("an {what} of {}: requests queue for that long before failing, long after their callers gave up", human_millis(*ms))));
                    } else if *ms < min_ms {
                        problems.push((at(&t), format!("an {what} of {}: shorter than a connection takes to open under load (`from_millis` where seconds were meant?)", human_millis(*ms))));
                    }
                }
                for (span, why) in problems {
                    cx.report(
                        (span, "this setting cannot work".to_string()),
                        format!("{} pool with {why}", k.profile(*pool).name),
                        vec![(ev.span, "the pool is built here".to_string())],
                        Some("size the pool for the connections one request holds at once, keep min idle at or below max size, and keep timeouts between a fraction of a second and a few minutes".to_string()),
                    );
                }
            }
        }
    }
}
