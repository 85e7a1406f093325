//! `connection-in-background-task`: a connection held by a task whose loop never ends.

use super::{slot_holders, Family, FileCx, Phase, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::EventKind;

pub struct ConnectionInBackgroundTask;

static INFO: RuleInfo = RuleInfo {
    id: "connection-in-background-task",
    family: Family::Hold,
    default: Severity::Warning,
    summary: "a connection moved into `tokio::spawn`/`thread::spawn` whose body never ends (a loop without exit)",
};

impl Rule for ConnectionInBackgroundTask {
    fn phase(&self) -> Phase {
        Phase::Crate
    }

    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for body in cx.bodies {
            let spawned_fn = body.key.is_some_and(|k| cx.acquirers.is_spawned(k));
            for ev in &body.events {
                let EventKind::EndlessLoop { held } = &ev.kind else {
                    continue;
                };
                if !ev.ctx.in_task && !spawned_fn {
                    continue;
                }
                for h in slot_holders(cx.index, held) {
                    let name = cx.held_name(h);
                    let task = if ev.ctx.in_task {
                        "a spawned task".to_string()
                    } else {
                        format!("`{}`, which runs as a background task,", body.name)
                    };
                    cx.report(
                        (ev.span, "this loop never ends".to_string()),
                        format!("{name} is held by {task} whose loop never ends: the pool loses this slot for the life of the process"),
                        vec![cx.origin_label(h)],
                        Some("acquire the connection inside the loop, once per iteration, so it goes back to the pool between rounds".to_string()),
                    );
                }
            }
        }
    }
}
