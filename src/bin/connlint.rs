// The analysis allocates many small short-lived values (syntax trees, models, flow state):
// mimalloc serves them markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    connlint::cli::main_with_args(std::env::args_os())
}
