//! The one integration-test binary: whole-app behaviour over real HTTP. Every test runs on SQLite,
//! and on Postgres too when `LPSARING_TEST_POSTGRES_URL` is set (CI sets it).
// Helpers shared by the tests stop a test loudly on a failed step, like the tests themselves.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod admin;
mod admin_accounts;
mod admin_browser;
mod admin_forms;
mod admin_overview;
mod admin_security;
mod admin_user_page;
mod admin_users;
mod admin_users_browser;
mod architecture;
mod backup;
mod browser;
mod captive;
mod cash;
mod cli;
mod compat;
mod config;
mod crash;
mod device_admin;
mod devices;
mod doctor;
mod enforcement;
mod gateways;
mod import;
mod language;
mod metrics;
mod package_pages;
mod page_snapshots;
mod pages;
mod payments;
mod portal;
mod portal_browser;
mod purchase;
mod purchase_browser;
mod quota;
mod refunds;
mod sales;
mod sales_pages;
mod sessions;
mod startup;
mod system;
mod vendors;
mod voucher_accounts_migration;
mod voucher_browser;
mod voucher_login;
mod voucher_pages;
mod vouchers;
mod web;
mod webdriver;
