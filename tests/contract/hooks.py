"""Schemathesis hooks: point some generated ids and secrets at rows the seed created, so operations
reach their business logic instead of answering 404 to random ids. Only values that are already valid
(a UUID where a UUID is expected, a body with exactly the expected fields) are replaced, so a negative
test case stays negative."""

import json
import re
from datetime import datetime
import os
import uuid
from functools import lru_cache
from pathlib import Path

import jsonschema_rs
import schemathesis
from hypothesis import strategies as st

with open(os.environ["CONTRACT_SEED"]) as f:
    SEED = json.load(f)
# The document the server serves (a test fails when the two drift).
with open(Path(__file__).resolve().parents[2] / "openapi" / "openapi.json") as f:
    DOCUMENT = json.load(f)


def _tolerate_unsplittable_urls():
    """Schemathesis 4.32 looks for links in every 2xx body string that starts with `http://`, and its
    urlsplit raises on ones like `http://[` (which the API rightly stores and echoes: a title, an
    avatar URL), ending the whole run with an internal error. Such a string is simply not a link."""
    from schemathesis.engine import observations

    original = observations._same_origin_path

    def same_origin_path(value, origin):
        try:
            return original(value, origin)
        except ValueError:
            return None

    observations._same_origin_path = same_origin_path


_tolerate_unsplittable_urls()

# Bodies whose secret fields may be swapped for seeded ones: the exact keys they must have, the field,
# and the seed's list to draw from.
SECRET_BODIES = {
    "confirmPasswordReset": ({"token", "password"}, "token", "token"),
    "verifyEmail": ({"token"}, "token", "verify_token"),
    "refreshToken": ({"refresh_token"}, "refresh_token", "refresh_token"),
    "logout": ({"refresh_token"}, "refresh_token", "refresh_token"),
}


def _operation_id(ctx):
    op = getattr(ctx, "operation", None)
    return op.definition.raw.get("operationId") if op is not None else None


