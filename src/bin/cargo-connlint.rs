//! `cargo connlint ...`: cargo runs this binary as `cargo-connlint connlint ...`.
fn main() -> std::process::ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "connlint") {
        args.remove(1);
    }
    connlint::cli::main_with_args(args)
}
