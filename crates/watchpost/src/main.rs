//! The `watchpost` command: the center's entry points.

#[macro_use]
mod output;
mod accounts_cmd;
mod accounts_csv;
mod accounts_read;
mod alarms_cmd;
mod allocator;
mod audit_cmd;
mod backup_cmd;
mod bench;
mod bench_api;
mod bench_calls;
mod bench_detection;
mod bench_flood;
mod bench_import;
mod bench_invite;
mod bench_noop;
mod bench_proc;
mod bench_retention;
mod bench_sample;
mod bench_scale;
mod bench_trunk;
mod bench_udp;
mod call_cmd;
mod config;
mod database;
mod dealers_cmd;
mod import_hash;
mod keys_cmd;
mod logging;
mod plans_cmd;
mod report_cmd;
mod scenario_cmd;
mod secrets_cmd;
mod serve_cmd;
mod simulate_cmd;
mod users_cmd;
mod webhooks_cmd;
mod wire_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "watchpost",
    version,
    about = "A professional alarm-monitoring center"
)]
struct Cli {
    /// How log lines are written: text, or JSON lines (default: text when stderr is a
    /// terminal, JSON otherwise). [key: log.format]
    #[arg(long, global = true, value_enum)]
    log_format: Option<config::ops::LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the live center: DC-09 receivers and the engine in real time.
    Serve(Box<serve_cmd::ServeArgs>),
    /// Play scenario files through the real engine in virtual time.
    Scenario {
        #[command(subcommand)]
        command: scenario_cmd::ScenarioCommand,
    },
    /// Response plans: write the built-in ones out, check plan files against the guard rails
    /// and scenarios.
    Plans {
        #[command(subcommand)]
        command: plans_cmd::PlansCommand,
    },
    /// Enrol accounts.
    Accounts {
        #[command(subcommand)]
        command: accounts_cmd::AccountsCommand,
    },
    /// List alarms.
    Alarms(alarms_cmd::AlarmsArgs),
    /// The report of a period: alarms by kind and disposition, false alarms, response times,
    /// runaway and communication-failure accounts (CSV, HTML or JSON).
    Report(Box<report_cmd::ReportArgs>),
    /// Simulate a whole center in virtual time: N agents, storms, automation levels.
    Simulate(Box<simulate_cmd::SimulateArgs>),
    /// Users who sign in to the console and the API.
    Users {
        #[command(subcommand)]
        command: users_cmd::UsersCommand,
    },
    /// Dealers (installers) the center monitors for: their accounts and users.
    Dealers {
        #[command(subcommand)]
        command: dealers_cmd::DealersCommand,
    },
    /// API keys for an account's IP devices and apps.
    Keys {
        #[command(subcommand)]
        command: keys_cmd::KeysCommand,
    },
    /// The master key that seals DC-09 keys at rest.
    Secrets {
        #[command(subcommand)]
        command: secrets_cmd::SecretsCommand,
    },
    /// Webhooks: endpoints the center posts signed alarm events to (docs/webhooks.md).
    Webhooks {
        #[command(subcommand)]
        command: webhooks_cmd::WebhooksCommand,
    },
    /// The audit trail: who changed who may use the center, and when.
    Audit {
        #[command(subcommand)]
        command: audit_cmd::AuditCommand,
    },
    /// Write an online, consistent copy of a SQLite center while it runs.
    Backup(backup_cmd::BackupArgs),
    /// Put a backup in place of a SQLite center's database (the center stopped).
    Restore(backup_cmd::RestoreArgs),
    /// Alarm wire formats.
    Wire {
        #[command(subcommand)]
        command: wire_cmd::WireCommand,
    },
    /// Phone calls through the SIP trunk.
    Call {
        #[command(subcommand)]
        command: call_cmd::CallCommand,
    },
    /// Benchmarks that print numbers.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Load a DC-09 receiver (ours, or any --target) and measure durable ACKs.
    Intake(bench::IntakeArgs),
    /// A large center's memory and CPU at start, idle, under traffic and after, and its
    /// first ACK after a SIGKILL and restart.
    Scale(bench_scale::ScaleArgs),
    /// Time one more signal joining an alarm that already holds 10, 1,000, 100,000 signals.
    Flood(bench_flood::FloodArgs),
    /// A panel's UDP ACK latency while one source floods garbage and unknown-account frames.
    UdpFlood(bench_udp::UdpFloodArgs),
    /// Answering-machine and beep detection over a synthetic espeak-ng corpus of answers.
    Detection(bench_detection::DetectionArgs),
    /// Time a signal to its first call's INVITE, through a fake trunk on loopback.
    Invite(bench_invite::InviteArgs),
    /// Hold many automated calls at once against sipp, with media both ways.
    Calls(bench_calls::CallsArgs),
    /// DC-09 ACK latency with and without a retention sweep removing expired records.
    Retention(bench_retention::RetentionArgs),
    /// A DC-09 TCP server that ACKs every frame and stores nothing: the ceiling to compare
    /// `bench intake` figures with.
    NoopReceiver(bench_noop::NoopArgs),
    /// Time the queue, the alarm list, the supervisor view and one alarm with many alarms open.
    Api(bench_api::ApiArgs),
    /// `accounts import` of a generated file of N accounts into a new SQLite database.
    Import(bench_import::ImportBenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Everything the center writes — its database and WAL, call recordings, reports — holds
    // personal data: files 0600 and folders 0700, whatever the shell's umask (issue 13,
    // item 11).
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    logging::init(cli.log_format.or_else(|| match &cli.command {
        Command::Serve(args) => args.log_format(),
        _ => None,
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    runtime.block_on(async {
        let result = match cli.command {
            Command::Serve(args) => serve_cmd::run(*args).await.map(|()| ExitCode::SUCCESS),
            Command::Scenario { command } => Ok(scenario_cmd::run(command).await),
            Command::Plans { command } => plans_cmd::run(command).await,
            Command::Accounts { command } => accounts_cmd::run(command).await,
            Command::Alarms(args) => alarms_cmd::run(args).await.map(|()| ExitCode::SUCCESS),
            Command::Report(args) => report_cmd::run(*args).await.map(|()| ExitCode::SUCCESS),
            Command::Simulate(args) => simulate_cmd::run(*args),
            Command::Users { command } => users_cmd::run(command).await,
            Command::Dealers { command } => dealers_cmd::run(command).await,
            Command::Keys { command } => keys_cmd::run(command).await,
            Command::Secrets { command } => secrets_cmd::run(command).await,
            Command::Webhooks { command } => webhooks_cmd::run(command).await,
            Command::Audit { command } => audit_cmd::run(command).await,
            Command::Backup(args) => backup_cmd::backup(args).await,
            Command::Restore(args) => backup_cmd::restore(args).await,
            Command::Wire { command } => Ok(wire_cmd::run(command)),
            Command::Call { command } => call_cmd::run(command).await,
            Command::Bench {
                command: BenchCommand::Intake(args),
            } => bench::intake(args).await.map(|()| ExitCode::SUCCESS),
            Command::Bench {
                command: BenchCommand::Scale(args),
            } => bench_scale::scale(args).await.map(|()| ExitCode::SUCCESS),
            Command::Bench {
                command: BenchCommand::Flood(args),
            } => bench_flood::flood(args).await.map(|()| ExitCode::SUCCESS),
            Command::Bench {
                command: BenchCommand::UdpFlood(args),
            } => bench_udp::udp_flood(args).await.map(|()| ExitCode::SUCCESS),
            Command::Bench {
                command: BenchCommand::Detection(args),
            } => bench_detection::detection(args).map(|()| ExitCode::SUCCESS),
            Command::Bench {
                command: BenchCommand::Invite(args),
            } => bench_invite::invite(args).await.map(|()| ExitCode::SUCCESS),
            Command::Bench {
                command: BenchCommand::Calls(args),
            } => bench_calls::calls(args).await.map(|()| ExitCode::SUCCESS),
            Command::Bench {
                command: BenchCommand::Retention(args),
            } => bench_retention::retention(args)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Bench {
                command: BenchCommand::NoopReceiver(args),
            } => bench_noop::noop_receiver(args)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Bench {
                command: BenchCommand::Api(args),
            } => bench_api::api(args).await.map(|()| ExitCode::SUCCESS),
            Command::Bench {
                command: BenchCommand::Import(args),
            } => bench_import::import(args).await.map(|()| ExitCode::SUCCESS),
        };
        result.unwrap_or_else(|e| {
            err!("watchpost: {}", explain(&e));
            ExitCode::from(2)
        })
    })
}

/// An error and its causes on one line, each cause said once: many errors already repeat
/// their source's message in their own.
fn explain(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
