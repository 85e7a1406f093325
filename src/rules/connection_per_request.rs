//! `connection-per-request`: a raw (unpooled) connection opened on every request or job: in a
//! web handler or a job's run method (or a task either spawns), directly or through a
//! crate-local function that connects.

use super::{Family, FileCx, Phase, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{opens_server_connection, EventKind};

pub struct ConnectionPerRequest;

static INFO: RuleInfo = RuleInfo {
    id: "connection-per-request",
    family: Family::Lifecycle,
    default: Severity::Warning,
    summary: "a raw connection opened on every request, job or task (in a handler, a job's run method, a spawned task), directly or through a crate-local connect helper",
};

impl Rule for ConnectionPerRequest {
    fn phase(&self) -> Phase {
        Phase::Crate
    }

    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        let k = cx.index.knowledge;
        for body in cx.bodies {
            let Some(entry) = body.entry.filter(|_| !body.runs_once) else {
                continue;
            };
            let unit = entry.unit();
            let what = match entry {
                crate::flow::Entry::Handler => format!("the handler `{}`", body.name),
                crate::flow::Entry::Job => format!("the job method `{}`", body.name),
            };
            let help = Some("open the connection once and share it (a pool in app state, a cloned multiplexed client), or take it from a pool here".to_string());
            for ev in &body.events {
                // Inside a loop it is `connection-per-iteration`'s finding.
                if ev.ctx.loop_at.is_some() {
                    continue;
                }
                match &ev.kind {
                    EventKind::Call(_) | EventKind::Method(_)
                        if opens_server_connection(ev, cx.index) =>
                    {
                        let lib = ev
                            .def()
                            .and_then(|d| d.on)
                            .map(|t| format!("{} ", k.profile(t).name))
                            .unwrap_or_default();
                        cx.report(
                            (ev.span, format!("a new connection on every {unit}")),
                            format!("{what} opens a {lib}connection on every {unit}: each one costs a TCP and auth handshake and a server slot, and nothing bounds how many are open at once, so a burst of {unit}s exhausts the database's connection limit"),
                            vec![],
                            help.clone(),
                        );
                    }
                    EventKind::LocalCall { key, .. } => {
                        let Some(site) = cx.acquirers.connect_site(*key) else {
                            continue;
                        };
                        let callee = cx.index.callee_name(*key);
                        let via = if site.via.is_empty() {
                            String::new()
                        } else {
                            format!(" (through `{}`)", site.via.join("` → `"))
                        };
                        let at = format!("{}:{}", site.path.display(), site.span.lo.line);
                        let mut labels = Vec::new();
                        if site.path == cx.path {
                            labels.push((
                                site.span,
                                format!("`{callee}` opens the connection here{via}"),
                            ));
                        }
                        cx.report(
                            (ev.span, format!("`{callee}` opens a new connection on every {unit}")),
                            format!("{what} calls `{callee}`, which opens a raw connection{via} at {at}: one new connection on every {unit}, each a TCP and auth handshake and a server slot, and nothing bounds how many are open at once"),
                            labels,
                            help.clone(),
                        );
                    }
                    _ => {}
                }
            }
        }
    }
}
