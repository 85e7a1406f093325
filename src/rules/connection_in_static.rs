//! `connection-in-static`: a connection (not a pool) kept in a `static`, `thread_local!` or
//! `lazy_static!`, where it is never dropped and never returned.

use super::{Family, FileCx, Rule, RuleInfo};
use crate::diagnostic::Severity;
use crate::flow::{EventKind, Expander, Place, Walker};
use crate::model::StaticVia;

pub struct ConnectionInStatic;

static INFO: RuleInfo = RuleInfo {
    id: "connection-in-static",
    family: Family::Escape,
    default: Severity::Error,
    summary: "a connection (not a pool) stored in a `static`, `thread_local!`, `lazy_static!`, `OnceCell`/`OnceLock`/`LazyLock`",
};

impl Rule for ConnectionInStatic {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, cx: &mut FileCx<'_>) {
        for decl in &cx.model.statics {
            let ty = cx.index.resolve(cx.file, cx.model, decl.ty, None);
            let Some(held) = cx.index.held_in(&ty) else {
                continue;
            };
            if !held.kind.holds_connection() || cx.index.knowledge.ty(held.ty).shareable {
                continue;
            }
            let mut labels = vec![(
                cx.model.ty_span(decl.ty),
                format!("this type holds a {}", held.kind.noun()),
            )];
            if let Some(init) = decl.init {
                let ex = Expander::new(cx.model, Some(cx.source));
                let mut w = Walker::new(cx.index, cx.model, &ex, cx.file, None);
                if let Some(origin) = w.expr(init).origin {
                    labels.push((origin, format!("the {} is acquired here", held.kind.noun())));
                }
            }
            // Where the program puts a connection into it (`CONN.set(conn)`, `get_or_init`).
            for body in cx.bodies {
                for ev in &body.events {
                    let EventKind::Method { recv, .. } = &ev.kind else {
                        continue;
                    };
                    if recv.place != Place::Static(decl.name) {
                        continue;
                    }
                    let origin = ev.args.iter().find_map(|a| a.origin).or(ev.result.origin);
                    if let Some(origin) = origin {
                        labels.push((
                            origin,
                            format!("a {} is stored in it here", held.kind.noun()),
                        ));
                    }
                }
            }
            let what = cx.describe(&held);
            // A `thread_local!` is not one shared connection but one per thread, kept while the
            // thread lives: on a long-lived worker pool, for good.
            let per_thread = decl.via == StaticVia::ThreadLocal;
            let consequence = match (held.kind.holds_pool_slot(), per_thread) {
                (true, false) => "it is never dropped, so its pool slot is never returned, and every thread shares (or waits on) this one connection",
                (false, false) => "it is never closed or replaced after a failure, and every caller shares (or waits on) this one connection",
                (true, true) => "each thread that uses it checks out its own connection and keeps it until the thread exits, so N threads hold N pool slots (on long-lived worker threads, for good)",
                (false, true) => "each thread that uses it opens its own connection and keeps it until the thread exits, never closed or replaced after a failure, so N threads hold N connections",
            };
            cx.report(
                (decl.span, format!("`{}` keeps a {} for the life of the program", cx.name(decl.name), held.kind.noun())),
                format!("{what} stored in {}: {consequence}", match decl.via {
                    StaticVia::Static => "a `static`",
                    StaticVia::ThreadLocal => "`thread_local!`",
                    StaticVia::LazyStatic => "`lazy_static!`",
                }),
                labels,
                Some("store the pool in the static instead (`static POOL: OnceLock<PgPool>`) and acquire a connection where it is needed".to_string()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{check, Input};

    /// The messages of the `connection-in-static` findings of `text`.
    fn messages(text: &str) -> Vec<String> {
        let outcome = check(
            &[Input {
                path: "src/db.rs".into(),
                text: Some(text.into()),
            }],
            &|id| id == "connection-in-static",
        );
        outcome.findings.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn a_thread_local_connection_is_one_per_thread_not_one_shared() {
        let found = messages(
            "use std::cell::RefCell;\n\
             use mysql::PooledConn;\n\
             use postgres::{Client, NoTls};\n\
             thread_local! {\n    \
                 static CONN: RefCell<Option<PooledConn>> = const { RefCell::new(None) };\n    \
                 static REPORTING: RefCell<Client> =\n        \
                     RefCell::new(Client::connect(\"host=db\", NoTls).unwrap());\n\
             }\n",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        for m in &found {
            assert!(m.contains("stored in `thread_local!`"), "{m}");
            assert!(m.contains("its own"), "{m}");
            assert!(m.contains("N threads hold N"), "{m}");
            assert!(!m.contains("shares"), "{m}");
        }
        assert!(found[0].contains("pool slot"), "{}", found[0]);
        assert!(
            found[1].contains("never closed or replaced"),
            "{}",
            found[1]
        );
    }

    #[test]
    fn a_static_connection_is_one_shared_by_everyone() {
        let found = messages(
            "use diesel::pg::PgConnection;\n\
             use diesel::r2d2::{ConnectionManager, PooledConnection};\n\
             use std::sync::{Mutex, OnceLock};\n\
             lazy_static::lazy_static! {\n    \
                 static ref CONN: Mutex<PgConnection> = Mutex::new(todo!());\n\
             }\n\
             static POOLED: OnceLock<Mutex<PooledConnection<ConnectionManager<PgConnection>>>> =\n    \
                 OnceLock::new();\n",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        for m in &found {
            assert!(
                m.contains("shares (or waits on) this one connection"),
                "{m}"
            );
            assert!(!m.contains("its own"), "{m}");
        }
    }
}
