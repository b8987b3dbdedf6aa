//! The integration suite of dobush-server: one binary, every test run on PostgreSQL and on SQLite.

mod helpers;

mod auth;
mod health;
mod migrations;
