//! Process-wide database handles.

use std::cell::RefCell;
use std::sync::OnceLock;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PoolError, PooledConnection};
use sqlx::PgPool;

pub type SyncPool = Pool<ConnectionManager<PgConnection>>;
pub type SyncConn = PooledConnection<ConnectionManager<PgConnection>>;

/// Fine: a pool in a static is shared, and every caller checks out its own connection.
static POOL: OnceLock<PgPool> = OnceLock::new();
static SYNC_POOL: OnceLock<SyncPool> = OnceLock::new();

thread_local! {
    // Hazard: each report worker thread keeps "its" connection for the life of the thread, so
    // a pool of 8 is empty as soon as 8 worker threads have run once.
    static WORKER_CONN: RefCell<Option<SyncConn>> = const { RefCell::new(None) };
}

pub fn install(pool: PgPool) {
    POOL.set(pool).expect("db::install called twice");
}

pub fn install_sync(pool: SyncPool) {
    let _ = SYNC_POOL.set(pool);
}

pub fn pool() -> &'static PgPool {
    POOL.get().expect("db::install not called")
}

/// Fine: the connection is returned to the caller, who drops it.
pub fn sync_conn() -> Result<SyncConn, PoolError> {
    SYNC_POOL.get().expect("db::install_sync not called").get()
}

pub fn with_worker_conn<T>(f: impl FnOnce(&mut SyncConn) -> T) -> Result<T, PoolError> {
    WORKER_CONN.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(sync_conn()?);
        }
        Ok(f(slot.as_mut().expect("set above")))
    })
}
