//! The C side of the contract: one symbol, one table, owned byte buffers.
//!
//! Rules both sides rely on:
//! - The host reads `abi_version` and `struct_size` (the first two `u32`s) before anything else and
//!   refuses the plugin unless `abi_version == ABI_VERSION` and `struct_size` is at least the size
//!   it knows. The table only ever grows at the end, so a newer plugin stays loadable.
//! - `call` never unwinds: a panic inside the plugin becomes [`CALL_PANICKED`].
//! - Every buffer `call` writes into `out` was allocated by the plugin and must be handed back to
//!   the same plugin's `free`, exactly once, whatever the status. The host never frees it itself,
//!   because host and plugin may use different allocators.

/// Version of the C table. Bumped only for an incompatible change of [`PluginTable`].
pub const ABI_VERSION: u32 = 1;

/// Name of the one exported symbol (without the trailing NUL libloading wants).
pub const ENTRY_SYMBOL: &str = "lpsaring_plugin_v1";

/// `call` succeeded; `out` holds a JSON [`crate::Step`].
pub const CALL_OK: i32 = 0;
/// The plugin panicked; `out` holds a UTF-8 message (possibly empty).
pub const CALL_PANICKED: i32 = 1;
/// A null pointer or a non-UTF-8 operation name was passed; `out` holds a UTF-8 message.
pub const CALL_BAD_ARGUMENTS: i32 = 2;

/// Bytes owned by the plugin that allocated them. `capacity` lets Rust plugins rebuild their `Vec`.
#[repr(C)]
#[derive(Debug)]
pub struct PluginBuffer {
    pub ptr: *mut u8,
    pub len: usize,
    pub capacity: usize,
}

impl PluginBuffer {
    /// A buffer that owns nothing; what the host passes in as `out` before the call.
    pub const fn empty() -> Self {
        Self {
            ptr: std::ptr::null_mut(),
            len: 0,
            capacity: 0,
        }
    }
}

/// `call(op, op_len, input, input_len, out) -> status`. `op` is the UTF-8 operation name, `input`
/// a UTF-8 JSON [`crate::CallEnvelope`]; the answer is written to `*out`.
pub type CallFn = unsafe extern "C" fn(
    op: *const u8,
    op_len: usize,
    input: *const u8,
    input_len: usize,
    out: *mut PluginBuffer,
) -> i32;

/// Returns a buffer written by `call` to the plugin's allocator.
pub type FreeFn = unsafe extern "C" fn(buffer: PluginBuffer);

/// What `lpsaring_plugin_v1()` points to. Lives in the plugin's static memory for as long as the
/// library is loaded (the host never unloads it).
#[repr(C)]
#[derive(Debug)]
pub struct PluginTable {
    pub abi_version: u32,
    /// `size_of::<PluginTable>()` as the plugin was compiled.
    pub struct_size: u32,
    pub call: CallFn,
    pub free: FreeFn,
}

/// The signature of the exported entry symbol.
pub type EntryFn = unsafe extern "C" fn() -> *const PluginTable;

/// The size a host built against this crate requires at least.
pub const TABLE_SIZE: u32 = size_of::<PluginTable>() as u32;