def _is_uuid(value):
    """A hyphenated UUID, the only form `format: uuid` (and the server) accept."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
        return True
    except ValueError:
        return False


def _is_instant(value):
    """An RFC 3339 instant as the document allows it."""
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


@lru_cache(maxsize=None)
def _field_validator(op_id, field):
    """The document's schema for one field of an operation's JSON body, or None."""
    for item in DOCUMENT["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == op_id:
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
                schema = body.get("schema")
                if schema is None:
                    return None
                while "$ref" in schema:
                    schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
                field_schema = schema.get("properties", {}).get(field)
                if field_schema is None:
                    return None
                # Formats asserted too: `2026-12-01` is no `date-time`, and a negative case built
                # on it must not become a valid request.
                return jsonschema_rs.Draft202012Validator(
                    {"components": DOCUMENT["components"], **field_schema}, validate_formats=True)
    return None


def _conforms(op_id, body, field):
    """Whether the generated value of `field` already satisfies the document: only then may it be
    swapped for a seeded one, or a negative case (an amount of 0, a currency not in the list) would
    turn into a valid request the server rightly accepts, which the fuzzer then reports."""
    validator = _field_validator(op_id, field)
    return validator is not None and field in body and validator.is_valid(body[field])


def _seeded_path(op_id, params):
    ids = SEED["path_ids"].get(op_id)
    if not ids or not isinstance(params, dict) or not _is_uuid(params.get("id")):
        return None
    return [dict(params, id=i) for i in ids]


def _seeded_bodies(op_id, body):
    if not isinstance(body, dict):
        return None
    if op_id in SECRET_BODIES:
        keys, field, seeded = SECRET_BODIES[op_id]
        value = body.get(field)
        if set(body) != keys or not isinstance(value, str) or not _conforms(op_id, body, field):
            return None
        return [dict(body, **{field: v}) for v in SEED["body"][seeded]]
    # Only a field that already satisfies the document is swapped: a negative case must stay negative.
    if op_id == "markMessagesRead" and set(body) == {"up_to"} and _is_uuid(body["up_to"]):
        return [dict(body, up_to=v) for v in SEED["body"]["up_to"]]
    if op_id == "createMessage" and isinstance(body.get("attachment_ids"), list):
        ids = body["attachment_ids"]
        if ids and all(_is_uuid(i) for i in ids) and _conforms(op_id, body, "attachment_ids"):
            return [dict(body, attachment_ids=v) for v in SEED["body"]["attachment_ids"]]
        return None
    if op_id == "payInvoice" and _conforms(op_id, body, "payment_method"):
        return [dict(body, payment_method=v) for v in SEED["body"]["payment_method"]]
    if (op_id in ("createPayout", "refundPayment") and isinstance(body.get("amount"), dict)
            and _conforms(op_id, body, "amount")):
        return [dict(body, amount={"amount": 100, "currency": "EUR"})]
    iban = body.get("iban")
    if (op_id == "putPayoutDestination" and _conforms(op_id, body, "iban")
            and re.fullmatch(r"[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]+", iban)):
        return [dict(body, iban="GB82 WEST 1234 5698 7654 32")]
    if (op_id in ("createWebhookEndpoint", "updateWebhookEndpoint") and isinstance(body.get("url"), str)
            and _conforms(op_id, body, "url")):
        return [dict(body, url="https://hooks.test/fuzzed")]
    if op_id == "assignTicket" and _is_uuid(body.get("assignee_id")):
        return [dict(body, assignee_id=v) for v in SEED["body"]["assignee_id"]]
    # A custom order's reorder needs a deadline in the future: random instants almost never are.
    if (op_id in ("extendDueDate", "reorderOrder") and _is_instant(body.get("due_at"))
            and _conforms(op_id, body, "due_at")):
        return [dict(body, due_at=v) for v in SEED["body"]["later_due_at"]]
    if op_id == "createInvoice" and _is_uuid(body.get("order_id")):
        return [dict(body, order_id=v) for v in SEED["body"]["invoice_order_id"]]
    if op_id == "createOrder":
        out = []
        for field in ("service_id", "creative_id"):
            if _is_uuid(body.get(field)):
                out += [dict(body, **{field: v}) for v in SEED["body"][field]]
        return out or None
    return None


@schemathesis.hook
def flatmap_path_parameters(ctx, params):
    seeded = _seeded_path(_operation_id(ctx), params)
    return st.sampled_from([params] + seeded) if seeded else st.just(params)


@schemathesis.hook
def flatmap_headers(ctx, headers):
    """Accepting terms names the version read: the seeded proposals are version 1."""
    if _operation_id(ctx) == "acceptPaymentTerms" and isinstance(headers, dict) and "If-Match" in headers:
        return st.sampled_from([headers, dict(headers, **{"If-Match": '"1"'})])
    return st.just(headers)


@schemathesis.hook
def flatmap_body(ctx, body):
    seeded = _seeded_bodies(_operation_id(ctx), body)
    return st.sampled_from([body] + seeded) if seeded else st.just(body)


@schemathesis.hook
def before_add_examples(ctx, examples):
    """The document's own examples, pointed at seeded rows: the examples phase then acts for real."""
    op_id = _operation_id(ctx)
    for case in examples:
        seeded = _seeded_path(op_id, case.path_parameters)
        if seeded:
            case.path_parameters = seeded[0]
        bodies = _seeded_bodies(op_id, case.body)
        if bodies:
            case.body = bodies[0]
        if op_id == "acceptPaymentTerms" and isinstance(case.headers, dict):
            case.headers["If-Match"] = '"1"'


# The statuses schemathesis.toml lets schema-valid requests receive beyond its defaults, and the only
# problem codes (`code`, or `errors[].code` for 422) that may come with them: rules about time, other
# rows or secrets that JSON Schema cannot state. Any other code under those statuses is a mismatch
# between the document and the server, and fails the run.
# What an invoice's content may be refused for beyond its schema: sums past the agreed amount or the
# largest amount, a discount of the whole subtotal or more, a due date already past.
INVOICE_CONTENT = {"exceeds_agreed_amount", "too_large", "zero_total", "exceeds_subtotal", "not_in_future",
                   "too_far"}

# What a webhook URL may be refused for beyond its schema: how it parses, and where it resolves.
WEBHOOK_URL = {"invalid_url", "https_required", "credentials_in_url", "forbidden_address",
               "unresolvable_host", "too_long"}
