//! Order reads at scale: the API against PostgreSQL doing the same work, in the same run.
//!
//! Seeds `BENCH_ORDERS` orders (default 1 000 000) into a scratch database, one "busy" creative
//! holding a fifth of them, then times each read through the real app over HTTP and the equivalent
//! SQL sent straight to PostgreSQL. The ratio (API / SQL) is what matters: it stays flat however
//! deep the page, because every list is a keyset scan of an index.
//!
//!     cargo bench --bench orders_list            # BENCH_ORDERS=200000 for a quicker run

use std::time::{Duration, Instant};

use createspace::config::Settings;
use createspace::db::{self, bootstrap};
use createspace::startup::Application;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{json, Value};
use uuid::Uuid;

const SECRET: &str = "bench-secret-that-is-at-least-32-characters";
const ITERATIONS: usize = 200;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn sql(conn: &mut AsyncPgConnection, statement: &str) -> usize {
    diesel::sql_query(statement)
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"))
}

async fn time_sql(conn: &mut AsyncPgConnection, statement: &str) -> Duration {
    for _ in 0..10 {
        sql(conn, statement).await;
    }
    let mut samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let start = Instant::now();
        sql(conn, statement).await;
        samples.push(start.elapsed());
    }
    median(samples)
}

async fn time_api(client: &reqwest::Client, url: &str, token: &str) -> Duration {
    let get = || async {
        let res = client.get(url).bearer_auth(token).send().await.unwrap();
        assert!(res.status().is_success(), "{url}: {}", res.status());
        res.bytes().await.unwrap();
    };
    for _ in 0..10 {
        get().await;
    }
    let mut samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let start = Instant::now();
        get().await;
        samples.push(start.elapsed());
    }
    median(samples)
}

fn cursor(value: &Value) -> String {
    createspace::http::pagination::encode(value)
}

