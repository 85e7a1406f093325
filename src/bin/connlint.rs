fn main() -> std::process::ExitCode {
    connlint::cli::main_with_args(std::env::args_os())
}
