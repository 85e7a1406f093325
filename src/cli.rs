//! The command line: `connlint check`, `connlint rules`, `connlint explain`.

use crate::diagnostic::{Severity, PARSE_ERROR};
use crate::engine::{self, Input};
use crate::report::{self, Format, Style};
use crate::rules;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  no finding at error level (warnings alone do not fail, unless --deny warnings)
  1  at least one finding at error level (or any finding with --deny warnings)
  2  usage error, unknown rule, or a path that does not exist";

#[derive(Parser, Debug)]
#[command(
    name = "connlint",
    version,
    about = "Finds database connection leaks and pool-exhaustion hazards in Rust code",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check Rust files and directories for connection hazards
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// List every rule with its family, default level and summary
    Rules,
    /// Print a rule's documentation
    Explain {
        /// A rule id, e.g. forgotten-connection
        rule: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files and directories to check (directories are searched for `.rs` files, skipping
    /// `target/` and hidden directories)
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// When to use colour (NO_COLOR is respected under `auto`)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Treat warnings as errors for the exit code
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub deny: Option<Deny>,
    /// Run only these rules (comma-separated ids)
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,
    /// Skip these rules (comma-separated ids)
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    /// Print findings only, no summary line
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    Warnings,
}

/// Exit codes, as documented in `--help`.
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
}

/// Parses `args` and runs the command. `args[0]` is the program name.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::CLEAN
            });
        }
    };
    ExitCode::from(run(cli))
}

fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Rules => {
            write_stdout(&rules_table());
            exit::CLEAN
        }
        Command::Explain { rule } => match rules::doc(&rule) {
            Some(doc) => {
                write_stdout(doc);
                exit::CLEAN
            }
            None => {
                eprintln!(
                    "error: unknown rule `{rule}`\n\nknown rules:\n{}",
                    known_ids()
                );
                exit::USAGE
            }
        },
    }
}

fn known_ids() -> String {
    rules::all()
        .iter()
        .map(|r| format!("  {}\n", r.info().id))
        .collect()
}

fn rules_table() -> String {
    let mut out = format!(
        "{:<32} {:<10} {:<8} {}\n",
        "RULE", "FAMILY", "LEVEL", "FINDS"
    );
    for r in rules::all() {
        let i = r.info();
        out.push_str(&format!(
            "{:<32} {:<10} {:<8} {}\n",
            i.id,
            i.family.as_str(),
            match i.default {
                Severity::Error => "error",
                Severity::Warning => "warn",
            },
            i.summary
        ));
    }
    out
}

fn check(args: CheckArgs) -> u8 {
    for id in args.select.iter().chain(&args.ignore) {
        if rules::by_id(id).is_none() && id != PARSE_ERROR {
            eprintln!(
                "error: unknown rule `{id}` in --select/--ignore\n\nknown rules:\n{}",
                known_ids()
            );
            return exit::USAGE;
        }
    }
    let files = match crate::walk::rust_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let inputs: Vec<Input> = files
        .into_iter()
        .map(|path| Input { path, text: None })
        .collect();
    let enabled = |id: &str| {
        (args.select.is_empty() || args.select.iter().any(|s| s == id))
            && !args.ignore.iter().any(|s| s == id)
    };
    let mut outcome = engine::check(&inputs, &enabled);
    outcome
        .findings
        .retain(|f| f.rule != PARSE_ERROR || enabled(PARSE_ERROR));

    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let text = report::render(
        args.format,
        &outcome,
        &Style {
            color,
            quiet: args.quiet,
        },
    );
    write_stdout(&text);

    let failing = outcome.findings.iter().any(|f| {
        f.severity == Severity::Error
            || (args.deny == Some(Deny::Warnings) && f.rule != PARSE_ERROR)
    });
    if failing {
        exit::FINDINGS
    } else {
        exit::CLEAN
    }
}

/// Writes to stdout; a reader that went away (`| head`) ends the output quietly.
fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
