use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use createspace::config::Settings;
use createspace::db::{self, bootstrap};
use createspace::http::docs;
use createspace::startup::Application;
use createspace::telemetry;

#[derive(Parser)]
#[command(
    name = "createspace",
    version,
    about = "Order-management API of the CreateSpace marketplace"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (the default): finds or starts PostgreSQL, creates and migrates the database.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document as pretty JSON.
    Openapi,
    /// Grant or revoke the support team's admin flag.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make the account with this email an admin.
    Grant { email: String },
    /// Remove the admin flag from the account with this email.
    Revoke { email: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", docs::to_pretty_json());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("createspace: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("createspace: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("createspace: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn data_dir() -> PathBuf {
    std::env::var_os("DATA_DIR").map_or_else(|| PathBuf::from("data"), PathBuf::from)
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    let configured = settings
        .database_url
        .as_ref()
        .map(secrecy::ExposeSecret::expose_secret);
    let url = bootstrap::prepare(configured, &data_dir()).await?;
    match command {
        Command::Openapi => unreachable!("handled before start-up"),
        Command::Migrate => {
            tracing::info!(database = url.database(), "migrations are up to date");
            Ok(())
        }
        Command::Admin { action } => {
            let (email, admin) = match action {
                AdminAction::Grant { email } => (email, true),
                AdminAction::Revoke { email } => (email, false),
            };
            let email = email.trim().to_lowercase();
            let mut conn = bootstrap::connect(&url).await?;
            let changed = db::users::set_admin(&mut conn, &email, admin)
                .await
                .context("cannot update the account")?;
            anyhow::ensure!(changed == 1, "no account has the email {email}");
            println!(
                "{email} is {}an admin",
                if admin { "now " } else { "no longer " }
            );
            Ok(())
        }
        Command::Serve => {
            if settings.jwt.generated {
                tracing::warn!(
                    "JWT_SECRET is not set: using a random secret for this process only; \
                     tokens will not survive a restart (set JWT_SECRET in production)"
                );
            }
            let pool = db::pool(&url.as_string(), settings.database_pool_size)?;
            let app = Application::build(settings.clone(), pool)?;
            tracing::info!(
                "listening on http://{}:{} (Swagger UI at /swagger-ui/)",
                settings.host,
                app.port()
            );
            app.run_until_stopped().await?;
            tracing::info!("shut down");
            Ok(())
        }
    }
}
