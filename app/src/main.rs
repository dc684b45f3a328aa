//! The `lpsaring` binary: parses the command line and hands over to the library.

/// mimalloc keeps the large blocks a sync run frees for the next run; glibc returns them to the
/// kernel and pays page faults to get them back (about a third of a 100k-device run's compute).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    lpsaring::cli::main()
}
