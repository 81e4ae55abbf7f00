//! The `ampd` binary.

use std::io::IsTerminal;
use std::process::ExitCode;

use ampd_api::{AuditCommand, Cli, Command, Config, ValidateArgs};
use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = match cli.command {
        Command::Serve(args) => args,
        Command::Audit(args) => return audit(&args.command),
    };
    let config = match Config::load(&args) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(ampd_api::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an `ampd audit` subcommand: 0 when all is well, 1 when validation found problems, 2
/// when the trail cannot be read.
fn audit(command: &AuditCommand) -> ExitCode {
    let result = match command {
        AuditCommand::Validate(args) => validate(args),
        AuditCommand::PublicKey(args) => ampd_api::public_key_pem(&args.data_dir).map(|pem| {
            print!("{pem}");
            true
        }),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(2)
        }
    }
}

/// Prints a validation report in the shape of `aws cloudtrail validate-logs`; returns whether
/// the trail is intact.
fn validate(args: &ValidateArgs) -> anyhow::Result<bool> {
    let parse = |t: &str| ampd_api::parse_time(t).map_err(anyhow::Error::msg);
    let start = parse(&args.start_time)?;
    let end = match &args.end_time {
        Some(t) => parse(t)?,
        None => time::OffsetDateTime::now_utc(),
    };
    let trusted = match &args.public_key {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let report = ampd_api::validate_folder(&args.dir.data_dir, start, end, trusted.as_deref())?;
    let show = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| t.to_string())
    };
    println!(
        "Validating log files of the audit trail in {} between {} and {}\n",
        args.dir.data_dir.display(),
        show(start),
        show(end)
    );
    print!("{report}");
    if args.verbose {
        for key in &report.not_yet_digested {
            println!("Log file {key} not yet covered by a digest");
        }
    }
    Ok(report.is_valid())
}
