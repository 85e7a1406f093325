//! HTTP handlers (axum + sqlx).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::AppState;

#[derive(Serialize, sqlx::FromRow)]
pub struct Order {
    pub id: i64,
    pub customer: String,
    pub total_cents: i64,
}

#[derive(Deserialize)]
pub struct NewOrder {
    pub customer: String,
    pub total_cents: i64,
}

fn internal(e: sqlx::Error) -> StatusCode {
    tracing::error!(error = %e, "database error");
    StatusCode::INTERNAL_SERVER_ERROR
}

/// Fine: one connection per request, used, then dropped at the end of the handler.
pub async fn get_order(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Order>, StatusCode> {
    let mut conn = state.db.acquire().await.map_err(internal)?;
    let order =
        sqlx::query_as::<_, Order>("SELECT id, customer, total_cents FROM orders WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(internal)?;
    order.map(Json).ok_or(StatusCode::NOT_FOUND)
}

/// Fine: the transaction is committed, which consumes it.
pub async fn create_order(
    State(state): State<AppState>,
    Json(new): Json<NewOrder>,
) -> Result<Json<i64>, StatusCode> {
    let mut tx = state.db.begin().await.map_err(internal)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (customer, total_cents) VALUES ($1, $2) RETURNING id",
    )
    .bind(&new.customer)
    .bind(new.total_cents)
    .fetch_one(&mut *tx)
    .await
    .map_err(internal)?;
    sqlx::query("INSERT INTO order_events (order_id, kind) VALUES ($1, 'created')")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(Json(id))
}

/// Takes the maintenance advisory lock. The lock lives as long as the session, so someone
/// "kept the session alive" by forgetting the connection: it never goes back to the pool.
pub async fn start_maintenance(State(state): State<AppState>) -> Result<StatusCode, StatusCode> {
    let mut conn = state.db.acquire().await.map_err(internal)?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(42)")
        .fetch_one(&mut *conn)
        .await
        .map_err(internal)?;
    if !locked {
        return Ok(StatusCode::CONFLICT);
    }
    std::mem::forget(conn);
    Ok(StatusCode::ACCEPTED)
}

/// Fine: the pool is borrowed, not rebuilt, and the connection is dropped at the end.
pub async fn order_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&mut *conn)
        .await
}
