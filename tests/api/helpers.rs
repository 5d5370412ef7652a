//! The test harness: each test gets the real app on a random port, over real HTTP, on a database of
//! its own cloned from a migrated template, so tests run in parallel without seeing each other's rows.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use createspace::config::Settings;
use createspace::db::schema::outbox_events;
use createspace::db::{self, bootstrap, bootstrap::PgUrl, DbPool};
use createspace::startup::Application;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";
pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-characters-long";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A name for the template that changes whenever a migration does, so a stale template is never used.
fn template_name() -> String {
    let mut files: Vec<PathBuf> = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir)
            .expect("migrations/ is readable")
            .flatten()
        {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    walk(&manifest_dir().join("migrations"), &mut files);
    files.sort();
    let mut hasher = DefaultHasher::new();
    for f in files {
        f.file_name().hash(&mut hasher);
        std::fs::read(&f).unwrap().hash(&mut hasher);
    }
    format!("createspace_template_{:016x}", hasher.finish())
}

struct Template {
    server: PgUrl,
    name: String,
}

/// Runs `f` to completion on a runtime of its own, off the test's runtime (used for set-up and
/// teardown, which must not depend on the test's runtime being alive).
fn on_own_runtime<T: Send + 'static>(
    f: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(f)
    })
    .join()
    .expect("helper thread panicked")
}

fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        on_own_runtime(async {
            let configured = std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty());
            let server =
                bootstrap::locate_server(configured.as_deref(), &manifest_dir().join("data"))
                    .await
                    .expect("a PostgreSQL server for the tests");
            let name = template_name();
            let mut admin = bootstrap::connect(&server.maintenance()).await.unwrap();
            // Several test processes (nextest) may race to build the template: one builds, the
            // others wait on the lock and then find it.
            diesel::sql_query("SELECT pg_advisory_lock(74616)")
                .execute(&mut admin)
                .await
                .unwrap();
            if !bootstrap::database_exists(&mut admin, &name).await.unwrap() {
                let building = format!("{name}_building");
                diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    bootstrap::quote_ident(&building)
                ))
                .execute(&mut admin)
                .await
                .unwrap();
                bootstrap::ensure_database(&server.with_database(&building))
                    .await
                    .unwrap();
                bootstrap::run_migrations(&server.with_database(&building))
                    .await
                    .expect("migrations apply to a fresh database");
                diesel::sql_query(format!(
                    "ALTER DATABASE {} RENAME TO {}",
                    bootstrap::quote_ident(&building),
                    bootstrap::quote_ident(&name)
                ))
                .execute(&mut admin)
                .await
                .unwrap();
            }
            diesel::sql_query("SELECT pg_advisory_unlock(74616)")
                .execute(&mut admin)
                .await
                .unwrap();
            Template { server, name }
        })
    })
}

pub fn test_settings() -> Settings {
    let mut settings = Settings::from_lookup(&|_| None).expect("default settings");
    settings.port = 0;
    settings.jwt.secret = JWT_SECRET.into();
    settings.jwt.generated = false;
    settings.orders.worker_interval = Duration::from_millis(100);
    // Tests place many orders and log in often; the tests of each limit set it back.
    settings.rate_limits = createspace::config::RateLimitSettings::unlimited();
    // Each app its own file store, so a test can count what it left behind.
    settings.files.storage = createspace::config::StorageSettings::Local {
        dir: std::env::temp_dir().join(format!("createspace-files-{}", Uuid::new_v4().simple())),
    };
    // Mail goes to files unless a test starts an SMTP server; retries come quickly.
    let n = &mut settings.notifications;
    n.transport = createspace::config::MailTransport::Files(
        std::env::temp_dir().join(format!("createspace-mail-{}", Uuid::new_v4().simple())),
    );
    n.poll_interval = Duration::from_millis(100);
    n.retry.first_delay = Duration::from_millis(200);
    n.retry.max_delay = Duration::from_millis(400);
    // Webhooks: names resolve from a fixed map of this machine's receivers only, so no test ever
    // resolves or reaches a name outside it; the address filter stays on (tests of delivery allow
    // 127.0.0.0/8 themselves).
    let w = &mut settings.webhooks;
    w.static_hosts = Some(
        [
            ("hooks.test".to_string(), vec!["127.0.0.1".parse().unwrap()]),
            ("localhost".to_string(), vec!["127.0.0.1".parse().unwrap()]),
        ]
        .into(),
    );
    w.retry.first_delay = Duration::from_millis(200);
    w.retry.max_delay = Duration::from_millis(400);
    settings.live.poll_interval = Duration::from_millis(200);
    settings
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: DbPool,
    /// The settings the app runs with.
    pub settings: Settings,
    database: Option<PgUrl>,
}

