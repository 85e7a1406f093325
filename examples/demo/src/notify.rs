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

/// Hazard: the pool for notifications comes from deadpool's defaults: it waits forever for a
/// free client when exhausted, and sizes itself by the CPU count of whatever machine it runs on
/// (**pool-without-acquire-timeout**, **pool-without-max-size**).
pub fn notification_pool(url: &str) -> Result<Pool, deadpool_postgres::CreatePoolError> {
    let mut cfg = deadpool_postgres::Config::new();
    cfg.url = Some(url.to_string());
    cfg.create_pool(Some(deadpool_postgres::Runtime::Tokio1), tokio_postgres::NoTls)
}

/// Hazard: the pooled client is held while the webhook call goes out over HTTP, so a slow
/// webhook keeps a pool slot busy for its whole duration (**held-across-await**).
pub async fn notify_webhook(pool: &Pool, http: &reqwest::Client, order_id: i64) -> Result<(), PoolError> {
    let client = pool.get().await?;
    let row = client.query_one("SELECT url FROM webhooks WHERE order_id = $1", &[&order_id]).await?;
    let url: String = row.get(0);
    let _ = http.post(url).send().await;
    Ok(())
}
