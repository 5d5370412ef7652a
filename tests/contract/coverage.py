"""Proof that the contract fuzz tested something: from the server's JSON log, the number of 2xx answers
per operation of the document. Fails if an operation never answered 2xx, or if any request was
throttled (429): a run whose limits bit midway did not test what it claims.

Usage: coverage.py OPENAPI.json SERVER_LOG [SKIP_BYTES]   (SKIP_BYTES: the log written before the fuzz)"""

import json
import sys
from collections import Counter

doc_path, log_path = sys.argv[1], sys.argv[2]
skip = int(sys.argv[3]) if len(sys.argv) > 3 else 0
with open(doc_path) as f:
    doc = json.load(f)
operations = {
    (method.upper(), path): op["operationId"]
    for path, item in doc["paths"].items()
    for method, op in item.items()
}

ok, total, throttled = Counter(), Counter(), 0
with open(log_path, "rb") as f:
    f.seek(skip)
    for line in f:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("message") != "request finished":
            continue
        span = event.get("span", {})
        key = (span.get("method"), span.get("route"))
        if key not in operations:
            continue
        status = int(event.get("status", 0))
        total[operations[key]] += 1
        ok[operations[key]] += 200 <= status < 300
        throttled += status == 429

print(f"{'operation':<32} {'requests':>9} {'2xx':>7}")
for op_id in sorted(operations.values()):
    print(f"{op_id:<32} {total[op_id]:>9} {ok[op_id]:>7}")
# Operations that exist only under another configuration than the fuzz's (the sandbox provider):
# their own tests cover them.
OTHER_CONFIGURATION = {
    "stripeWebhook": "PAYMENT_PROVIDER=stripe (tests/api/stripe.rs, against a local Stripe)",
}
missing = sorted(op for op in operations.values() if ok[op] == 0 and op not in OTHER_CONFIGURATION)
for op, why in OTHER_CONFIGURATION.items():
    print(f"{op}: 404 here by design; covered under {why}")
print(f"{len(operations)} operations, {sum(total.values())} requests, "
      f"{sum(ok.values())} answered 2xx, {throttled} throttled")
if missing:
    sys.exit(f"no 2xx during the fuzz for: {', '.join(missing)}")
if throttled:
    sys.exit("requests were throttled during the fuzz: raise the limits for the run")