BUSINESS_REFUSALS = {
    "createWebhookEndpoint": {422: WEBHOOK_URL},
    "updateWebhookEndpoint": {422: WEBHOOK_URL, 412: {"precondition_failed"}},
    "listWebhookEndpoints": {400: {"invalid_cursor"}},
    "listWebhookDeliveries": {400: {"invalid_cursor"}},
    "listOrders": {400: {"invalid_cursor"}},
    "listServices": {400: {"invalid_cursor"}},
    "listOrderTransitions": {400: {"invalid_cursor"}},
    "createOrder": {
        422: {"not_in_future", "too_far", "unknown_service", "unknown_user", "self_order", "key_reused",
              "custom_orders_closed"},
    },
    "updateOrder": {422: {"not_in_future", "too_far", "not_allowed"}, 412: {"precondition_failed"}},
    "updateMe": {412: {"precondition_failed"}, 422: {"invalid_time_zone"}},
    "updateService": {412: {"precondition_failed"}},
    "createOrderTransition": {412: {"precondition_failed"}},
    "confirmPasswordReset": {422: {"invalid_token", "same_as_email"}},
    "createMessage": {422: {"unknown_attachment", "key_reused"}},
    "createDelivery": {422: {"unknown_attachment"}, 412: {"precondition_failed"}},
    "markMessagesRead": {422: {"unknown_message"}},
    "listMessages": {400: {"invalid_cursor", "conflicting_positions"}},
    "listDeliveries": {400: {"invalid_cursor"}},
    "getAttachmentContent": {416: {"range_not_satisfiable"}},
    "verifyEmail": {422: {"invalid_token"}},
    "listNotifications": {400: {"invalid_cursor"}},
    "listDeadLetters": {400: {"invalid_cursor"}},
    "putNotificationPreferences": {422: {"unknown_event_type", "channel_not_offered", "security_notification"}},
    "proposePaymentTerms": {
        412: {"precondition_failed"},
        422: {"not_in_future", "too_far", "currency_mismatch", "sum_mismatch", "milestone_count", "not_allowed",
              "after_due_at"},
    },
    "acceptPaymentTerms": {412: {"precondition_failed"}},
    "createInvoice": {422: INVOICE_CONTENT | {"unknown_order", "not_the_creative"}},
    "updateInvoice": {412: {"precondition_failed"}, 422: INVOICE_CONTENT},
    "deleteInvoice": {412: {"precondition_failed"}},
    "sendInvoice": {412: {"precondition_failed"}, 422: {"missing", "not_in_future", "exceeds_agreed_amount"}},
    "voidInvoice": {412: {"precondition_failed"}},
    "markInvoiceUncollectible": {412: {"precondition_failed"}},
    "markInvoicePaid": {412: {"precondition_failed"}, 422: {"paid_through_platform"}},
    "putBillingProfile": {412: {"precondition_failed"}},
    "listInvoices": {400: {"invalid_cursor"}},
    "listUserReviews": {400: {"invalid_cursor"}},
    "createReview": {422: {"not_allowed"}},
    "reorderOrder": {422: {"not_in_future", "too_far", "required", "custom_orders_closed", "key_reused"}},
    "listTickets": {400: {"invalid_cursor"}},
    "listAllTickets": {400: {"invalid_cursor"}},
    "searchUsers": {400: {"invalid_cursor"}},
    "listAuditLog": {400: {"invalid_cursor"}},
    "createTicket": {422: {"unknown_order", "order_required", "unknown_attachment"}},
    "replyToTicket": {422: {"unknown_attachment"}},
    "answerTicket": {422: {"unknown_attachment", "not_allowed"}},
    "assignTicket": {422: {"not_support"}},
    "extendDueDate": {422: {"not_later", "too_far"}, 412: {"precondition_failed"}},
    "resolveDispute": {422: {"exceeds_escrow", "currency_mismatch", "too_large"}, 412: {"precondition_failed"}},
    "listPayments": {400: {"invalid_cursor"}},
    "listPayouts": {400: {"invalid_cursor"}},
    "payInvoice": {422: {"amount_exceeds_due", "partial_not_allowed", "nothing_due", "currency_mismatch",
                         "unknown_currency", "key_reused", "invalid_payment_method"}},
    "refundPayment": {422: {"exceeds_refundable", "exceeds_escrow", "currency_mismatch", "unknown_currency",
                            "key_reused"}},
    "createPayout": {422: {"insufficient_balance", "payout_destination_required", "unknown_currency",
                           "key_reused"}},
    "putPayoutDestination": {412: {"precondition_failed"}, 422: {"invalid_iban"}},
}


@schemathesis.check
def refusals_of_valid_data_are_business_rules(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    allowed = BUSINESS_REFUSALS.get(case.operation.definition.raw.get("operationId"), {})
    if response.status_code not in allowed:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without a problem body")
    codes = {e.get("code") for e in body.get("errors", [])} if response.status_code == 422 else set()
    codes = codes or {body.get("code")}
    unexpected = codes - allowed[response.status_code]
    if unexpected:
        raise AssertionError(
            f"schema-valid request refused with {response.status_code} {sorted(unexpected)}: "
            "the document does not state this rule"
        )
    return None


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """Disabling is for the seeded throwaway accounts only: the stateful phase follows links (a user
    id from `GET /v1/admin/users`) and would otherwise disable the seeded creative, after which no
    order can be placed with them and the run proves nothing about ordering."""
    if case.operation.definition.raw.get("operationId") != "disableUser":
        return
    targets = SEED["path_ids"]["disableUser"]
    params = case.path_parameters or {}
    if _is_uuid(params.get("id")) and params["id"] not in targets:
        case.path_parameters = dict(params, id=targets[0])
