//! What the bench binaries share with the `lpsaring` binary: its global allocator, so a bench
//! measures the allocation behaviour the service has. A bench opts in with
//! `use lpsaring_benches as _;`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Whether criterion runs each bench once as a test rather than measuring it: `cargo test
/// --benches` runs the binary without `--bench` (criterion then runs every bench once), and
/// `cargo bench -- --test` asks for the same. CI does this for the benches' own asserts (the
/// steady-state "0 router writes", the planned write counts), where world size does not matter.
pub fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}

/// `full` when measuring, `small` when the bench runs once as a test ([`test_mode`]).
pub fn size(full: usize, small: usize) -> usize {
    if test_mode() { small } else { full }
}

pub mod fonnte_stub;
pub mod load;
pub mod portal;
