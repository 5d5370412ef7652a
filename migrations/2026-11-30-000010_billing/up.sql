-- Payment terms, billing details and invoices.

CREATE TABLE billing_profiles (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    legal_name text NOT NULL,
    address_lines text[] NOT NULL,
    country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    tax_id text,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every proposal made on an order, numbered 1, 2, 3… per order: the newest is the current proposal,
-- the newest accepted one binds. Rows are never deleted, so the history stays.
CREATE TABLE payment_terms (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    version bigint NOT NULL CHECK (version >= 1),
    proposed_by uuid NOT NULL REFERENCES users (id),
    proposer_role text NOT NULL CHECK (proposer_role IN ('client', 'creative')),
    amount bigint NOT NULL CHECK (amount > 0),
    currency text NOT NULL,
    method text NOT NULL CHECK (method IN ('card', 'bank_transfer', 'paypal')),
    schedule text NOT NULL CHECK (schedule IN ('upfront', 'on_delivery', 'milestones')),
    due_at timestamptz NOT NULL,
    milestones jsonb NOT NULL DEFAULT '[]',
    accepted_by uuid REFERENCES users (id),
    accepted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payment_terms_order_version UNIQUE (order_id, version),
    CHECK ((accepted_by IS NULL) = (accepted_at IS NULL)),
    CHECK (accepted_by IS NULL OR accepted_by <> proposed_by)
);

-- The last number each creative gave an invoice, per year. Sending takes this row's lock until
-- commit, so two sends never share a number, and a rolled-back send gives its number back.
CREATE TABLE invoice_counters (
    issuer_id uuid NOT NULL REFERENCES users (id),
    year integer NOT NULL,
    last_number integer NOT NULL CHECK (last_number >= 1),
    PRIMARY KEY (issuer_id, year)
);

CREATE TABLE invoices (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    issuer_id uuid NOT NULL REFERENCES users (id),
    recipient_id uuid NOT NULL REFERENCES users (id),
    status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    number text,
    currency text NOT NULL,
    line_items jsonb NOT NULL,
    discount_amount_off bigint,
    discount_percent_off_bps integer,
    tax_rate_bps integer NOT NULL DEFAULT 0 CHECK (tax_rate_bps BETWEEN 0 AND 10000),
    subtotal bigint NOT NULL CHECK (subtotal > 0),
    discount_amount bigint NOT NULL CHECK (discount_amount >= 0),
    tax_amount bigint NOT NULL CHECK (tax_amount >= 0),
    total bigint NOT NULL CHECK (total > 0),
    amount_paid bigint NOT NULL DEFAULT 0,
    due_at timestamptz,
    memo text,
    issuer_billing jsonb,
    recipient_billing jsonb,
    paid_out_of_band boolean NOT NULL DEFAULT false,
    payment_method text,
    payment_reference text,
    version bigint NOT NULL DEFAULT 1,
    sent_at timestamptz,
    paid_at timestamptz,
    voided_at timestamptz,
    marked_uncollectible_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invoices_issuer_number UNIQUE (issuer_id, number),
    CHECK ((status = 'draft') = (number IS NULL)),
    CHECK ((status = 'draft') = (sent_at IS NULL)),
    CHECK (status = 'draft' OR issuer_billing IS NOT NULL),
    CHECK (amount_paid >= 0 AND amount_paid <= total),
    CHECK ((status = 'paid') = (amount_paid = total)),
    CHECK (total = subtotal - discount_amount + tax_amount),
    CHECK (discount_amount_off IS NULL OR discount_percent_off_bps IS NULL)
);

CREATE INDEX invoices_issuer_newest ON invoices (issuer_id, id DESC);
CREATE INDEX invoices_recipient_newest ON invoices (recipient_id, id DESC) WHERE status <> 'draft';
CREATE INDEX invoices_order ON invoices (order_id);
