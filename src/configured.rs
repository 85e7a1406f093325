//! A configuration applied to an engine run, the same way by every front end (`connlint check`,
//! the language server): the engine settings it gives, then what it does to the run's findings.
//! It sits above the engine and beside the reporters, so the configuration itself imports
//! nothing from the layers above it.

use crate::config::Config;
use crate::engine::{Input, Outcome, DEFAULT_TIMEOUTS};
use crate::pools::{parse_default, OptValue};
use crate::suppress::{self, Applied};

/// `[rules.pool-misconfigured]` `max-acquire-timeout` / `min-acquire-timeout` ("10m",
/// "100ms") in milliseconds, or the defaults.
pub fn pool_timeouts(cfg: &Config) -> Result<(u128, u128), String> {
    let mut out = DEFAULT_TIMEOUTS;
    let Some(opts) = cfg.rule_options("pool-misconfigured") else {
        return Ok(out);
    };
    for (key, slot) in [
        ("max-acquire-timeout", &mut out.0),
        ("min-acquire-timeout", &mut out.1),
    ] {
        if let Some(v) = opts.get(key) {
            match parse_default(v.as_str().unwrap_or_default()) {
                OptValue::Millis(ms) => *slot = ms,
                _ => {
                    return Err(format!(
                        "[rules.pool-misconfigured] {key} = {v}: expected a duration such as \
                         \"10m\", \"30s\" or \"100ms\""
                    ))
                }
            }
        }
    }
    Ok(out)
}

/// What the configuration does to a run's findings: suppression comments (of `inputs`), then
/// only the rules `enabled` lets through, then levels, then the treatment of test code.
pub fn apply(
    cfg: &Config,
    outcome: &mut Outcome,
    inputs: &[Input],
    enabled: &dyn Fn(&str) -> bool,
) -> Applied {
    let applied = suppress::apply(outcome, inputs, enabled);
    outcome.findings.retain(|f| enabled(f.rule));
    for f in &mut outcome.findings {
        if let Some(sev) = cfg.level(f.rule).and_then(|l| l.severity()) {
            f.severity = sev;
        }
    }
    crate::testcode::apply(
        &mut outcome.findings,
        &outcome.sources,
        &cfg.root,
        cfg.tests,
    );
    applied
}
