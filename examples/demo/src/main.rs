//! orders-api: a small order service. axum handlers on sqlx (Postgres), a nightly report job on
//! diesel + r2d2, and a notification fan-out on deadpool-postgres.
//!
//! This tree is connlint's demo input. It is never compiled.

mod db;
mod handlers;
mod notify;
mod reports;

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use sqlx::postgres::PgPoolOptions;

#[derive(Clone)]
pub struct AppState {
    pub db: sqlx::PgPool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")?;
    // One pool for the whole process, built once at startup.
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(5))
        .connect(&url)
        .await?;
    db::install(pool.clone());

    let state = AppState { db: pool };
    let app = Router::new()
        .route("/orders/:id", get(handlers::get_order))
        .route("/orders", post(handlers::create_order))
        .route("/admin/maintenance", post(handlers::start_maintenance))
        .with_state(state);

    let addr = SocketAddr::from(([0, 0, 0, 0], 8080));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
