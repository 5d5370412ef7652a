//! Finding a PostgreSQL server, creating the application's database and migrating it, so that one
//! command runs the API on a fresh machine. The test harness uses the same search.
//!
//! Order of preference: `DATABASE_URL` (no fallback: an explicit URL that fails is an error), then the
//! conventional local server, then a private cluster under `data/postgres` started with the machine's
//! own `initdb`/`pg_ctl`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/createspace";
/// Port of the private cluster; away from 5432 so it never collides with a system server.
const PRIVATE_PORT: u16 = 54329;

/// A PostgreSQL URL split into the server part and the database name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgUrl {
    server: String,
    database: String,
    query: String,
}

impl PgUrl {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let (scheme, rest) = url
            .split_once("://")
            .context("a PostgreSQL URL looks like postgres://user@host:5432/dbname")?;
        if scheme != "postgres" && scheme != "postgresql" {
            bail!("the URL scheme must be postgres://, not {scheme}://");
        }
        let (before_query, query) = match rest.split_once('?') {
            Some((a, q)) => (a, format!("?{q}")),
            None => (rest, String::new()),
        };
        let (authority, database) = match before_query.split_once('/') {
            Some((a, d)) if !d.is_empty() => (a, d.to_string()),
            Some((a, _)) => (a, "createspace".to_string()),
            None => (before_query, "createspace".to_string()),
        };
        Ok(PgUrl {
            server: format!("{scheme}://{authority}"),
            database,
            query,
        })
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    pub fn with_database(&self, database: &str) -> PgUrl {
        PgUrl {
            database: database.to_string(),
            ..self.clone()
        }
    }

    /// The `postgres` maintenance database on the same server, for CREATE/DROP DATABASE.
    pub fn maintenance(&self) -> PgUrl {
        self.with_database("postgres")
    }

    pub fn as_string(&self) -> String {
        format!("{}/{}{}", self.server, self.database, self.query)
    }
}

/// Quotes an identifier for the few statements (CREATE/DROP DATABASE) that cannot take parameters.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Resolves which server to use, starting the private cluster if that is the only way.
pub async fn locate_server(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<PgUrl> {
    if let Some(url) = configured {
        let url = PgUrl::parse(url).context("DATABASE_URL is not a valid PostgreSQL URL")?;
        connect(&url.maintenance()).await.with_context(|| {
            format!(
                "cannot reach the PostgreSQL server in DATABASE_URL ({})",
                url.server_display()
            )
        })?;
        return Ok(url);
    }
    let default = PgUrl::parse(DEFAULT_DATABASE_URL)?;
    match connect(&default.maintenance()).await {
        Ok(_) => Ok(default),
        Err(first) => {
            tracing::info!(error = %first, "no usable PostgreSQL at 127.0.0.1:5432; trying a private cluster");
            let bin = find_pg_bin().with_context(|| {
                format!(
                    "no PostgreSQL server at 127.0.0.1:5432 ({first}) and no PostgreSQL installation found: \
                     install PostgreSQL (e.g. `apt-get install postgresql`) or set DATABASE_URL"
                )
            })?;
            let private = PgUrl::parse(&format!(
                "postgres://postgres@127.0.0.1:{PRIVATE_PORT}/createspace"
            ))?;
            // Another checkout on this machine may have started one already: share it.
            if connect(&private.maintenance()).await.is_ok() {
                return Ok(private);
            }
            let url = start_private_cluster(&bin, data_dir).await?;
            connect(&url.maintenance()).await.context(
                "the private PostgreSQL cluster started but does not accept connections",
            )?;
            Ok(url)
        }
    }
}

impl PgUrl {
    /// The server part without credentials, for messages and logs.
    fn server_display(&self) -> String {
        match self.server.split_once("://") {
            Some((scheme, auth)) => {
                let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
                format!("{scheme}://{host}")
            }
            None => self.server.clone(),
        }
    }
}

pub async fn connect(url: &PgUrl) -> anyhow::Result<AsyncPgConnection> {
    let conn = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        AsyncPgConnection::establish(&url.as_string()),
    )
    .await
    .context("timed out connecting to PostgreSQL")??;
    Ok(conn)
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

pub async fn database_exists(
    maintenance: &mut AsyncPgConnection,
    name: &str,
) -> anyhow::Result<bool> {
    let row: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<diesel::sql_types::Text, _>(name)
            .get_result(maintenance)
            .await?;
    Ok(row.exists)
}

/// Creates the database named in `url` unless it exists.
pub async fn ensure_database(url: &PgUrl) -> anyhow::Result<()> {
    let mut admin = connect(&url.maintenance()).await?;
    if database_exists(&mut admin, url.database()).await? {
        return Ok(());
    }
    tracing::info!(database = url.database(), "creating database");
    let created = diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(url.database())))
        .execute(&mut admin)
        .await;
    match created {
        Ok(_) => Ok(()),
        // Another process created it between our check and our CREATE.
        Err(_) if database_exists(&mut admin, url.database()).await? => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create database {}", url.database())),
    }
}

