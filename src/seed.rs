//! `createspace seed`: fills a database with realistic data for benchmarks and exploration.
//! Creatives with services, clients, orders over every status and two years (history, messages,
//! some pending cancellation requests), generated inside PostgreSQL by batched `INSERT … SELECT`,
//! so a million orders take minutes, not hours. Every seeded account has the password [`PASSWORD`].

use diesel::sql_types::{BigInt, Integer};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// The password of every seeded account (printed by `--demo`).
pub const PASSWORD: &str = "correct horse battery";

/// Orders per statement.
const BATCH: i64 = 20_000;

pub struct Sizes {
    pub users: i64,
    pub orders: i64,
    pub messages_per_order: i32,
}

/// Time-ordered ids like the application's (UUIDv7 from a timestamp), so `id DESC` stays newest
/// first in seeded data too; and the pools of clients and creatives, numbered for cheap picking.
const PREPARE: &str = "
CREATE OR REPLACE FUNCTION pg_temp.uuid7(ts timestamptz) RETURNS uuid AS $$
  SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7'
          || substr(md5(random()::text), 1, 3) || to_hex(8 + floor(random() * 4)::int)
          || substr(md5(random()::text), 1, 15))::uuid
$$ LANGUAGE sql VOLATILE;
";

async fn users(conn: &mut AsyncPgConnection, n: i64, hash: &str) -> anyhow::Result<()> {
    // One in three is a creative, each with two services.
    diesel::sql_query(
        "INSERT INTO users (id, email, password_hash, display_name, bio, created_at, updated_at, \
                            email_verified_at) \
         SELECT pg_temp.uuid7(now() - interval '800 days' + g * interval '1 minute'), \
                'user' || g || '@seed.example', $1, \
                (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken'])[1 + g % 8] \
                  || ' ' || g, \
                CASE WHEN g % 3 = 0 THEN 'Illustrator and designer' END, \
                now() - interval '800 days', now() - interval '800 days', \
                now() - interval '800 days' \
         FROM generate_series(1, $2) g",
    )
    .bind::<diesel::sql_types::Text, _>(hash)
    .bind::<BigInt, _>(n)
    .execute(conn)
    .await?;
    conn.batch_execute(
        "CREATE TEMP TABLE seed_creatives AS \
           SELECT row_number() OVER (ORDER BY id) AS n, id FROM users \
           WHERE email LIKE 'user%@seed.example' AND split_part(email, '@', 1) ~ '^user[0-9]+$' \
             AND substr(split_part(email, '@', 1), 5)::bigint % 3 = 0; \
         CREATE TEMP TABLE seed_clients AS \
           SELECT row_number() OVER (ORDER BY id) AS n, id FROM users \
           WHERE email LIKE 'user%@seed.example' \
             AND substr(split_part(email, '@', 1), 5)::bigint % 3 <> 0; \
         CREATE UNIQUE INDEX ON seed_creatives (n); CREATE UNIQUE INDEX ON seed_clients (n); \
         INSERT INTO services (id, creative_id, title, description, price_amount, price_currency, \
                               delivery_days, revisions_included, created_at, updated_at) \
           SELECT pg_temp.uuid7(now() - interval '700 days'), c.id, \
                  (ARRAY['Logo design','Brand identity','Short film edit','Podcast mix', \
                         'Website copy','Album cover'])[1 + (c.n * 2 + s) % 6], \
                  'What you get: concepts, revisions and final files.', \
                  5000 + (c.n * 131 + s * 17) % 95000, 'EUR', 3 + (c.n + s) % 12, 1 + s, \
                  now() - interval '700 days', now() - interval '700 days' \
           FROM seed_creatives c CROSS JOIN generate_series(0, 1) s; \
         ANALYZE seed_creatives; ANALYZE seed_clients;",
    )
    .await?;
    Ok(())
}

