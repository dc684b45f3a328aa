//! Ports: what the modules need from the outside world, as traits. `app` wires each to an adapter
//! (`lpsaring-routeros` for the router, `lpsaring-plugin-host` for messaging and payments), and
//! tests wire the same adapters to the simulator, real plugin files and local mock servers.

pub mod access;
pub mod audit;
pub mod grants;
pub mod messenger;
pub mod overview;
pub mod payment;
pub mod router;
pub mod router_config;
pub mod users;
pub mod voucher;

pub use access::{AccessPolicy, AccessStatus, RouterPlacement};
pub use messenger::{GatewayError, GatewayErrorKind, Messenger};
pub use payment::PaymentGateway;
pub use router::Router;
pub use users::{Role, UserDirectory, UserFacts, VoucherAccounts};
pub use voucher::{VoucherAccount, VoucherLogin, VoucherLoginError};
pub mod user_record;
