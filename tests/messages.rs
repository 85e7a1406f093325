//! What findings say, where the words matter: messages that a fixture's `//~ rule-id`
//! expectations cannot check.

use connlint::engine::{check, Input};

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
