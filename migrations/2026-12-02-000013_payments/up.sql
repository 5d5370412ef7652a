-- Payments through the platform, escrow and payouts, on a double-entry ledger.

-- Upfront terms accepted while the order was new: the creative may not start until escrow holds
-- the agreed amount. Kept on the order so the state machine reads it with the rest.
ALTER TABLE orders ADD COLUMN awaiting_payment boolean NOT NULL DEFAULT false;

-- One account per (kind, owner, currency). Owners: a user (client funding, creative available,
-- paid out), an order (escrow), or none (the platform's fees and money in flight).
CREATE TABLE ledger_accounts (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('client_funding', 'escrow', 'creative_available', 'paid_out',
                                       'platform_fees', 'refunds_in_flight', 'payouts_in_flight')),
    owner_id uuid,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- The sum of the account's entries, kept by the trigger below (and checked by `ledger check`)
    -- for accounts with an owner. The platform's own accounts keep no running balance: every
    -- completion and refund on the platform would queue on their one row; their balance is the
    -- sum of their entries.
    balance bigint NOT NULL DEFAULT 0,
    CHECK ((owner_id IS NULL) = (kind IN ('platform_fees', 'refunds_in_flight', 'payouts_in_flight'))),
    -- Money the platform holds for someone never goes below zero.
    CONSTRAINT ledger_accounts_not_overdrawn CHECK (kind IN ('client_funding', 'paid_out') OR balance >= 0)
);

CREATE UNIQUE INDEX ledger_accounts_key ON ledger_accounts
    (kind, coalesce(owner_id, '00000000-0000-0000-0000-000000000000'::uuid), currency);

CREATE TABLE ledger_transactions (
    id uuid PRIMARY KEY,
    -- What moved the money: payment_succeeded, escrow_released, refund_requested, refund_succeeded,
    -- refund_failed, payout_requested, payout_succeeded, payout_failed.
    kind text NOT NULL,
    order_id uuid REFERENCES orders (id),
    payment_id uuid,
    refund_id uuid,
    payout_id uuid,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_entries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id uuid NOT NULL REFERENCES ledger_transactions (id),
    account_id uuid NOT NULL REFERENCES ledger_accounts (id),
    amount bigint NOT NULL CHECK (amount <> 0),
    currency text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, created_at);

-- Each entry moves its account's balance, and must be in the account's currency.
CREATE FUNCTION ledger_entry_posts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account_currency text;
    account_owner uuid;
BEGIN
    SELECT currency, owner_id INTO account_currency, account_owner
        FROM ledger_accounts WHERE id = NEW.account_id;
    IF account_owner IS NOT NULL THEN
        UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id;
    END IF;
    IF account_currency IS DISTINCT FROM NEW.currency THEN
        RAISE EXCEPTION 'ledger entry in % on an account in %', NEW.currency, account_currency;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER ledger_entry_posts AFTER INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_posts();

-- Every transaction balances per currency, checked at commit (entries are written one by one).
CREATE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    off record;
BEGIN
    SELECT currency, sum(amount) AS total INTO off FROM ledger_entries
        WHERE transaction_id = NEW.transaction_id GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: % % left over',
            NEW.transaction_id, off.total, off.currency USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_transaction_balances AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();

-- The ledger is history: nothing in it changes or goes away.
CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();

CREATE TABLE payments (
    id uuid PRIMARY KEY,
    invoice_id uuid NOT NULL REFERENCES invoices (id),
    order_id uuid NOT NULL REFERENCES orders (id),
    client_id uuid NOT NULL REFERENCES users (id),
    creative_id uuid NOT NULL REFERENCES users (id),
    amount bigint NOT NULL CHECK (amount > 0),
    currency text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'requires_action', 'succeeded', 'failed')),
    provider text NOT NULL,
    provider_payment_id text,
    failure_code text,
    next_action jsonb,
    amount_refunded bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
    idempotency_key text NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    succeeded_at timestamptz,
    CONSTRAINT payments_one_per_key UNIQUE (client_id, idempotency_key)
);

CREATE INDEX payments_invoice_idx ON payments (invoice_id, id DESC);
CREATE INDEX payments_order_idx ON payments (order_id, id DESC);
CREATE INDEX payments_client_idx ON payments (client_id, id DESC);
CREATE INDEX payments_creative_idx ON payments (creative_id, id DESC);
CREATE INDEX payments_pending_idx ON payments (updated_at) WHERE status = 'pending';
CREATE UNIQUE INDEX payments_provider_idx ON payments (provider, provider_payment_id)
    WHERE provider_payment_id IS NOT NULL;

CREATE TABLE refunds (
    id uuid PRIMARY KEY,
    payment_id uuid NOT NULL REFERENCES payments (id),
    order_id uuid NOT NULL REFERENCES orders (id),
    amount bigint NOT NULL CHECK (amount > 0),
    currency text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason text NOT NULL,
    requested_by uuid REFERENCES users (id),
    provider_refund_id text,
    failure_code text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX refunds_payment_idx ON refunds (payment_id, id);
CREATE INDEX refunds_due_idx ON refunds (next_attempt_at) WHERE status = 'pending';

CREATE TABLE payout_destinations (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    iban text NOT NULL,
    account_holder text NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payouts (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    amount bigint NOT NULL CHECK (amount > 0),
    currency text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    iban_last4 text NOT NULL,
    failure_code text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    idempotency_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payouts_one_per_key UNIQUE (user_id, idempotency_key)
);

CREATE INDEX payouts_user_idx ON payouts (user_id, id DESC);
CREATE INDEX payouts_due_idx ON payouts (next_attempt_at) WHERE status = 'pending';

-- Stripe events acted on, so a replayed delivery changes nothing.
CREATE TABLE provider_events (
    id text PRIMARY KEY,
    provider text NOT NULL,
    event_type text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
