//! The plugin contract of lpsaring, for vendors who add a WhatsApp or payment provider.
//!
//! A plugin is a `cdylib` exporting one C symbol, [`ENTRY_SYMBOL`] (`lpsaring_plugin_v1`), that
//! returns a `#[repr(C)]` [`PluginTable`]: the ABI version, the table's size, `call(op, json) ->
//! json` and `free(buffer)`. Everything else is versioned JSON defined in [`protocol`], so host and
//! plugin never share a Rust type layout, an allocator or a panic.
//!
//! Plugins do no I/O ("sans-IO"): an operation answers [`Step::Http`] with a request for the host to
//! perform, and is called again with the response and its own opaque `state`, until it answers
//! [`Step::Done`] or [`Step::Error`]. The host owns timeouts, retries, the circuit breaker, the host
//! allow-list from the [`Manifest`] and redaction of secrets.
//!
//! Vendors implement the safe [`MessagingPlugin`] or [`PaymentPlugin`] trait and write
//! `export_plugin!(messaging: MyPlugin);` once; the macro writes the `unsafe` glue and catches
//! panics at the boundary. See `plugins/README.md` for the walk-through.
//!
//! Licensed MIT OR Apache-2.0 so that plugins under any licence can build against it.

pub mod abi;
pub mod encoding;
#[doc(hidden)]
pub mod export;
pub mod plugin;
pub mod protocol;
#[cfg(feature = "testing")]
pub mod testing;

pub use abi::{
    ABI_VERSION, CALL_BAD_ARGUMENTS, CALL_OK, CALL_PANICKED, ENTRY_SYMBOL, EntryFn, PluginBuffer,
    PluginTable,
};
pub use plugin::{Messaging, MessagingPlugin, Payment, PaymentPlugin, RawPlugin, dispatch};
pub use protocol::*;
