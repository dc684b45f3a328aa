//! The `unsafe` glue behind [`export_plugin!`](crate::export_plugin), written once so plugin authors
//! never write `unsafe` themselves. Hidden from the docs: only the macro calls it.
#![allow(unsafe_code)]

use std::any::Any;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::abi::{CALL_BAD_ARGUMENTS, CALL_OK, CALL_PANICKED, PluginBuffer};
use crate::plugin::RawPlugin;

/// Exports a plugin: writes the `lpsaring_plugin_v1` symbol and its C table.
///
/// ```ignore
/// lpsaring_plugin_api::export_plugin!(messaging: ConsolePlugin);   // impl MessagingPlugin
/// lpsaring_plugin_api::export_plugin!(payment: MidtransPlugin);    // impl PaymentPlugin
/// lpsaring_plugin_api::export_plugin!(raw: MyRawPlugin);           // impl RawPlugin + Default
/// ```
///
/// The plugin value is created with `Default` on first use and lives as long as the process.
/// Panics inside it are caught and reported as [`CALL_PANICKED`](crate::CALL_PANICKED).
#[macro_export]
macro_rules! export_plugin {
    (messaging: $plugin:ty) => {
        $crate::export_plugin!(@table $crate::ABI_VERSION, $crate::Messaging<$plugin>);
    };
    (payment: $plugin:ty) => {
        $crate::export_plugin!(@table $crate::ABI_VERSION, $crate::Payment<$plugin>);
    };
    (raw: $plugin:ty) => {
        $crate::export_plugin!(@table $crate::ABI_VERSION, $plugin);
    };
    // Test plugins only: pretend to be built against another ABI version.
    (@abi_version $abi:expr, raw: $plugin:ty) => {
        $crate::export_plugin!(@table $abi, $plugin);
    };
    (@table $abi:expr, $adapter:ty) => {
        /// The plugin's C entry point: a pointer to its static call table.
        // SAFETY: `no_mangle` exports this one symbol, whose name is versioned and owned by the
        // ABI; no other item of a plugin may carry it.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn lpsaring_plugin_v1() -> *const $crate::PluginTable {
            static TABLE: $crate::PluginTable = $crate::PluginTable {
                abi_version: $abi,
                struct_size: $crate::abi::TABLE_SIZE,
                call: __lpsaring_plugin_call,
                free: $crate::export::free_buffer,
            };
            &TABLE
        }

        // SAFETY: unsafe to call because it reads the host's raw pointers; the contract is
        // `CallFn`'s, checked by `call_plugin` below.
        #[allow(unsafe_code)]
        unsafe extern "C" fn __lpsaring_plugin_call(
            op: *const u8,
            op_len: usize,
            input: *const u8,
            input_len: usize,
            out: *mut $crate::PluginBuffer,
        ) -> i32 {
            static INSTANCE: ::std::sync::OnceLock<$adapter> = ::std::sync::OnceLock::new();
            // SAFETY: the host upholds `CallFn`'s contract, which `call_plugin` requires as is.
            unsafe {
                $crate::export::call_plugin(
                    || INSTANCE.get_or_init(::std::default::Default::default),
                    op,
                    op_len,
                    input,
                    input_len,
                    out,
                )
            }
        }
    };
}

/// Runs one call of the C table: checks the pointers, catches panics, hands the answer over in a
/// plugin-owned buffer.
///
/// # Safety
/// `op` must point to `op_len` readable bytes and `input` to `input_len` readable bytes (either may
/// be null only when its length is 0), and `out` must be null or valid for one write of a
/// [`PluginBuffer`], all for the duration of the call.
pub unsafe fn call_plugin<P: RawPlugin>(
    instance: impl FnOnce() -> &'static P,
    op: *const u8,
    op_len: usize,
    input: *const u8,
    input_len: usize,
    out: *mut PluginBuffer,
) -> i32 {
    if out.is_null() {
        return CALL_BAD_ARGUMENTS;
    }
    let (status, bytes) = if (op.is_null() && op_len != 0) || (input.is_null() && input_len != 0) {
        (
            CALL_BAD_ARGUMENTS,
            b"null pointer with a non-zero length".to_vec(),
        )
    } else {
        // SAFETY: non-null (or length 0, where we never dereference) and readable for the length,
        // per this function's contract.
        let op_bytes = if op_len == 0 {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(op, op_len) }
        };
        // SAFETY: as above, for `input`.
        let input_bytes = if input_len == 0 {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(input, input_len) }
        };
        match std::str::from_utf8(op_bytes) {
            Err(_) => (CALL_BAD_ARGUMENTS, b"operation name is not UTF-8".to_vec()),
            Ok(op) => match catch_unwind(AssertUnwindSafe(|| instance().call(op, input_bytes))) {
                Ok(answer) => (CALL_OK, answer),
                Err(payload) => {
                    let message = panic_message(payload.as_ref());
                    // A payload whose destructor panics would unwind out of here and abort the host;
                    // leaking one small box per panic is the safe trade.
                    std::mem::forget(payload);
                    (CALL_PANICKED, message.into_bytes())
                }
            },
        }
    };
    // SAFETY: `out` is non-null and valid for one write, per this function's contract.
    unsafe { out.write(into_buffer(bytes)) };
    status
}

