//! The integration suite of dobush-server: one binary, every test run on PostgreSQL and on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod auth;
mod bad_input;
mod ballots;
mod ballots_v2;
mod binary;
mod board;
mod browser;
mod buyer;
mod cabinet;
mod campaigns;
mod casting;
mod ceremony;
mod commission;
mod concurrency;
mod credentials_v2;
mod demo;
mod faults;
mod filtered;
mod filtered_record;
mod hardening;
mod health;
mod migrations;
mod openapi;
mod record_mutations;
mod register;
mod roles;
mod shmt;
mod tally;
