//! What the bench binaries share with the `lpsaring` binary: its global allocator, so a bench
//! measures the allocation behaviour the service has. A bench opts in with
//! `use lpsaring_benches as _;`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
