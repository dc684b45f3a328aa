//! The only place that touches the C ABI: opening a plugin file, checking its table, and calling
//! through it. Libraries are never unloaded: unloading runs the plugin's destructors while other
//! threads may still hold its function pointers, and `dlclose` is a no-op on some libcs anyway.
#![allow(unsafe_code)]

use std::path::Path;

use libloading::Library;
use lpsaring_plugin_api::abi::TABLE_SIZE;
use lpsaring_plugin_api::{
    ABI_VERSION, CALL_OK, CALL_PANICKED, ENTRY_SYMBOL, EntryFn, PluginBuffer, PluginTable,
};

use crate::report::RefuseReason;

/// An opened plugin whose table passed the ABI checks.
#[derive(Debug)]
pub(crate) struct PluginLibrary {
    table: &'static PluginTable,
}

/// Why a call did not produce an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallFault {
    /// The plugin panicked; the export glue caught it. Carries the panic message.
    Panicked(String),
    /// The plugin returned a status other than OK or PANICKED.
    Status(i32, String),
}

impl PluginLibrary {
    /// Opens `path` and checks the entry symbol, ABI version and table size. The caller has
    /// already checked the file's owner and mode.
    pub(crate) fn open(path: &Path) -> Result<Self, RefuseReason> {
        // SAFETY: opening a library runs its initialisers, i.e. arbitrary code. Plugins are trusted
        // code the operator installed into a directory only root (or the service user) can write;
        // `checks::check_plugin_file` verified owner and mode just before this call.
        let library =
            unsafe { Library::new(path) }.map_err(|e| RefuseReason::Open(e.to_string()))?;
        // Never unloaded (see the module docs), so the table and functions stay valid forever.
        let library: &'static Library = Box::leak(Box::new(library));
        let symbol_name = format!("{ENTRY_SYMBOL}\0");
        // SAFETY: we declare the symbol with the ABI's entry signature. A library that exports this
        // exact name with another signature breaks the documented contract; nothing here can
        // detect that, which is why the file checks come first.
        let entry: EntryFn = match unsafe { library.get::<EntryFn>(symbol_name.as_bytes()) } {
            Ok(symbol) => *symbol,
            Err(_) => return Err(RefuseReason::MissingSymbol),
        };
        // SAFETY: the entry takes no arguments and returns a pointer to the plugin's static table.
        let table = unsafe { entry() };
        if table.is_null() {
            return Err(RefuseReason::NullTable);
        }
        let header = table.cast::<u32>();
        // SAFETY: every version of the table starts with `abi_version: u32, struct_size: u32`, so
        // these two reads are in bounds whatever the plugin's ABI version; nothing else is read
        // before both are checked.
        let (abi_version, struct_size) = unsafe { (header.read(), header.add(1).read()) };
        if abi_version != ABI_VERSION {
            return Err(RefuseReason::AbiVersion {
                found: abi_version,
                expected: ABI_VERSION,
            });
        }
        if struct_size < TABLE_SIZE {
            return Err(RefuseReason::TableTooSmall {
                found: struct_size,
                expected: TABLE_SIZE,
            });
        }
        // SAFETY: same ABI version and at least our table's size: the layout is the one we know,
        // and it is a static of a library that is never unloaded.
        let table: &'static PluginTable = unsafe { &*table };
        Ok(Self { table })
    }

    /// One synchronous call: op name and JSON in, the plugin's answer out.
    pub(crate) fn call(&self, op: &str, input: &[u8]) -> Result<Vec<u8>, CallFault> {
        let mut out = PluginBuffer::empty();
        // SAFETY: `op` and `input` are live slices for the duration of the call and `out` is a
        // valid local; this is exactly `CallFn`'s contract. The export glue never unwinds.
        let status = unsafe {
            (self.table.call)(op.as_ptr(), op.len(), input.as_ptr(), input.len(), &mut out)
        };
        let answer = if out.ptr.is_null() || out.len == 0 {
            Vec::new()
        } else {
            // SAFETY: per the ABI, a non-null `out.ptr` points to `out.len` initialised bytes the
            // plugin owns until we give them back with `free` just below; we copy them first.
            unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec()
        };
        // SAFETY: the buffer came from this plugin's `call` and is freed exactly once, by it.
        unsafe { (self.table.free)(out) };
        match status {
            CALL_OK => Ok(answer),
            CALL_PANICKED => Err(CallFault::Panicked(
                String::from_utf8_lossy(&answer).into_owned(),
            )),
            other => Err(CallFault::Status(
                other,
                String::from_utf8_lossy(&answer).into_owned(),
            )),
        }
    }
}
