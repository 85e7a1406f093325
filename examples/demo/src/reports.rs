//! The nightly report job (diesel + r2d2, one thread per region).

use diesel::prelude::*;
use diesel::r2d2::PoolError;

use crate::db::{self, SyncConn, SyncPool};

const REGIONS: &[&str] = &["eu", "us", "apac"];

/// Hazard: one pooled connection per region, all checked out before any work starts and held
/// until the whole report is done. With more regions than pool slots this waits forever.
pub fn checkout_all(pool: &SyncPool) -> Result<Vec<SyncConn>, PoolError> {
    let mut conns = Vec::new();
    for _region in REGIONS {
        let conn = pool.get()?;
        conns.push(conn);
    }
    Ok(conns)
}

pub fn run(pool: &SyncPool) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let conns = checkout_all(pool)?;
    std::thread::scope(|s| {
        for (mut conn, region) in conns.into_iter().zip(REGIONS) {
            s.spawn(move || {
                diesel::sql_query(format!("REFRESH MATERIALIZED VIEW report_{region}"))
                    .execute(&mut conn)
            });
        }
    });
    Ok(())
}

/// Fine: a connection per row batch, dropped at the end of each iteration.
pub fn archive(pool: &SyncPool, batches: &[Vec<i64>]) -> Result<(), Box<dyn std::error::Error>> {
    for batch in batches {
        let mut conn = pool.get()?;
        diesel::sql_query("DELETE FROM orders_archive WHERE id = ANY($1)")
            .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(batch)
            .execute(&mut conn)?;
    }
    Ok(())
}

/// Fine: the thread-local helper in `db` is where the hazard is, not its callers.
pub fn vacuum() -> Result<usize, PoolError> {
    db::with_worker_conn(|conn| {
        diesel::sql_query("VACUUM ANALYZE orders")
            .execute(conn)
            .unwrap_or(0)
    })
}
