//! Dobush server: campaigns, voter and e-voter registers, Tunduk (OIDC) login, the audit log.
//! Ballot casting and the bulletin board are wired to `dobush-crypto` later (issue 3); the schema
//! already holds their tables.

pub mod audit;
pub mod auth;
pub mod board_log;
pub mod cast;
pub mod ceremony;
pub mod clock;
pub mod close;
pub mod configuration;
pub mod credentials;
pub mod db;
pub mod demo;
pub mod domain;
pub mod election_protocol;
pub mod error;
pub mod export;
pub mod extract;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod lifecycle;
pub mod metrics;
pub mod models;
pub mod package;
pub mod ratelimit;
pub mod refusal;
pub mod routes;
pub mod schema;
pub mod shmt;
pub mod startup;
pub mod state;
pub mod tally;
pub mod telemetry;
pub mod webapp;
