//! Test-only: a plugin claiming ABI version 999. The host must refuse it before calling anything,
//! so `call` panics to prove it is never reached.

use lpsaring_plugin_api::{RawPlugin, export_plugin};

/// Never called by a correct host.
#[derive(Debug, Default)]
pub struct WrongAbi;

impl RawPlugin for WrongAbi {
    #[allow(clippy::panic)]
    fn call(&self, _op: &str, _input: &[u8]) -> Vec<u8> {
        panic!("a host must not call a plugin whose ABI version it does not speak");
    }
}

export_plugin!(@abi_version 999, raw: WrongAbi);
