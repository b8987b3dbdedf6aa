//! Dobush server: campaigns, the voter register and the e-voter list, Tunduk (OIDC) login, staff
//! roles and the audit log, the key ceremony, ballot casting, the public bulletin board, the
//! tally, the electronic protocol and the election record (docs/server.md).
//!
//! The modules form five layers, declared below from the top. A module names modules of its own
//! layer and of those below it, never of a layer above, and the modules form no cycle:
//! `tests/layers.rs` checks both (docs/server.md §Layout).
//!
//! * **application**: [`startup`] builds the server (database, migrations, state, routes,
//!   middleware) and runs it. The binary's commands are in `main.rs`.
//! * **http**: [`state`] (the state of every request), [`connection`] (every connection's
//!   deadline), [`client_address`] (who is calling, behind trusted proxies), [`read_cache`]
//!   (public reads computed once per change), [`refusal`] (a refused access audited),
//!   [`extract`] (session and body extractors), [`auth`] (OIDC login, session tokens),
//!   [`routes`] (one file per resource), [`metrics`], [`ratelimit`], `fuzzing` (the request
//!   decoders, for fuzz/).
//! * **services**, what the server does on the database without HTTP: [`audit`] (the hash
//!   chain, alerts), [`webapp`] (the embedded voter app and its hashes), [`ceremony`] (the key
//!   ceremony), [`package`] (the election package), [`credentials`] (the credential list and its
//!   signatures), [`board_log`] (each campaign's bulletin board), [`close`] (the encrypted totals,
//!   kept and published at closing), [`cast`] (gate, batched verification, group commit,
//!   issuance), [`lifecycle`] (the campaign's transitions), [`tally`] (decryption shares,
//!   results), [`election_protocol`] (the signed electronic protocol), [`shmt`] (its ШМТ export
//!   and printout), [`export`] (the election record), [`demo`] (demo mode).
//! * **storage**: [`schema`] (every table), [`db`] (connections, pool, migrations), [`models`]
//!   (rows and their loaders).
//! * **foundation**: [`error`], [`configuration`], [`clock`], [`telemetry`], [`domain`] (values
//!   parsed once at the edge).

// application
pub mod startup;

// http
pub mod auth;
pub mod client_address;
pub mod connection;
pub mod extract;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod metrics;
pub mod ratelimit;
pub mod read_cache;
pub mod refusal;
pub mod refusal_counts;
pub mod routes;
pub mod state;

// services
pub mod alert_push;
pub mod audit;
pub mod board_log;
pub mod cast;
pub mod ceremony;
pub mod close;
pub mod commission;
pub mod credentials;
#[cfg(feature = "demo")]
pub mod demo;
pub mod election_protocol;
pub mod export;
pub mod filter;
pub mod lifecycle;
pub mod package;
pub mod shmt;
pub mod tally;
pub mod webapp;

// storage
pub mod db;
pub mod models;
pub mod schema;

// foundation
pub mod clock;
pub mod configuration;
pub mod domain;
pub mod error;
pub mod telemetry;