#[tokio::main]
async fn main() {
    let orders: i64 = std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let configured = std::env::var("DATABASE_URL").ok();
    let server = bootstrap::locate_server(configured.as_deref(), std::path::Path::new("data"))
        .await
        .expect("a PostgreSQL server");
    let url = server.with_database("createspace_bench");
    let mut admin = bootstrap::connect(&server.maintenance()).await.unwrap();
    sql(
        &mut admin,
        "DROP DATABASE IF EXISTS createspace_bench WITH (FORCE)",
    )
    .await;
    bootstrap::ensure_database(&url).await.unwrap();
    bootstrap::run_migrations(&url).await.unwrap();
    let mut conn = bootstrap::connect(&url).await.unwrap();

    // 10 000 users; user 1 is the busy creative with every fifth order.
    let seed_start = Instant::now();
    sql(&mut conn, "INSERT INTO users (id, email, password_hash, display_name) \
        SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'u' || g || '@example.com', 'x', 'user ' || g \
        FROM generate_series(1, 10000) g").await;
    sql(&mut conn, &format!("INSERT INTO orders (id, client_id, creative_id, title, requirements, price_amount, \
          price_currency, due_at, revisions_included, status, created_at) \
        SELECT ('00000000-' || lpad(to_hex(g >> 16), 4, '0') || '-7' || lpad(to_hex((g >> 4) & 4095), 3, '0') \
                 || '-8' || lpad(to_hex(g & 15), 3, '0') || '-000000000000')::uuid, \
          ('00000000-0000-7000-8000-' || lpad(to_hex(2 + g % 9999), 12, '0'))::uuid, \
          ('00000000-0000-7000-8000-' || lpad(to_hex(CASE WHEN g % 5 = 0 THEN 1 ELSE 2 + ((g % 9999) + 1 + (g * 7) % 9998) % 9999 END), 12, '0'))::uuid, \
          'Order ' || g, 'Requirements', 1000 + g % 50000, 'EUR', \
          now() + ((g % 60) - 10) * interval '1 day', 1, \
          (ARRAY['new','in_progress','delivered','completed','declined','cancelled','disputed'])[1 + g % 7], \
          now() - (({orders} - g) * interval '1 second') \
        FROM generate_series(1, {orders}) g \
        ON CONFLICT DO NOTHING")).await;
    // A table in steady state has been vacuumed: index-only scans can skip the heap.
    sql(&mut conn, "VACUUM ANALYZE").await;
    println!("seeded {orders} orders in {:.1?}", seed_start.elapsed());

    let busy = Uuid::parse_str("00000000-0000-7000-8000-000000000001").unwrap();
    let busy_orders: i64 = orders / 5;

    let mut settings = Settings::from_lookup(&|_| None).unwrap();
    settings.port = 0;
    settings.jwt.secret = SECRET.into();
    settings.orders.worker_interval = Duration::from_secs(3600);
    settings.rate_limits = createspace::config::RateLimitSettings::unlimited();
    let pool = db::pool(&url.as_string(), 8).unwrap();
    let keys = createspace::auth::jwt::Keys::new(&settings.jwt);
    // An access token names a live session, as a login would have made.
    let session = Uuid::now_v7();
    sql(
        &mut conn,
        &format!(
            "INSERT INTO sessions (id, user_id, expires_at) \
        VALUES ('{session}', '{busy}', now() + interval '1 day') ON CONFLICT DO NOTHING"
        ),
    )
    .await;
    let token = keys
        .issue(
            createspace::domain::ids::UserId::from_uuid(busy),
            session,
            chrono::Utc::now().timestamp(),
        )
        .unwrap();
    let app = Application::build(settings, pool).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    // The id at depth 10 000 pages x 20 rows (or as deep as the busy user's orders go).
    let depth = (busy_orders - 21).clamp(0, 200_000);
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let deep: Id = diesel::sql_query(format!(
        "SELECT id FROM orders WHERE client_id = '{busy}' OR creative_id = '{busy}' ORDER BY id DESC OFFSET {depth} LIMIT 1"
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    let deep_cursor = cursor(&json!({"s": "n", "id": deep.id}));
    let page = depth / 20;

    let who = format!("(client_id = '{busy}' OR creative_id = '{busy}')");
    let cases: Vec<(String, String, String)> = vec![
        (
            "first page, newest".into(),
            "/v1/orders".into(),
            format!("SELECT * FROM orders WHERE {who} ORDER BY id DESC LIMIT 21"),
        ),
        (
            format!("page {page}, newest (keyset)"),
            format!("/v1/orders?cursor={deep_cursor}"),
            format!("SELECT * FROM orders WHERE {who} AND id < '{}' ORDER BY id DESC LIMIT 21", deep.id),
        ),
        (
            "role=creative, status=in_progress".into(),
            "/v1/orders?role=creative&status=in_progress".into(),
            format!("SELECT * FROM orders WHERE creative_id = '{busy}' AND status = 'in_progress' ORDER BY id DESC LIMIT 21"),
        ),
        (
            "late=true".into(),
            "/v1/orders?late=true".into(),
            format!("SELECT * FROM orders WHERE {who} AND due_at < now() AND status IN ('new','in_progress','disputed') ORDER BY id DESC LIMIT 21"),
        ),
        (
            "sort=due_at".into(),
            "/v1/orders?sort=due_at&role=creative".into(),
            format!("SELECT * FROM orders WHERE creative_id = '{busy}' ORDER BY due_at, id LIMIT 21"),
        ),
        (
            "dashboard (6 counts)".into(),
            "/v1/dashboard".into(),
            // The same six queries the handler sends, in one round trip.
            format!("SELECT status, count(*) FROM orders WHERE client_id = '{busy}' GROUP BY status \
                     UNION ALL SELECT status, count(*) FROM orders WHERE creative_id = '{busy}' GROUP BY status \
                     UNION ALL SELECT 'late', count(*) FROM orders WHERE client_id = '{busy}' AND due_at < now() \
                       AND status IN ('new','in_progress','disputed') \
                     UNION ALL SELECT 'late', count(*) FROM orders WHERE creative_id = '{busy}' AND due_at < now() \
                       AND status IN ('new','in_progress','disputed') \
                     UNION ALL SELECT 'soon', count(*) FROM orders WHERE client_id = '{busy}' AND due_at >= now() \
                       AND due_at < now() + interval '48 hours' AND status IN ('new','in_progress') \
                     UNION ALL SELECT 'soon', count(*) FROM orders WHERE creative_id = '{busy}' AND due_at >= now() \
                       AND due_at < now() + interval '48 hours' AND status IN ('new','in_progress')"),
        ),
    ];

    println!("\n{orders} orders, busy user in {busy_orders}; medians of {ITERATIONS} sequential requests\n");
    println!(
        "{:<38} {:>10} {:>10} {:>8}",
        "read", "API", "SQL", "API/SQL"
    );
    for (name, path, statement) in cases {
        let api = time_api(&client, &format!("{base}{path}"), &token).await;
        let direct = time_sql(&mut conn, &statement).await;
        println!(
            "{name:<38} {:>8.2}ms {:>8.2}ms {:>7.1}x",
            api.as_secs_f64() * 1e3,
            direct.as_secs_f64() * 1e3,
            api.as_secs_f64() / direct.as_secs_f64()
        );
    }
    drop(conn);
    sql(
        &mut admin,
        "DROP DATABASE IF EXISTS createspace_bench WITH (FORCE)",
    )
    .await;
}
