//! The command line: `connlint check`, `rules`, `pools`, `explain` and `server`.

use crate::baseline::{self, Keyer};
use crate::config::{self, Config};
use crate::diagnostic::{Severity, PARSE_ERROR};
use crate::engine::{self, Input, Settings};
use crate::report::{self, Format, Hidden, Style};
use crate::rules;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  no finding at error level (warnings alone do not fail, unless --deny warnings)
  1  at least one finding at error level (or any finding with --deny warnings)
  2  usage error, unknown rule, invalid configuration, unreadable baseline, or a path that
     does not exist";

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
    /// List every pool the code builds: where, which library, the effective max size and
    /// acquire timeout (set in code or the library default), and what becomes of it
    Pools(PoolsArgs),
    /// Print a rule's documentation
    Explain {
        /// A rule id, e.g. forgotten-connection
        rule: String,
    },
    /// Run the language server (LSP over stdin/stdout) for editors: diagnostics as you type,
    /// code actions to suppress a finding with a reason and to explain a rule
    Server,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files and directories to check (directories are searched for `.rs` files, skipping
    /// `target/` and hidden directories) [default: .]
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
    /// Use this configuration file (`connlint.toml`, or a `Cargo.toml` with
    /// `[package.metadata.connlint]`) instead of the one found by walking up from the path
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Check the buffer on standard input, reported as PATH (which need not exist); the
    /// configuration that applies to PATH is used
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Report only findings not recorded in this baseline file
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in this baseline file (written atomically) and exit 0
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct PoolsArgs {
    /// Files and directories to look at
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = PoolsFormat::Human)]
    pub format: PoolsFormat,
    /// Use this `connlint.toml` (or `Cargo.toml`) instead of the one found from the path
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolsFormat {
    /// A table
    Human,
    /// `{ "version": 1, "pools": [...] }`
    Json,
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
        Command::Pools(args) => pools(args),
        Command::Server => crate::server::run(),
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

/// The configuration that applies to `start` (or `--config FILE`), and the knowledge it
/// declares on top of the built-in profiles. Errors are shown and become exit code 2.
fn load_config(
    file: Option<&Path>,
    start: &Path,
    color: bool,
) -> Result<(Config, &'static crate::profile::Knowledge), u8> {
    let loaded = match file {
        Some(file) => Config::load(file),
        None => match Config::discover(start) {
            Some(file) => Config::load(&file),
            None => Ok(Config::default_at(config::absolute(Path::new(".")))),
        },
    };
    loaded
        .and_then(|c| c.knowledge().map(|k| (c, k)))
        .map_err(|e| {
            eprint!("{}", e.render(color));
            exit::USAGE
        })
}

/// `connlint pools`: every pool the code builds, with its effective size and acquire timeout.
fn pools(args: PoolsArgs) -> u8 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let (cfg, knowledge) = match load_config(
        args.config.as_deref(),
        &paths[0],
        std::io::stderr().is_terminal(),
    ) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let inputs: Vec<Input> = match crate::walk::rust_files(&paths) {
        Ok(files) => files
            .into_iter()
            .filter(|p| cfg.is_checked(p))
            .map(|path| Input { path, text: None })
            .collect(),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    // No rule runs: the inventory comes from the flow analysis alone.
    let outcome = engine::check_with(
        &inputs,
        &Settings {
            knowledge,
            enabled: &|_| false,
            release: &cfg.release,
            timeouts: engine::DEFAULT_TIMEOUTS,
        },
    );
    let text = match args.format {
        PoolsFormat::Human => crate::pools::render_table(&outcome.pools),
        PoolsFormat::Json => crate::pools::render_json(&outcome.pools),
    };
    write_stdout(&text);
    exit::CLEAN
}

fn check(args: CheckArgs) -> u8 {
    for id in args.select.iter().chain(&args.ignore) {
        if !config::known_id(id) {
            let hint = config::suggestion(id)
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            eprintln!(
                "error: unknown rule `{id}` in --select/--ignore{hint}\n\nknown rules:\n{}",
                config::known_ids_list()
            );
            return exit::USAGE;
        }
    }
    let color_err = use_color(args.color, std::io::stderr().is_terminal());
    if args.stdin_filename.is_some() && !args.paths.is_empty() {
        eprintln!("error: --stdin-filename checks standard input; do not pass PATHS with it");
        return exit::USAGE;
    }
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };

    // The configuration that applies to the checked path (or to the stdin buffer's path).
    let start = args
        .stdin_filename
        .clone()
        .unwrap_or_else(|| paths[0].clone());
    let (cfg, knowledge) = match load_config(args.config.as_deref(), &start, color_err) {
        Ok(c) => c,
        Err(code) => return code,
    };

    let mut unreadable = Vec::new();
    let inputs: Vec<Input> = match &args.stdin_filename {
        Some(name) => {
            let mut text = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut text) {
                eprintln!("error: cannot read standard input: {e}");
                return exit::USAGE;
            }
            let input = Input {
                path: name.clone(),
                text: Some(text),
            };
            if cfg.is_checked(name) {
                vec![input]
            } else {
                Vec::new()
            }
        }
        None => match crate::walk::walk(&paths) {
            Ok(walked) => {
                // A directory is reported unless the configuration excludes what it holds.
                unreadable = walked
                    .unreadable
                    .into_iter()
                    .filter(|(dir, _)| cfg.is_checked(&dir.join("any.rs")))
                    .map(|(dir, why)| crate::walk::unreadable_dir(&dir, &why))
                    .collect();
                walked
                    .files
                    .into_iter()
                    .filter(|p| cfg.is_checked(p))
                    .map(|path| Input { path, text: None })
                    .collect()
            }
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        },
    };
    let enabled = |id: &str| {
        !cfg.is_off(id)
            && (args.select.is_empty() || args.select.iter().any(|s| s == id))
            && !args.ignore.iter().any(|s| s == id)
    };
    let timeouts = match crate::configured::pool_timeouts(&cfg) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let mut outcome = engine::check_with(
        &inputs,
        &Settings {
            knowledge,
            enabled: &enabled,
            release: &cfg.release,
            timeouts,
        },
    );
    if !unreadable.is_empty() {
        outcome.findings.extend(unreadable);
        outcome
            .findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
    // Suppressions, levels (diagnostics included) and test code, then the baseline.
    let applied = crate::configured::apply(&cfg, &mut outcome, &inputs, &enabled);
    let mut hidden = Hidden {
        suppressed: applied.suppressed,
        ..Hidden::default()
    };

    if let Some(file) = &args.write_baseline {
        let mut keyer = Keyer::new(file, &outcome.sources);
        let entries = baseline::entries(&outcome.findings, &mut keyer);
        let n = entries.len();
        if let Err(e) = baseline::write(file, entries) {
            eprintln!("error: cannot write baseline {}: {e}", file.display());
            return exit::USAGE;
        }
        // On stdout: it is what the command produced (the findings themselves are not shown).
        let total = outcome.findings.len();
        let distinct = if n < total {
            format!(" ({n} distinct)")
        } else {
            String::new()
        };
        write_stdout(&format!(
            "connlint: recorded {}{distinct} in {}\n",
            count_of(total, "finding"),
            file.display()
        ));
        return exit::CLEAN;
    }
    if let Some(file) = &args.baseline {
        let base = match baseline::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                return exit::USAGE;
            }
        };
        let mut keyer = Keyer::new(file, &outcome.sources);
        let filtered = baseline::filter(&mut outcome.findings, &base, &mut keyer);
        hidden.baselined = filtered.matched;
        hidden.stale = filtered.stale;
    }

    let color = use_color(args.color, std::io::stdout().is_terminal());
    let text = report::render(
        args.format,
        &outcome,
        &Style {
            color,
            quiet: args.quiet,
            hidden,
            srcroot: (args.format == Format::Sarif).then(|| sarif_root(&start)),
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

/// SARIF paths are relative to the repository root, found from the checked path (or the stdin
/// buffer's name), else from the current directory; without a repository, the current
/// directory.
fn sarif_root(checked: &Path) -> PathBuf {
    let cwd = config::absolute(Path::new("."));
    report::sarif::repository_root(checked)
        .or_else(|| report::sarif::repository_root(&cwd))
        .unwrap_or(cwd)
}

fn count_of(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn use_color(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal,
    }
}

/// Writes to stdout; a reader that went away (`| head`) ends the output quietly.
fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
