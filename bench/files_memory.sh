#!/usr/bin/env bash
# Uploads and downloads a large file (100 MiB by default) through a running server and reports how
# much the server's memory grew: its peak resident set (VmHWM) over its resident set before the
# upload. Uploads and downloads are streamed, so the growth should stay far below the file's size
# (target: under 16 MiB).
#
#   bash bench/files_memory.sh                 # builds the release binary if needed
#   BIN=target/debug/createspace SIZE_MIB=20 bash bench/files_memory.sh
#
# Needs PostgreSQL as the tests do (DATABASE_URL, or the local server at 127.0.0.1:5432), curl,
# sha256sum. Talks to loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-100}
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN=${BIN:-$target_dir/release/createspace}
[ -x "$BIN" ] || cargo build --release --quiet
PG=${DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
db="createspace_bench_files_$$"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

DATABASE_URL="$PG/$db" PORT="$port" APP_ENV=development RUST_LOG=warn STORAGE_DIR="$work/files" \
  JWT_SECRET=bench-files-secret-of-at-least-32-characters \
  MAX_UPLOAD_BYTES=$(( (SIZE_MIB + 1) * 1024 * 1024 )) "$BIN" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do curl -sf --noproxy '*' "$base/readyz" >/dev/null 2>&1 && break; sleep 0.2; done

api() { curl -sf --noproxy '*' -H 'content-type: application/json' "$@"; }
token() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
register() {
  api -X POST "$base/v1/auth/register" \
    -d "{\"email\": \"$1@example.com\", \"password\": \"correct horse battery\", \"display_name\": \"$1\"}"
}
client=$(register client); creative=$(register creative)
client_token=$(echo "$client" | token access_token)
creative_token=$(echo "$creative" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["access_token"])')
creative_id=$(echo "$creative" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])')
due=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
order=$(api -X POST "$base/v1/orders" -H "authorization: Bearer $client_token" \
  -d "{\"creative_id\": \"$creative_id\", \"title\": \"Video\", \"requirements\": \"A film.\", \"price\": {\"amount\": 100000, \"currency\": \"EUR\"}, \"due_at\": \"$due\"}" \
  | token id)
api -X POST "$base/v1/orders/$order/transitions" -H "authorization: Bearer $creative_token" -d '{"to": "in_progress"}' >/dev/null

head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$work/big.bin"
kb() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$server_pid/status"; }
before=$(kb VmRSS)
start=$(date +%s.%N)
file=$(curl -sf --noproxy '*' -H "authorization: Bearer $creative_token" -F "file=@$work/big.bin" \
  "$base/v1/orders/$order/attachments" | token id)
uploaded=$(date +%s.%N)
after_upload=$(kb VmHWM)
curl -sf --noproxy '*' -H "authorization: Bearer $client_token" -o "$work/back.bin" "$base/v1/attachments/$file/content"
downloaded=$(date +%s.%N)
after_download=$(kb VmHWM)
[ "$(sha256sum <"$work/big.bin")" = "$(sha256sum <"$work/back.bin")" ] || { echo "download differs from upload" >&2; exit 1; }

python3 - "$SIZE_MIB" "$before" "$after_upload" "$after_download" "$start" "$uploaded" "$downloaded" <<'PY'
import sys
size, before, up, down = int(sys.argv[1]), *map(int, sys.argv[2:5])
t0, t1, t2 = map(float, sys.argv[5:8])
print(f"file: {size} MiB, identical after the round trip")
print(f"server RSS before: {before / 1024:.1f} MiB")
print(f"peak growth during upload:   {(up - before) / 1024:.1f} MiB ({size / (t1 - t0):.0f} MiB/s)")
print(f"peak growth through download: {(down - before) / 1024:.1f} MiB ({size / (t2 - t1):.0f} MiB/s)")
print("target: under 16 MiB of growth")
PY
