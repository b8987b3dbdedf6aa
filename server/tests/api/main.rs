//! The integration suite of dobush-server: one binary, every test run on PostgreSQL and on SQLite.

mod helpers;

mod auth;
mod bad_input;
mod cabinet;
mod campaigns;
mod health;
mod migrations;
mod register;
mod roles;