#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns the app with adjusted settings, on a fresh database.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let template = template();
        let name = format!("createspace_test_{}", Uuid::new_v4().simple());
        let admin_url = template.server.maintenance();
        let create = format!(
            "CREATE DATABASE {} TEMPLATE {}",
            bootstrap::quote_ident(&name),
            bootstrap::quote_ident(&template.name)
        );
        on_own_runtime(async move {
            let mut admin = bootstrap::connect(&admin_url).await.unwrap();
            diesel::sql_query(create).execute(&mut admin).await.unwrap();
        });
        let database = template.server.with_database(&name);
        let mut settings = test_settings();
        adjust(&mut settings);
        let pool = db::pool(&database.as_string(), 5).unwrap();
        Self::start(settings, pool, Some(database))
    }

    /// A second instance of the app on this app's database (as behind a load balancer), with
    /// adjusted settings; dropping it leaves the database to this one.
    pub fn sibling(&self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        adjust(&mut settings);
        // Its own pool, as another process would have (its own LISTEN connection included).
        let pool = match &self.database {
            Some(database) => db::pool(&database.as_string(), 5).unwrap(),
            None => self.pool.clone(),
        };
        Self::start(settings, pool, None)
    }

    /// The app with a pool pointing at a server that does not answer.
    pub async fn spawn_without_database() -> TestApp {
        let pool = db::pool("postgres://postgres@127.0.0.1:9/nothing", 1).unwrap();
        Self::start(test_settings(), pool, None)
    }

    fn start(settings: Settings, pool: DbPool, database: Option<PgUrl>) -> TestApp {
        let app = Application::build(settings.clone(), pool.clone()).expect("the app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
            pool,
            settings,
            database,
        }
    }

    /// The URL of this test's own database (for running the CLI against it).
    pub fn database_url(&self) -> String {
        self.database.as_ref().expect("a database").as_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(t) => builder.bearer_auth(t),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, Some(token))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Registers a user named `name` (email `name@example.com`) and returns its tokens.
    pub async fn register(&self, name: &str) -> TestUser {
        let email = format!("{name}@example.com");
        let res = self
            .post(
                "/v1/auth/register",
                None,
                &json!({"email": email, "password": PASSWORD, "display_name": name}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "registering {name}");
        let body: Value = res.json().await.unwrap();
        TestUser {
            id: body["user"]["id"].as_str().unwrap().parse().unwrap(),
            email,
            token: body["access_token"].as_str().unwrap().to_string(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    /// Logs `user` in again: a second session, `(access_token, refresh_token)`.
    pub async fn login(&self, user: &TestUser) -> (String, String) {
        let res = self
            .post(
                "/v1/auth/login",
                None,
                &json!({"email": user.email, "password": PASSWORD}),
            )
            .await;
        let body = json_ok(res, StatusCode::OK).await;
        (
            body["access_token"].as_str().unwrap().to_string(),
            body["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// Uploads `bytes` as `filename` to the order (the `file` part of a multipart body).
    pub async fn upload(
        &self,
        user: &TestUser,
        order_id: &str,
        filename: &str,
        declared_type: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_string())
            .mime_str(declared_type)
            .unwrap();
        self.request(
            Method::POST,
            &format!("/v1/orders/{order_id}/attachments"),
            Some(&user.token),
        )
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
    }

    /// Posts a message to an order's thread.
    pub async fn message(&self, user: &TestUser, order_id: &str, body: &Value) -> Response {
        self.post(
            &format!("/v1/orders/{order_id}/messages"),
            Some(&user.token),
            body,
        )
        .await
    }

    /// Exchanges a refresh token: the response as it came.
    /// Ends `user`'s session (`POST /v1/auth/logout`): their access token is refused from now on.
    pub async fn logout(&self, user: &TestUser) {
        let body = json!({"refresh_token": user.refresh_token});
        let res = self.post("/v1/auth/logout", None, &body).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "logging out");
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh_token}),
        )
        .await
    }

    /// Registers a user and makes it an admin directly in the database (as the CLI does).
    pub async fn register_admin(&self, name: &str) -> TestUser {
        let user = self.register(name).await;
        let mut conn = self.conn().await;
        db::users::set_admin(&mut conn, &user.email, true)
            .await
            .unwrap();
        user
    }

    pub async fn conn(&self) -> db::DbConn {
        db::connection(&self.pool).await.unwrap()
    }

    /// Runs raw SQL against the test's database (for arranging states the API cannot reach quickly).
    pub async fn sql(&self, statement: &str) {
        let mut conn = self.conn().await;
        diesel::sql_query(statement)
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// Orders: arranging an order in a given status through the API, as its parties would.
impl TestApp {
    pub async fn place_order(&self, client: &TestUser, creative: &TestUser) -> Value {
        self.place_order_with(client, creative, json!({})).await
    }

    /// A custom order; `overrides` replaces fields of the default body.
    pub async fn place_order_with(
        &self,
        client: &TestUser,
        creative: &TestUser,
        overrides: Value,
    ) -> Value {
        let mut body = json!({
            "creative_id": creative.id,
            "title": "Logo design",
            "requirements": "A fox, orange and teal.",
            "price": {"amount": 15000, "currency": "EUR"},
            "due_at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
            "revisions_included": 1,
        });
        for (k, v) in overrides.as_object().unwrap() {
            body[k] = v.clone();
        }
        json_ok(
            self.post("/v1/orders", Some(&client.token), &body).await,
            StatusCode::CREATED,
        )
        .await
    }

    pub async fn transition(
        &self,
        user: &TestUser,
        order_id: &str,
        to: &str,
        note: Option<&str>,
    ) -> Response {
        let mut body = json!({"to": to});
        if let Some(note) = note {
            body["note"] = json!(note);
        }
        self.post(
            &format!("/v1/orders/{order_id}/transitions"),
            Some(&user.token),
            &body,
        )
        .await
    }

    /// Moves an order along the happy path (plus dispute) until it reaches `status`.
    pub async fn order_in(&self, status: &str, client: &TestUser, creative: &TestUser) -> String {
        let order = self.place_order(client, creative).await;
        let id = order["id"].as_str().unwrap().to_string();
        let steps: &[(&TestUser, &str)] = match status {
            "new" => &[],
            "in_progress" => &[(creative, "in_progress")],
            "delivered" => &[(creative, "in_progress"), (creative, "delivered")],
            "completed" => &[
                (creative, "in_progress"),
                (creative, "delivered"),
                (client, "completed"),
            ],
            "declined" => &[(creative, "declined")],
            "cancelled" => &[(client, "cancelled")],
            "disputed" => &[(creative, "in_progress"), (client, "disputed")],
            other => panic!("no recipe for {other}"),
        };
        for (user, to) in steps {
            let res = self.transition(user, &id, to, Some("because")).await;
            assert_eq!(
                res.status(),
                StatusCode::OK,
                "moving to {to}: {}",
                res.text().await.unwrap()
            );
        }
        id
    }

    /// A service of `creative`'s: 14 days, one revision.
    pub async fn create_service(&self, creative: &TestUser) -> Value {
        let body = json!({
            "title": "Logo design",
            "description": "A logo in three concepts.",
            "price": {"amount": 25000, "currency": "EUR"},
            "delivery_days": 14,
            "revisions_included": 1,
        });
        json_ok(
            self.post("/v1/services", Some(&creative.token), &body)
                .await,
            StatusCode::CREATED,
        )
        .await
    }

    pub async fn order(&self, user: &TestUser, id: &str) -> Value {
        json_ok(
            self.get(&format!("/v1/orders/{id}"), &user.token).await,
            StatusCode::OK,
        )
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(database) = self.database.take() {
            let admin = database.maintenance();
            let drop = format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                bootstrap::quote_ident(database.database())
            );
            on_own_runtime(async move {
                let dropped = match bootstrap::connect(&admin).await {
                    Ok(mut conn) => diesel::sql_query(&drop)
                        .execute(&mut conn)
                        .await
                        .map(|_| ())
                        .map_err(anyhow::Error::from),
                    Err(e) => Err(e),
                };
                if let Err(e) = dropped {
                    eprintln!("warning: test database left behind ({drop}): {e}");
                }
            });
        }
    }
}

/// The newest password-reset token emailed to `user`, read from the outbox as the notifier would.
pub async fn reset_token_for(app: &TestApp, user: uuid::Uuid) -> Option<String> {
    mailed_token(app, user, "user.password_reset_requested").await
}

/// The token in the mail that delivered `user`'s newest `event_type` event (a reset, a
/// verification), read from the app's mail directory as its recipient would: waits for the worker
/// to send it. `None` if there is no such event.
pub async fn mailed_token(app: &TestApp, user: uuid::Uuid, event_type: &str) -> Option<String> {
    let event: Option<Uuid> = {
        let mut conn = app.conn().await;
        outbox_events::table
            .filter(outbox_events::event_type.eq(event_type))
            .filter(outbox_events::aggregate_id.eq(user))
            .order(outbox_events::id.desc())
            .select(outbox_events::id)
            .first(&mut conn)
            .await
            .optional()
            .unwrap()
    };
    let event = event?;
    let createspace::config::MailTransport::Files(dir) = &app.settings.notifications.transport
    else {
        panic!("mailed_token reads the mail directory; this app sends over SMTP");
    };
    let started = std::time::Instant::now();
    loop {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let raw = std::fs::read(entry.path()).unwrap_or_default();
            if !String::from_utf8_lossy(&raw).contains(&event.to_string()) {
                continue;
            }
            let mail = mailparse::parse_mail(&raw).expect("the mail parses");
            let text = mail.subparts[0].get_body().expect("a text part");
            let at = text.find("token=").expect("the mail carries a token link") + "token=".len();
            let token: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .collect();
            return Some(token);
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no mail for event {event} after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The token still in `user`'s newest reset event, if the outbox holds one (it should not, once
/// the mail is sent, used or expired).
pub async fn token_left_in_outbox(app: &TestApp, user: uuid::Uuid) -> Option<String> {
    let mut conn = app.conn().await;
    let payloads: Vec<Value> = outbox_events::table
        .filter(outbox_events::event_type.eq("user.password_reset_requested"))
        .filter(outbox_events::aggregate_id.eq(user))
        .order(outbox_events::id.desc())
        .select(outbox_events::payload)
        .load(&mut conn)
        .await
        .unwrap();
    payloads
        .into_iter()
        .next()
        .and_then(|p| p["token"].as_str().map(String::from))
}

/// The session id (`sid`) an access token names, read without verifying it (tests craft tokens that
/// must fail for one reason only, so they carry a real session).
pub fn sid_of(token: &str) -> Uuid {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    let claims: Value = serde_json::from_slice(&bytes).expect("JSON claims");
    claims["sid"]
        .as_str()
        .expect("a sid")
        .parse()
        .expect("a UUID")
}

/// Reads a problem+json error, asserting the status and the content type.
pub async fn problem(res: Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status, "unexpected status");
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].as_str().unwrap().starts_with("/problems/"));
    body
}

pub async fn json_ok(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The service as a separate OS process on `app`'s database: a second server, or a second worker.
pub struct OtherProcess {
    child: std::process::Child,
    pub base: String,
}

impl OtherProcess {
    fn command(app: &TestApp, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_createspace"));
        command
            .args(args)
            .env("DATABASE_URL", app.database_url())
            .env("JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", "warn")
            .env(
                "MAIL_DIR",
                std::env::temp_dir().join(format!("createspace-mail-{}", Uuid::new_v4().simple())),
            )
            .stdout(std::process::Stdio::null());
        command
    }

    /// A second API server (no worker: `app`'s does the work).
    pub async fn serve(app: &TestApp) -> OtherProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Self::command(app, &["serve"])
            .env("PORT", port.to_string())
            .env("WORKER_IN_SERVE", "false")
            .spawn()
            .unwrap();
        let other = OtherProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..100 {
            if let Ok(r) = app
                .client
                .get(format!("{}/readyz", other.base))
                .send()
                .await
            {
                if r.status().is_success() {
                    return other;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the second server process did not start");
    }

    /// A second worker process (`createspace worker`), with `env` on top.
    pub fn worker(app: &TestApp, env: &[(&str, &str)]) -> OtherProcess {
        let mut command = Self::command(app, &["worker"]);
        command.envs(env.iter().copied());
        OtherProcess {
            child: command.spawn().unwrap(),
            base: String::new(),
        }
    }

    /// Whether the process is still up (a worker that died on its configuration proves nothing).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Posts a message through this server.
    pub async fn message(&self, app: &TestApp, user: &TestUser, order: &str, body: &str) -> String {
        let res = app
            .client
            .post(format!("{}/v1/orders/{order}/messages", self.base))
            .bearer_auth(&user.token)
            .json(&json!({"body": body}))
            .send()
            .await
            .unwrap();
        json_ok(res, StatusCode::CREATED).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

impl Drop for OtherProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