/// The table's `free`: gives a buffer written by [`call_plugin`] back to this plugin's allocator.
///
/// # Safety
/// `buffer` must have been produced by this plugin's `call` and not freed before.
pub unsafe extern "C" fn free_buffer(buffer: PluginBuffer) {
    if buffer.ptr.is_null() {
        return;
    }
    // SAFETY: `into_buffer` took these three parts from a live `Vec<u8>` that it did not drop, and
    // the caller frees each buffer once.
    drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.capacity) });
}

fn into_buffer(bytes: Vec<u8>) -> PluginBuffer {
    let mut bytes = ManuallyDrop::new(bytes);
    PluginBuffer {
        ptr: bytes.as_mut_ptr(),
        len: bytes.len(),
        capacity: bytes.capacity(),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "plugin panicked".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{ABI_VERSION, TABLE_SIZE};

    #[derive(Default)]
    struct Moody;

    impl RawPlugin for Moody {
        fn call(&self, op: &str, input: &[u8]) -> Vec<u8> {
            if op == "panic" {
                panic!("boom: {}", String::from_utf8_lossy(input));
            }
            format!("{op}:{}", String::from_utf8_lossy(input)).into_bytes()
        }
    }

    mod exported {
        crate::export_plugin!(raw: super::Moody);
    }

    /// Calls the exported table the way the host does and returns (status, answer).
    fn call_table(op: &str, input: &str) -> (i32, String) {
        let table = exported::lpsaring_plugin_v1();
        // SAFETY: the table is a static of this test binary.
        let table = unsafe { &*table };
        let mut out = PluginBuffer::empty();
        // SAFETY: pointers and lengths come from live `&str`s; `out` is a valid local.
        let status =
            unsafe { (table.call)(op.as_ptr(), op.len(), input.as_ptr(), input.len(), &mut out) };
        // SAFETY: `call` wrote a buffer of `len` initialised bytes into `out`.
        let text = String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(out.ptr, out.len) })
            .into_owned();
        // SAFETY: freed once, by the plugin that allocated it.
        unsafe { (table.free)(out) };
        (status, text)
    }

    #[test]
    fn exported_table_describes_itself() {
        // SAFETY: static table of this test binary.
        let table = unsafe { &*exported::lpsaring_plugin_v1() };
        assert_eq!(table.abi_version, ABI_VERSION);
        assert_eq!(table.struct_size, TABLE_SIZE);
    }

    #[test]
    fn calls_round_trip_and_panics_are_caught() {
        assert_eq!(call_table("echo", "{}"), (CALL_OK, "echo:{}".to_owned()));
        let (status, message) = call_table("panic", "x");
        assert_eq!(status, CALL_PANICKED);
        assert_eq!(message, "boom: x");
        // The plugin still works after a panic.
        assert_eq!(call_table("echo", ""), (CALL_OK, "echo:".to_owned()));
    }

    #[test]
    fn bad_arguments_are_reported() {
        let mut out = PluginBuffer::empty();
        // SAFETY: a non-UTF-8 op name of 2 readable bytes; `out` valid.
        let status = unsafe {
            call_plugin(
                || &Moody,
                [0xff, 0xfe].as_ptr(),
                2,
                std::ptr::null(),
                0,
                &mut out,
            )
        };
        assert_eq!(status, CALL_BAD_ARGUMENTS);
        // SAFETY: buffer written by call_plugin above.
        unsafe { free_buffer(out) };
        // SAFETY: null `out` is allowed and reported.
        let status = unsafe {
            call_plugin(
                || &Moody,
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(status, CALL_BAD_ARGUMENTS);
    }
}
