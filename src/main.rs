use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use createspace::config::Settings;
use createspace::db::{self, bootstrap};
use createspace::http::docs;
use createspace::startup::{Application, Workers};
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
    /// Run the background worker alone (notifications, time-based transitions, file sweeps), for
    /// deployments that run API instances and workers apart.
    Worker,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document as pretty JSON.
    Openapi,
    /// Fill the database with realistic data: users, services, orders over two years with their
    /// history, messages and cancellation requests (all accounts' password: `correct horse battery`).
    Seed {
        #[arg(long, default_value_t = 1_000)]
        users: i64,
        #[arg(long, default_value_t = 10_000)]
        orders: i64,
        #[arg(long, default_value_t = 3)]
        messages_per_order: i32,
        /// A small, friendly data set for exploring the API in Swagger UI; prints its logins.
        #[arg(long)]
        demo: bool,
    },
    /// Grant or revoke the support team's admin flag.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// The ledger's books.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
}

#[derive(Subcommand)]
enum LedgerAction {
    /// Verify every invariant (each transaction balances, each balance is the sum of its entries,
    /// nothing held for someone is negative, completed orders' escrow is empty); exit non-zero
    /// listing the offending ids.
    Check,
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

async fn seed(
    url: &bootstrap::PgUrl,
    settings: &Settings,
    sizes: &createspace::seed::Sizes,
) -> anyhow::Result<()> {
    use createspace::domain::account::{Email, NewPassword};
    let email = Email::parse("user1@seed.example").map_err(|e| anyhow::anyhow!("{e}"))?;
    let password = NewPassword::parse(createspace::seed::PASSWORD, &email)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = createspace::auth::password::Hashing::new(&settings.hashing)
        .hash(password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = bootstrap::connect(url).await?;
    let bar = indicatif::ProgressBar::new(u64::try_from(sizes.orders).unwrap_or_default());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} orders ({per_sec}, {eta} left)",
        )?
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    createspace::seed::run(&mut conn, sizes, &hash, |done| {
        bar.set_position(u64::try_from(done).unwrap_or_default());
    })
    .await
    .context("seeding failed")?;
    bar.finish();
    println!(
        "seeded {} users, {} orders, {} messages per order in {:.1?}",
        sizes.users,
        sizes.orders,
        sizes.messages_per_order,
        started.elapsed()
    );
    Ok(())
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
        Command::Ledger {
            action: LedgerAction::Check,
        } => {
            let mut conn = bootstrap::connect(&url).await?;
            let problems = db::ledger::check(&mut conn)
                .await
                .context("cannot read the ledger")?;
            for p in &problems {
                println!("{p}");
            }
            anyhow::ensure!(
                problems.is_empty(),
                "the ledger has {} problem(s)",
                problems.len()
            );
            println!("ledger check: every invariant holds");
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
        Command::Seed {
            users,
            orders,
            messages_per_order,
            demo,
        } => {
            let sizes = if demo {
                createspace::seed::Sizes {
                    users: 9,
                    orders: 40,
                    messages_per_order: 4,
                }
            } else {
                createspace::seed::Sizes {
                    users,
                    orders,
                    messages_per_order,
                }
            };
            seed(&url, &settings, &sizes).await?;
            if demo {
                println!("Demo data is in. Log in (POST /v1/auth/login) as:");
                println!("  client:   user1@seed.example");
                println!("  creative: user3@seed.example");
                println!("  password: {}", createspace::seed::PASSWORD);
            }
            Ok(())
        }
        Command::Worker => {
            let pool = db::pool(&url.as_string(), settings.database_pool_size)?;
            let storage = createspace::storage::Storage::new(&settings.files.storage)?;
            let signal = createspace::wake::Signal::default();
            let workers = Workers::spawn(&pool, &settings, &storage, &signal)?;
            tracing::info!("worker running; stop with Ctrl-C");
            workers.run_until_stopped().await?;
            tracing::info!("worker stopped");
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
