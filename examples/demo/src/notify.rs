//! Order notifications: a Postgres LISTEN session on deadpool-postgres.

use deadpool_postgres::{ClientWrapper, Object, Pool, PoolError};

/// Hazard: `LISTEN` is per session, so the session is taken out of the pool to live as long as
/// the listener. The pool stops counting it and opens a replacement, so the service can hold
/// more connections than `max_size`.
pub async fn listen_orders(pool: &Pool) -> Result<ClientWrapper, PoolError> {
    let client = pool.get().await?;
    client.batch_execute("LISTEN order_created").await?;
    Ok(Object::take(client))
}

/// Fine: a pooled client per notification, dropped when the function returns.
pub async fn notify_shipped(pool: &Pool, order_id: i64) -> Result<(), PoolError> {
    let client = pool.get().await?;
    client
        .execute("SELECT pg_notify('order_shipped', $1::text)", &[&order_id])
        .await?;
    Ok(())
}
