//! `mandel`: a thin command line over the `mandel` library.

mod bench_cmd;
mod cli;
mod interrupt;
mod merge_cmd;
mod progress;
mod render_cmd;
mod serve_cmd;
mod worker;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, Command};

/// Errors the user can fix by changing the command (exit 2), as opposed to failures (exit 1).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mandel: {}", one_line(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Render(args) => {
            let given = cli::Given::of(matches.subcommand_matches("render"));
            render_cmd::run(args, &given)
        }
        Command::Merge(args) => merge_cmd::run(args),
        Command::Bench(args) => bench_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Worker => worker::run(),
        Command::ServeConnection { board_fd, config } => serve_cmd::connection(board_fd, &config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            interrupt::defer_to_handler();
            eprintln!("mandel: {}", one_line(&describe(&e)));
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &anyhow::Error) -> u8 {
    let usage = e.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause
                .downcast_ref::<mandel::Error>()
                .is_some_and(mandel::Error::is_usage)
            || cause
                .downcast_ref::<mandel_server::ServeError>()
                .is_some_and(mandel_server::ServeError::is_usage)
    });
    if usage { 2 } else { 1 }
}

/// The error's message, a library error's field spelled as the option that sets it.
fn describe(e: &anyhow::Error) -> String {
    match e.downcast_ref::<mandel::Error>() {
        Some(mandel::Error::Invalid {
            field,
            value,
            reason,
        }) => format!("{} = {value} {reason}", cli::option_name(*field)),
        _ => format!("{e:#}"),
    }
}

/// clap's messages span several lines (a blank line, then a hint); keep the part before the
/// first blank line, joined, so that every error is one line that names the bad value.
fn one_line(message: &str) -> String {
    let message = message.strip_prefix("error: ").unwrap_or(message);
    message
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}
