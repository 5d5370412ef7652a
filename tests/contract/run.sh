#!/usr/bin/env bash
# Contract fuzz: schemathesis over every operation of the served OpenAPI document, against the debug
# binary the test build produced, on a scratch database seeded so that ids in paths exist.
# Fails on any failed check, on an operation that never answered 2xx, or on a throttled request.
#
# Knobs: FUZZ_MAX_TIME (seconds, default 240), FUZZ_MAX_EXAMPLES (per operation, default 50),
# FUZZ_PG (server URL without a database, default postgres://postgres@127.0.0.1:5432),
# CONTRACT_VENV (where schemathesis is installed, default /var/tmp/createspace-venv),
# FUZZ_SEED (default: random, printed, so a red run replays exactly; `.ci/run` pins one).
set -euo pipefail
cd "$(dirname "$0")/../.."

target_dir=$(cargo metadata --format-version 1 --no-deps --offline |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
BIN="$target_dir/debug/createspace"
VENV="${CONTRACT_VENV:-/var/tmp/createspace-venv}"
PG="${FUZZ_PG:-postgres://postgres@127.0.0.1:5432}"
export NO_PROXY=127.0.0.1,localhost,::1 no_proxy=127.0.0.1,localhost,::1

[ -x "$BIN" ] || { echo "contract fuzz: $BIN is missing; run cargo test first" >&2; exit 1; }
# Every package pinned (requirements.txt), so a run today and a run next month fuzz alike.
root=$PWD
wanted=$(sha256sum tests/contract/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$VENV/.requirements" 2>/dev/null)" != "$wanted" ]; then
  echo "contract fuzz: installing schemathesis into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/contract/requirements.txt
  echo "$wanted" >"$VENV/.requirements"
fi

work=$(mktemp -d)
db="createspace_fuzz_$$"
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Limits raised so the fuzzer's own volume is not what it measures; the token outlives the run.
start_server() {
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  DATABASE_URL="$PG/$db" HOST=127.0.0.1 PORT="$port" APP_ENV=development LOG_FORMAT=json RUST_LOG=info \
    JWT_SECRET=contract-fuzz-secret-of-at-least-32-chars JWT_ACCESS_TTL=2h \
    LOGIN_RATE_PER_IP_PER_MINUTE=1000000 LOGIN_RATE_PER_EMAIL_PER_MINUTE=1000000 \
    REGISTER_RATE_PER_IP_PER_MINUTE=1000000 ORDERS_PER_USER_PER_HOUR=1000000 \
    SERVICES_PER_USER_PER_HOUR=1000000 CANCELLATION_REQUESTS_PER_USER_PER_HOUR=1000000 \
    MESSAGES_PER_USER_PER_HOUR=1000000 UPLOADS_PER_USER_PER_HOUR=1000000 VERIFICATION_EMAILS_PER_USER_PER_HOUR=1000000 \
    TERMS_PROPOSALS_PER_USER_PER_HOUR=1000000 INVOICES_PER_USER_PER_HOUR=1000000 \
    SUPPORT_TICKETS_PER_USER_PER_HOUR=1000000 EVENT_TICKETS_PER_USER_PER_HOUR=1000000 \
    WEBHOOK_URL_CHECKS_PER_USER_PER_HOUR=1000000 \
    WEBHOOK_STATIC_HOSTS=hooks.test=127.0.0.1 WEBHOOK_ALLOWED_CIDRS=127.0.0.0/8 \
    LIVE_MAX_STREAMS_PER_USER=1000000 LIVE_MAX_DURATION=100ms \
    PASSWORD_HASH_QUEUE=1000 MAIL_DIR="$work/mail" \
    "$BIN" serve >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 150); do
    curl -sf "$base/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || { server_pid=; return 1; }
    sleep 0.2
  done
  kill "$server_pid" 2>/dev/null || true
  server_pid=
  return 1
}
# The free port is found, then bound by the server: another process may take it in between.
started=
for _ in 1 2 3; do
  if start_server; then started=1; break; fi
done
if [ -z "$started" ]; then
  echo "contract fuzz: the API did not start" >&2
  tail -n 40 "$work/server.log" >&2
  exit 1
fi

python3 tests/contract/seed.py "$base" "$PG/$db" "$work/seed.json" "$work/mail"
# The proof of coverage counts the fuzzer's requests only, not the seed's.
seeded_log_bytes=$(wc -c <"$work/server.log")
token=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$work/seed.json")

# A seed is always chosen and printed, so any failure replays with FUZZ_SEED=<seed>. `.ci/run` pins
# one: CI judges the change, not the luck of the draw; runs by hand explore new cases.
fuzz_seed="${FUZZ_SEED:-$(python3 -c 'import random; print(random.getrandbits(32))')}"
echo "fuzz seed: $fuzz_seed (replay with FUZZ_SEED=$fuzz_seed)"
seed_args=(--seed "$fuzz_seed")

status=0
# Run from the scratch folder: schemathesis keeps a cache in its working directory. One worker:
# under CPython 3.11, Hypothesis parsing lambdas in two threads at once can fail with "AST
# constructor recursion depth mismatch" (a runtime error that is not the API's).
(cd "$work" && CONTRACT_SEED="$work/seed.json" PYTHONPATH="$root/tests/contract" SCHEMATHESIS_HOOKS=hooks \
  "$VENV/bin/schemathesis" --config-file "$root/tests/contract/schemathesis.toml" \
  run "$base/api-docs/openapi.json" \
  --header "Authorization: Bearer $token" \
  --max-examples "${FUZZ_MAX_EXAMPLES:-50}" --max-time "${FUZZ_MAX_TIME:-240}" --workers 1 \
  "${seed_args[@]}" --report junit --report-dir "$work/report") || status=$?

echo "--- answers per operation during the fuzz"
python3 tests/contract/coverage.py openapi/openapi.json "$work/server.log" "$seeded_log_bytes" || status=1
# The fuzzer's token must still work: a run that lost its session midway proved little.
me=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/v1/me" || true)
[ "$me" = 200 ] || { echo "contract fuzz: the fuzzer's token stopped working (GET /v1/me: $me)" >&2; status=1; }
if [ "$status" != 0 ]; then
  echo "--- last lines of the server log" >&2
  grep -v '"request finished"' "$work/server.log" | tail -n 40 >&2 || true
  if [ -n "${FUZZ_KEEP:-}" ]; then cp -r "$work" "$FUZZ_KEEP"; fi
fi
exit "$status"
