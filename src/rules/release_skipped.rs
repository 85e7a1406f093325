//! `release-skipped`: for manual acquire/release pairs declared in configuration, a path from
//! the acquisition to an exit that skips the release.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::EventKind;
use crate::model::Span;

pub struct ReleaseSkipped;

/// An acquisition, its release call, and the exits that skip it.
type Skipped = (Span, String, Vec<(Span, &'static str)>);

static INFO: RuleInfo = RuleInfo {
    id: "release-skipped",
    family: Family::Close,
    default: Severity::Error,
    summary: "for manual release APIs declared in config: a path (early `return`, `?`, `break`) that skips the release",
};

impl Rule for ReleaseSkipped {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        // One finding per acquisition, with a label at every exit that skips its release.
        let mut by_origin: Vec<Skipped> = Vec::new();
        for body in cx.bodies {
            for ev in &body.events {
                let EventKind::ManualExit { open, how } = &ev.kind else {
                    continue;
                };
                for (origin, release) in open {
                    let at = crate::diagnostic::Span::from_model(*origin).start;
                    match by_origin.iter_mut().find(|(o, r, _)| {
                        crate::diagnostic::Span::from_model(*o).start == at && r == release
                    }) {
                        Some((_, _, exits)) => exits.push((ev.span, how)),
                        None => by_origin.push((*origin, release.clone(), vec![(ev.span, how)])),
                    }
                }
            }
        }
        for (origin, release, exits) in by_origin {
            let hows: Vec<&str> = exits.iter().map(|(_, h)| *h).collect();
            let mut kinds = hows.clone();
            kinds.dedup();
            let labels = exits
                .iter()
                .map(|(s, h)| (*s, format!("this {h} skips `{release}`")))
                .collect();
            cx.report(
                (origin, "acquired here".to_string()),
                format!("{} from here leave{} before `{release}` is called: on {} the resource is never released", kinds.join(", "), if hows.len() == 1 { "s" } else { "" }, if hows.len() == 1 { "that path" } else { "those paths" }),
                labels,
                Some(format!("call `{release}` before every exit, or wrap the resource in a guard whose `Drop` calls `{release}`")),
            );
        }
    }
}
