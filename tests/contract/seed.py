"""Seeds a running createspace API for the contract fuzz: the users, services, orders and requests that
ids in paths and bodies can point at, so every operation can answer 2xx during the run.

Usage: seed.py BASE_URL DATABASE_URL OUT.json MAIL_DIR
Talks to the API over loopback only (no proxy); reads reset and verification tokens from the mail the
server wrote to MAIL_DIR (as their recipients would), and a few facts with psql.
"""

import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

BASE, DATABASE_URL, OUT, MAIL_DIR = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
PASSWORD = "correct horse battery"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(method, path, token=None, body=None, expect=(200, 201, 202, 204)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with OPENER.open(req, timeout=30) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    if status not in expect:
        sys.exit(f"seed: {method} {path} answered {status}: {raw[:500]!r}")
    return json.loads(raw) if raw else None


def register(email, name):
    body = call("POST", "/v1/auth/register", body={"email": email, "password": PASSWORD, "display_name": name})
    return {"id": body["user"]["id"], "token": body["access_token"], "refresh": body["refresh_token"]}


def custom_order(client, creative):
    due = (datetime.now(timezone.utc) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "creative_id": creative["id"],
        "title": "Seeded order",
        "requirements": "Seeded for the contract fuzz.",
        "price": {"amount": 15000, "currency": "EUR"},
        "due_at": due,
        "revisions_included": 2,
    }
    return call("POST", "/v1/orders", client["token"], body)["id"]


def move(user, order, to):
    call("POST", f"/v1/orders/{order}/transitions", user["token"], {"to": to})


def upload(user, order, filename, data):
    boundary = "seedboundary7d3a"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(BASE + f"/v1/orders/{order}/attachments", data=body, method="POST")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    req.add_header("Authorization", f"Bearer {user['token']}")
    with OPENER.open(req, timeout=30) as res:
        if res.status != 201:
            sys.exit(f"seed: upload answered {res.status}")
        return json.loads(res.read())["id"]


def psql(sql):
    return subprocess.run(["psql", DATABASE_URL, "-At", "-c", sql], check=True,
                          capture_output=True, text=True).stdout.split()


def mailed_tokens(to, link, want, timeout=30):
    """The tokens in the `link` links of the mail sent to `to`, once `want` of them are there."""
    deadline = time.time() + timeout
    while True:
        tokens = []
        for name in os.listdir(MAIL_DIR) if os.path.isdir(MAIL_DIR) else []:
            with open(os.path.join(MAIL_DIR, name), "rb") as f:
                mail = email.message_from_binary_file(f, policy=email.policy.default)
            if to not in str(mail["To"]):
                continue
            text = mail.get_body(preferencelist=("plain",)).get_content()
            tokens += re.findall(link + r"\?token=([A-Za-z0-9_-]+)", text)
        if len(tokens) >= want:
            return tokens
        if time.time() > deadline:
            sys.exit(f"seed: {len(tokens)} of {want} {link} mails to {to} after {timeout} s")
        time.sleep(0.2)


def wait_rows(sql, want, timeout=30):
    deadline = time.time() + timeout
    while True:
        rows = psql(sql)
        if len(rows) >= want:
            return rows
        if time.time() > deadline:
            sys.exit(f"seed: {len(rows)} of {want} rows after {timeout} s: {sql}")
        time.sleep(0.2)


def service(user, title):
    body = {"title": title, "description": "Seeded.", "price": {"amount": 15000, "currency": "EUR"},
            "delivery_days": 7, "revisions_included": 2}
    return call("POST", "/v1/services", user["token"], body)["id"]


def seed_billing(fuzz, creative, client, fuzz_creates, fuzz_delivers, fuzz_orders):
    """Payment terms to accept, and invoices in each state, for the fuzzer (a creative) to act on."""
    due = (datetime.now(timezone.utc) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    terms = {"amount": {"amount": 15000, "currency": "EUR"}, "method": "bank_transfer", "due_at": due,
             "schedule": "upfront"}
    profile = {"legal_name": "Fuzz Studio Ltd", "address_lines": ["1 Main Street"], "country": "GB"}
    call("PUT", "/v1/me/billing-profile", fuzz["token"], profile)
    to_accept = [custom_order(fuzz, creative) for _ in range(4)]
    for order in to_accept:
        call("PUT", f"/v1/orders/{order}/payment-terms", creative["token"], terms)
    invoice_orders = fuzz_creates + fuzz_delivers
    line = [{"description": "Seeded work", "quantity": 1, "unit_amount": 100}]

    def invoice(order, send):
        inv = call("POST", "/v1/invoices", fuzz["token"], {"order_id": order, "line_items": line})["id"]
        if send:
            call("POST", f"/v1/invoices/{inv}/send", fuzz["token"])
        return inv

    drafts = [invoice(o, False) for o in invoice_orders for _ in range(2)]
    sent = [invoice(o, True) for o in invoice_orders for _ in range(2)]
    return {
        "invoice_orders": invoice_orders,
        "path_ids": {
            "getPaymentTerms": to_accept + fuzz_orders,
            "proposePaymentTerms": fuzz_orders + fuzz_delivers,
            "acceptPaymentTerms": to_accept,
            "getInvoice": drafts + sent,
            "getInvoicePdf": sent[:2] + drafts[:1],
            "getInvoiceHtml": sent[:2] + drafts[:1],
            "updateInvoice": drafts[:4],
            "deleteInvoice": drafts[4:6],
            "sendInvoice": drafts[6:],
            "voidInvoice": sent[:3],
            "markInvoiceUncollectible": sent[3:6],
            "markInvoicePaid": sent[6:],
        },
    }


def completed_order(client, creative):
    order = custom_order(client, creative)
    for to in ("in_progress", "delivered"):
        move(creative, order, to)
    move(client, order, "completed")
    return order


def seed_reviews(fuzz, creative, client):
    """Completed orders of the fuzzer's to review and order again, and published reviews to answer and
    hide (the fuzzer is an admin)."""
    to_review = [completed_order(fuzz, creative) for _ in range(3)]
    to_reorder = [completed_order(fuzz, creative) for _ in range(3)]
    reviewed = [completed_order(client, fuzz) for _ in range(4)]
    about_fuzz = []
    for order in reviewed:
        about_fuzz.append(call("POST", f"/v1/orders/{order}/reviews", client["token"], {"rating": 4})["id"])
        call("POST", f"/v1/orders/{order}/reviews", fuzz["token"], {"rating": 5})
    # Support hides reviews of orders it is no party to.
    others = []
    for _ in range(3):
        order = completed_order(client, creative)
        others.append(call("POST", f"/v1/orders/{order}/reviews", client["token"], {"rating": 2})["id"])
        call("POST", f"/v1/orders/{order}/reviews", creative["token"], {"rating": 4})
    users = [fuzz["id"], creative["id"], client["id"]]
    return {
        "createReview": to_review,
        "listOrderReviews": to_review + reviewed,
        "replyToReview": about_fuzz[:2],
        "hideReview": others,
        "getUserProfile": users,
        "listUserReviews": users,
        "reorderOrder": to_reorder,
    }


def seed_support(fuzz, creative, client):
    """Tickets of the fuzzer's own (as a user) and of another user (for the fuzzer as support),
    accounts to disable, enable and reset, and orders to give more time or settle a dispute on, none
    of which the fuzzer is a party to."""
    own = [call("POST", "/v1/support/tickets", fuzz["token"], {"subject": f"Own {i}", "body": "Seeded."})["id"]
           for i in range(4)]
    theirs = [call("POST", "/v1/support/tickets", client["token"],
                   {"subject": f"Client {i}", "body": "Seeded."})["id"] for i in range(8)]
    targets = [register(f"target{i}@example.test", "Target")["id"] for i in range(4)]
    resettable = [register(f"resettable{i}@example.test", "Resettable")["id"] for i in range(3)]
    running = []
    for _ in range(4):
        order = custom_order(client, creative)
        move(creative, order, "in_progress")
        running.append(order)
    disputed = []
    for _ in range(6):
        order = custom_order(client, creative)
        move(creative, order, "in_progress")
        call("POST", f"/v1/orders/{order}/transitions", client["token"], {"to": "disputed", "note": "Seeded."})
        disputed.append(order)
    later = (datetime.now(timezone.utc) + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "path_ids": {
            "getTicket": own,
            "replyToTicket": own,
            "uploadTicketAttachment": own + theirs,
            "getAnyTicket": theirs + own,
            "assignTicket": theirs,
            "answerTicket": theirs,
            "resolveTicket": theirs,
            "getUser": targets + resettable + [client["id"]],
            "disableUser": targets,
            "enableUser": targets,
            "sendPasswordReset": resettable,
            "extendDueDate": running + disputed,
            "resolveDispute": disputed,
        },
        "body": {"assignee_id": [fuzz["id"]], "later_due_at": [later]},
    }


def seed_payments(fuzz, creative, client):
    """Invoices for the fuzzer (a client) to pay, payments to confirm, payments to it (a creative)
    to refund, and money of its own to pay out."""
    profile = {"legal_name": "Creative Studio", "address_lines": ["2 High Street"], "country": "GB"}
    call("PUT", "/v1/me/billing-profile", creative["token"], profile)
    line = [{"description": "Seeded work", "quantity": 1, "unit_amount": 10000}]

    def invoice(issuer, client_user):
        order = custom_order(client_user, issuer)
        move(issuer, order, "in_progress")
        inv = call("POST", "/v1/invoices", issuer["token"], {"order_id": order, "line_items": line})["id"]
        call("POST", f"/v1/invoices/{inv}/send", issuer["token"])
        return order, inv

    def pay(payer, inv, method):
        key = f"seed-{inv}-{method}"
        body = json.dumps({"payment_method": method}).encode()
        req = urllib.request.Request(BASE + f"/v1/invoices/{inv}/payments", data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", f"Bearer {payer['token']}")
        req.add_header("Idempotency-Key", key)
        with OPENER.open(req, timeout=30) as res:
            return json.loads(res.read())["id"]

    to_pay = [invoice(creative, fuzz)[1] for _ in range(6)]
    to_confirm = [pay(fuzz, invoice(creative, fuzz)[1], "pm_card_authenticationRequired") for _ in range(3)]
    received = []
    for _ in range(4):
        _, inv = invoice(fuzz, client)
        received.append(pay(client, inv, "pm_card_visa"))
    for _ in range(3):
        order, inv = invoice(fuzz, client)
        pay(client, inv, "pm_card_visa")
        move(fuzz, order, "delivered")
        move(client, order, "completed")
    req = urllib.request.Request(BASE + "/v1/me/payout-destination", method="PUT",
                                 data=json.dumps({"iban": "DE89370400440532013000", "account_holder": "Fuzz"}).encode())
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", f"Bearer {fuzz['token']}")
    OPENER.open(req, timeout=30).read()
    return {
        "path_ids": {
            "payInvoice": to_pay,
            "confirmPayment": to_confirm,
            "getPayment": to_confirm + received,
            "refundPayment": received,
        },
        "body": {"payment_method": ["pm_card_visa", "pm_card_processing", "pm_card_chargeDeclined"]},
    }


def seed_webhooks(fuzz):
    """Endpoints of the fuzzer's own: some to read, change and rotate, others to delete. Their host
    (`hooks.test`) is loopback under the run's static resolver; nothing listens there."""
    def endpoint(i):
        return call("POST", "/v1/webhook-endpoints", fuzz["token"],
                    {"url": f"https://hooks.test/seeded-{i}", "events": ["order.placed", "message.posted"]})["id"]
    kept = [endpoint(i) for i in range(2)]
    doomed = [endpoint(i) for i in range(2, 4)]
    return {
        "getWebhookEndpoint": kept + doomed,
        "updateWebhookEndpoint": kept,
        "rotateWebhookSecret": kept,
        "listWebhookDeliveries": kept,
        "deleteWebhookEndpoint": doomed,
    }


def main():
    fuzz = register("fuzz@example.test", "Fuzz")
    creative = register("creative@example.test", "Creative")
    client = register("client@example.test", "Client")
    # The login example of the document, so the examples phase logs in for real.
    register("ada@example.com", "Ada Lovelace")
    reset_target = register("reset@example.test", "Reset")
    refresher = register("refresh@example.test", "Refresh")

    other_service = service(creative, "Logo design")
    own_services = [service(fuzz, f"Own service {i}") for i in range(6)]

    editable = [custom_order(fuzz, creative) for _ in range(3)]
    to_confirm = [custom_order(client, fuzz) for _ in range(4)]
    to_cancel = []
    for _ in range(3):
        order = custom_order(fuzz, creative)
        move(creative, order, "in_progress")
        to_cancel.append(order)
    to_answer = []
    for _ in range(3):
        order = custom_order(client, fuzz)
        move(fuzz, order, "in_progress")
        call("POST", f"/v1/orders/{order}/cancellation-request", client["token"], {"reason": "Seeded."})
        to_answer.append(order)

    to_deliver = []
    for _ in range(4):
        order = custom_order(client, fuzz)
        move(fuzz, order, "in_progress")
        to_deliver.append(order)
    chat = editable[0]
    messages = [call("POST", f"/v1/orders/{chat}/messages", creative["token"], {"body": f"Seeded {i}."})["id"]
                for i in range(3)]
    files = [upload(fuzz, chat, f"seed{i}.txt", f"seeded file {i}".encode()) for i in range(3)]

    for _ in range(5):
        call("POST", "/v1/auth/password-reset", body={"email": "reset@example.test"})
    reset_tokens = mailed_tokens("reset@example.test", "reset-password", 5)
    unverified = [f"verify{i}@example.test" for i in range(8)]
    for address in unverified:
        register(address, "Unverified")
    verify_tokens = [t for a in unverified for t in mailed_tokens(a, "verify-email", 1)]

    # The support team's tools need an admin: the fuzzer is one (psql, as `createspace admin grant`).
    psql("UPDATE users SET is_admin = true WHERE email = 'fuzz@example.test'")
    notifications = wait_rows(f"SELECT id FROM notifications WHERE user_id = '{fuzz['id']}'", 3)
    bounced = [register(f"bounced{i}@example.test", "Bounced")["id"] for i in range(4)]
    in_list = ", ".join(f"'{b}'" for b in bounced)
    wait_rows(f"SELECT id FROM notification_deliveries WHERE recipient_id IN ({in_list}) "
              "AND status = 'delivered'", len(bounced))
    dead = psql(f"WITH d AS (UPDATE notification_deliveries SET status = 'dead' "
                f"WHERE recipient_id IN ({in_list}) RETURNING id) SELECT id FROM d")
    billing = seed_billing(fuzz, creative, client, to_confirm, to_deliver, editable)
    reviews = seed_reviews(fuzz, creative, client)
    support = seed_support(fuzz, creative, client)
    money = seed_payments(fuzz, creative, client)
    hooks = seed_webhooks(fuzz)

    refresh_tokens = [refresher["refresh"]]
    for _ in range(5):
        body = call("POST", "/v1/auth/login", body={"email": "refresh@example.test", "password": PASSWORD})
        refresh_tokens.append(body["refresh_token"])

    seed = {
        "token": fuzz["token"],
        "path_ids": {
            "getOrder": editable + to_confirm + to_answer,
            "updateOrder": editable,
            "listOrderTransitions": editable + to_answer,
            "createOrderTransition": to_confirm,
            "createCancellationRequest": to_cancel,
            "getCancellationRequest": to_answer,
            "respondToCancellationRequest": to_answer,
            "getService": [other_service] + own_services,
            "updateService": own_services[:3],
            "archiveService": own_services[3:],
            "createMessage": editable + to_confirm,
            "listMessages": editable + to_answer,
            "markMessagesRead": [chat],
            "uploadAttachment": editable + to_confirm,
            "getAttachment": files,
            "getAttachmentContent": files,
            "createDelivery": to_deliver,
            "listDeliveries": to_deliver + editable,
            "readNotification": notifications,
            "retryDeadLetter": dead,
            **billing["path_ids"],
            **reviews,
            **support["path_ids"],
            **money["path_ids"],
            **hooks,
        },
        "body": {
            "service_id": [other_service],
            "creative_id": [creative["id"]],
            "token": reset_tokens,
            "verify_token": verify_tokens,
            "refresh_token": refresh_tokens,
            "up_to": messages,
            "attachment_ids": [[f] for f in files[1:]],
            "invoice_order_id": billing["invoice_orders"],
            **support["body"],
            **money["body"],
        },
    }
    assert reset_tokens and verify_tokens, "no token was mailed"
    with open(OUT, "w") as f:
        json.dump(seed, f)
    print(f"seeded: {sum(len(v) for v in seed['path_ids'].values())} path ids, "
          f"{len(reset_tokens)} reset tokens, {len(refresh_tokens)} refresh tokens")


main()
