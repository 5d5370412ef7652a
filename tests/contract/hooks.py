"""Schemathesis hooks: point some generated ids and secrets at rows the seed created, so operations
reach their business logic instead of answering 404 to random ids. Only values that are already valid
(a UUID where a UUID is expected, a body with exactly the expected fields) are replaced, so a negative
test case stays negative."""

import json
import os
import uuid

import schemathesis
from hypothesis import strategies as st

with open(os.environ["CONTRACT_SEED"]) as f:
    SEED = json.load(f)


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

# Bodies whose secret fields may be swapped for seeded ones, and the exact keys they must have.
SECRET_BODIES = {
    "confirmPasswordReset": ({"token", "password"}, "token"),
    "refreshToken": ({"refresh_token"}, "refresh_token"),
    "logout": ({"refresh_token"}, "refresh_token"),
}


def _operation_id(ctx):
    op = getattr(ctx, "operation", None)
    return op.definition.raw.get("operationId") if op is not None else None


def _is_uuid(value):
    try:
        uuid.UUID(str(value))
        return isinstance(value, str)
    except ValueError:
        return False


def _seeded_path(op_id, params):
    ids = SEED["path_ids"].get(op_id)
    if not ids or not isinstance(params, dict) or not _is_uuid(params.get("id")):
        return None
    return [dict(params, id=i) for i in ids]


def _seeded_bodies(op_id, body):
    if not isinstance(body, dict):
        return None
    if op_id in SECRET_BODIES:
        keys, field = SECRET_BODIES[op_id]
        value = body.get(field)
        if set(body) != keys or not isinstance(value, str) or not 1 <= len(value) <= 256:
            return None
        return [dict(body, **{field: v}) for v in SEED["body"][field]]
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