/// Orders `from..=to` of `total`, with their history, messages and some cancellation requests, in
/// one statement. Older orders are closed; the last two months hold the open ones.
async fn orders(
    conn: &mut AsyncPgConnection,
    from: i64,
    to: i64,
    total: i64,
    messages: i32,
) -> anyhow::Result<()> {
    diesel::sql_query(
        "WITH picked AS ( \
           SELECT g, now() - interval '730 days' * (1 - g::float8 / $3) AS created, \
                  c.id AS client, k.id AS creative, \
                  CASE WHEN g::float8 / $3 < 0.92 \
                       THEN (ARRAY['completed','completed','completed','completed','completed', \
                                   'completed','declined','cancelled'])[1 + g % 8] \
                       ELSE (ARRAY['new','in_progress','in_progress','delivered','completed', \
                                   'disputed','cancelled','in_progress'])[1 + g % 8] END AS status \
           FROM generate_series($1, $2) g \
           JOIN seed_clients c ON c.n = 1 + (g * 7919) % (SELECT count(*) FROM seed_clients) \
           JOIN seed_creatives k ON k.n = 1 + (g * 104729) % (SELECT count(*) FROM seed_creatives) \
         ), ins AS ( \
           INSERT INTO orders (id, client_id, creative_id, title, requirements, price_amount, \
             price_currency, due_at, revisions_included, revisions_used, status, version, \
             delivered_at, auto_complete_at, first_response_at, created_at, updated_at) \
           SELECT pg_temp.uuid7(p.created), p.client, p.creative, \
                  (ARRAY['Logo for a bakery','Wedding film','Podcast intro','Book cover', \
                         'Product photos','Landing page copy'])[1 + p.g % 6] || ' #' || p.g, \
                  'Seeded requirements: style, size, deadline and references.', \
                  1000 + (p.g * 37) % 200000, 'EUR', p.created + interval '7 days', 2, 0, \
                  p.status, CASE p.status WHEN 'new' THEN 1 ELSE 2 END, \
                  CASE WHEN p.status IN ('delivered', 'completed') THEN p.created + interval '5 days' END, \
                  CASE WHEN p.status = 'delivered' THEN p.created + interval '8 days' END, \
                  CASE WHEN $4 >= 2 THEN p.created + interval '20 minutes' \
                       WHEN p.status NOT IN ('new', 'cancelled') THEN p.created + interval '1 hour' END, \
                  p.created, p.created \
           FROM picked p \
           RETURNING id, client_id, creative_id, status, created_at \
         ), placed AS ( \
           INSERT INTO order_transitions (id, order_id, from_status, to_status, actor_id, actor_role, created_at) \
           SELECT pg_temp.uuid7(created_at), id, NULL, 'new', client_id, 'client', created_at FROM ins \
           RETURNING 1 \
         ), moved AS ( \
           INSERT INTO order_transitions (id, order_id, from_status, to_status, actor_id, actor_role, note, created_at) \
           SELECT pg_temp.uuid7(created_at + interval '1 hour'), id, 'new', \
                  CASE WHEN status IN ('declined', 'cancelled') THEN status ELSE 'in_progress' END, \
                  CASE WHEN status = 'cancelled' THEN client_id ELSE creative_id END, \
                  CASE WHEN status = 'cancelled' THEN 'client' ELSE 'creative' END, \
                  CASE WHEN status = 'declined' THEN 'Fully booked this month.' END, \
                  created_at + interval '1 hour' \
           FROM ins WHERE status <> 'new' \
           RETURNING 1 \
         ), said AS ( \
           INSERT INTO messages (id, order_id, sender_id, sender_role, kind, body, created_at) \
           SELECT pg_temp.uuid7(created_at + j * interval '10 minutes'), id, \
                  CASE WHEN j % 2 = 1 THEN client_id ELSE creative_id END, \
                  CASE WHEN j % 2 = 1 THEN 'client' ELSE 'creative' END, 'user', \
                  'Message ' || j || ' about this order.', created_at + j * interval '10 minutes' \
           FROM ins CROSS JOIN generate_series(1, $4) j \
           RETURNING 1 \
         ), asked AS ( \
           INSERT INTO cancellation_requests (id, order_id, requested_by, requester_role, reason, status, auto_accept_at, created_at) \
           SELECT pg_temp.uuid7(now()), id, client_id, 'client', 'My plans changed.', 'pending', \
                  now() + interval '2 days', now() \
           FROM ins WHERE status = 'in_progress' AND abs(hashtext(id::text)) % 20 = 0 \
           RETURNING 1 \
         ) \
         SELECT (SELECT count(*) FROM placed) + (SELECT count(*) FROM moved) \
              + (SELECT count(*) FROM said) + (SELECT count(*) FROM asked) AS rows",
    )
    .bind::<BigInt, _>(from)
    .bind::<BigInt, _>(to)
    .bind::<BigInt, _>(total)
    .bind::<Integer, _>(messages)
    .execute(conn)
    .await?;
    Ok(())
}

/// Seeds `sizes` into the database behind `conn`, reporting the orders done so far to `progress`.
pub async fn run(
    conn: &mut AsyncPgConnection,
    sizes: &Sizes,
    password_hash: &str,
    mut progress: impl FnMut(i64),
) -> anyhow::Result<()> {
    anyhow::ensure!(sizes.users >= 3, "seed at least 3 users");
    #[derive(diesel::QueryableByName)]
    struct Seeded {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        seeded: bool,
    }
    let already: Seeded = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM users WHERE email LIKE '%@seed.example') AS seeded",
    )
    .get_result(conn)
    .await?;
    anyhow::ensure!(
        !already.seeded,
        "this database is already seeded; seed a fresh one (DATABASE_URL)"
    );
    conn.batch_execute(PREPARE).await?;
    users(conn, sizes.users, password_hash).await?;
    let mut done = 0;
    while done < sizes.orders {
        let to = (done + BATCH).min(sizes.orders);
        conn.transaction::<_, anyhow::Error, _>(async |conn| {
            orders(conn, done + 1, to, sizes.orders, sizes.messages_per_order).await
        })
        .await?;
        done = to;
        progress(done);
    }
    conn.batch_execute("ANALYZE").await?;
    Ok(())
}
