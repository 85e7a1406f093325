//! connlint: finds database connection leaks and pool-exhaustion hazards in Rust code, from
//! source alone.

pub mod baseline;
pub mod cli;
pub mod config;
pub mod configured;
pub mod diagnostic;
pub mod engine;
pub mod flow;
pub mod ids;
pub mod index;
pub mod links;
pub mod lower;
pub mod model;
pub mod pools;
pub mod profile;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod server;
pub mod source;
pub mod suppress;
pub mod testcode;
pub mod types;
pub mod walk;
