//! The one integration-test binary: whole-app behaviour over real HTTP. Every test runs on SQLite,
//! and on Postgres too when `LPSARING_TEST_POSTGRES_URL` is set (CI sets it).
// Helpers shared by the tests stop a test loudly on a failed step, like the tests themselves.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod admin;
mod admin_accounts;
mod admin_browser;
mod admin_security;
mod admin_users;
mod architecture;
mod backup;
mod browser;
mod captive;
mod cash;
mod cli;
mod config;
mod crash;
mod devices;
mod doctor;
mod enforcement;
mod gateways;
mod import;
mod metrics;
mod pages;
mod payments;
mod portal;
mod purchase;
mod purchase_browser;
mod quota;
mod refunds;
mod sessions;
mod startup;
mod system;
mod vendors;
mod voucher_accounts_migration;
mod voucher_browser;
mod voucher_login;
mod vouchers;
mod web;
