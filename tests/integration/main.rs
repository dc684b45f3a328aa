//! The one integration-test binary: whole-app behaviour over real HTTP. Every test runs on SQLite,
//! and on Postgres too when `LPSARING_TEST_POSTGRES_URL` is set (CI sets it).

mod architecture;
mod browser;
mod captive;
mod config;
mod quota;
mod sessions;
mod system;