/// Applies pending migrations. Diesel's harness is synchronous, so it runs on a blocking thread.
pub async fn run_migrations(url: &PgUrl) -> anyhow::Result<()> {
    let url = url.as_string();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
                .context("cannot connect to run migrations")?;
        conn.batch_execute("SET lock_timeout = '60s'")?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!(e))
            .context("migrations failed")?;
        for version in applied {
            tracing::info!(%version, "applied migration");
        }
        Ok(())
    })
    .await?
}

/// Everything `serve` needs before it accepts traffic: a server, the database, its schema.
pub async fn prepare(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<PgUrl> {
    let url = locate_server(configured, data_dir).await?;
    ensure_database(&url).await?;
    run_migrations(&url).await?;
    Ok(url)
}

fn find_pg_bin() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("pg_ctl").is_file() && dir.join("initdb").is_file() {
                return Some(dir);
            }
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(std::result::Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((version, bin))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL tool; as root it runs as the `postgres` user, since initdb refuses root.
fn pg_command(bin: &Path, tool: &str, as_postgres: bool) -> Command {
    let exe = bin.join(tool);
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

async fn start_private_cluster(bin: &Path, data_dir: &Path) -> anyhow::Result<PgUrl> {
    let bin = bin.to_path_buf();
    let data_dir = std::path::absolute(data_dir)?;
    tokio::task::spawn_blocking(move || -> anyhow::Result<PgUrl> {
        let cluster = data_dir.join("postgres");
        let as_postgres = running_as_root();
        std::fs::create_dir_all(&data_dir)?;
        if as_postgres {
            run(Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&data_dir))?;
            // initdb runs as postgres, which must be able to reach the folder through its parents.
            let reachable = Command::new("runuser")
                .args(["-u", "postgres", "--", "test", "-w"])
                .arg(&data_dir)
                .status()
                .is_ok_and(|s| s.success());
            if !reachable {
                bail!(
                    "the postgres user cannot reach {} (a parent folder is private): \
                     set DATA_DIR to a folder it can reach, or set DATABASE_URL",
                    data_dir.display()
                );
            }
        }
        if !cluster.join("PG_VERSION").exists() {
            tracing::info!(dir = %cluster.display(), "initialising a private PostgreSQL cluster");
            run(pg_command(&bin, "initdb", as_postgres)
                .arg("-D")
                .arg(&cluster)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]))?;
        }
        let running = pg_command(&bin, "pg_ctl", as_postgres)
            .arg("status")
            .arg("-D")
            .arg(&cluster)
            .output()
            .is_ok_and(|o| o.status.success());
        if !running {
            let options = format!(
                "-p {PRIVATE_PORT} -c listen_addresses=127.0.0.1 -k {}",
                data_dir.display()
            );
            run(pg_command(&bin, "pg_ctl", as_postgres)
                .arg("-D")
                .arg(&cluster)
                .arg("-l")
                .arg(data_dir.join("postgres.log"))
                .args(["-o", &options, "-w", "start"]))?;
        }
        PgUrl::parse(&format!(
            "postgres://postgres@127.0.0.1:{PRIVATE_PORT}/createspace"
        ))
    })
    .await?
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{:?} failed: {}",
            cmd.get_program(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rewrites_database_names() {
        let url = PgUrl::parse("postgres://u:p@db:5432/app?sslmode=disable").unwrap();
        assert_eq!(url.database(), "app");
        assert_eq!(
            url.maintenance().as_string(),
            "postgres://u:p@db:5432/postgres?sslmode=disable"
        );
        assert_eq!(url.server_display(), "postgres://db:5432");
    }

    #[test]
    fn a_url_without_a_database_defaults_to_createspace() {
        let url = PgUrl::parse("postgres://u@db").unwrap();
        assert_eq!(url.as_string(), "postgres://u@db/createspace");
    }

    #[test]
    fn rejects_other_schemes() {
        assert!(PgUrl::parse("mysql://u@db/app").is_err());
        assert!(PgUrl::parse("not a url").is_err());
    }

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
    }
}
