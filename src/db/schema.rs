// Diesel's view of the tables in `migrations/`; keep in step with them (the tests run every query).

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        display_name -> Text,
        bio -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        time_zone -> Text,
        is_admin -> Bool,
        disabled_at -> Nullable<Timestamptz>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        custom_orders -> Text,
        email_verified_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notification_deliveries (id) {
        id -> Uuid,
        event_id -> Uuid,
        recipient_id -> Uuid,
        channel -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        batch_order_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        user_id -> Uuid,
        event_id -> Uuid,
        event_type -> Text,
        order_id -> Nullable<Uuid>,
        title -> Text,
        body -> Text,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notification_preferences (user_id, event_type, channel) {
        user_id -> Uuid,
        event_type -> Text,
        channel -> Text,
        enabled -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    email_verification_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        email -> Text,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        family_id -> Uuid,
        user_id -> Uuid,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    password_reset_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    outbox_events (id) {
        id -> Uuid,
        event_type -> Text,
        aggregate_type -> Text,
        aggregate_id -> Uuid,
        recipients -> Array<Uuid>,
        payload -> Jsonb,
        created_at -> Timestamptz,
        dispatched_at -> Nullable<Timestamptz>,
        txid -> Nullable<Int8>,
    }
}

diesel::table! {
    services (id) {
        id -> Uuid,
        creative_id -> Uuid,
        title -> Text,
        description -> Text,
        price_amount -> Int8,
        price_currency -> Text,
        delivery_days -> Int4,
        revisions_included -> Int4,
        archived_at -> Nullable<Timestamptz>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        client_id -> Uuid,
        creative_id -> Uuid,
        service_id -> Nullable<Uuid>,
        title -> Text,
        requirements -> Text,
        price_amount -> Int8,
        price_currency -> Text,
        due_at -> Timestamptz,
        revisions_included -> Int4,
        revisions_used -> Int4,
        status -> Text,
        version -> Int8,
        delivered_at -> Nullable<Timestamptz>,
        auto_complete_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        first_response_at -> Nullable<Timestamptz>,
        first_delivered_at -> Nullable<Timestamptz>,
        first_delivery_on_time -> Nullable<Bool>,
        awaiting_payment -> Bool,
    }
}

diesel::table! {
    ledger_accounts (id) {
        id -> Uuid,
        kind -> Text,
        owner_id -> Nullable<Uuid>,
        currency -> Text,
        balance -> Int8,
    }
}

diesel::table! {
    ledger_transactions (id) {
        id -> Uuid,
        kind -> Text,
        order_id -> Nullable<Uuid>,
        payment_id -> Nullable<Uuid>,
        refund_id -> Nullable<Uuid>,
        payout_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> Int8,
        transaction_id -> Uuid,
        account_id -> Uuid,
        amount -> Int8,
        currency -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    payments (id) {
        id -> Uuid,
        invoice_id -> Uuid,
        order_id -> Uuid,
        client_id -> Uuid,
        creative_id -> Uuid,
        amount -> Int8,
        currency -> Text,
        status -> Text,
        provider -> Text,
        provider_payment_id -> Nullable<Text>,
        failure_code -> Nullable<Text>,
        next_action -> Nullable<Jsonb>,
        amount_refunded -> Int8,
        idempotency_key -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        succeeded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refunds (id) {
        id -> Uuid,
        payment_id -> Uuid,
        order_id -> Uuid,
        amount -> Int8,
        currency -> Text,
        status -> Text,
        reason -> Text,
        requested_by -> Nullable<Uuid>,
        provider_refund_id -> Nullable<Text>,
        failure_code -> Nullable<Text>,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    payout_destinations (user_id) {
        user_id -> Uuid,
        iban -> Text,
        account_holder -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    payouts (id) {
        id -> Uuid,
        user_id -> Uuid,
        amount -> Int8,
        currency -> Text,
        status -> Text,
        iban_last4 -> Text,
        failure_code -> Nullable<Text>,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        idempotency_key -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    provider_events (id) {
        id -> Text,
        provider -> Text,
        event_type -> Text,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    order_transitions (id) {
        id -> Uuid,
        order_id -> Uuid,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor_id -> Nullable<Uuid>,
        actor_role -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    cancellation_requests (id) {
        id -> Uuid,
        order_id -> Uuid,
        requested_by -> Uuid,
        requester_role -> Text,
        reason -> Text,
        status -> Text,
        auto_accept_at -> Timestamptz,
        resolved_by -> Nullable<Uuid>,
        resolved_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Uuid,
        key -> Text,
        request_hash -> Bytea,
        response_status -> Nullable<Int4>,
        response_body -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        response_headers -> Jsonb,
        owner -> Uuid,
    }
}

diesel::table! {
    messages (id) {
        id -> Uuid,
        order_id -> Uuid,
        sender_id -> Nullable<Uuid>,
        sender_role -> Text,
        kind -> Text,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    message_reads (user_id, order_id) {
        order_id -> Uuid,
        user_id -> Uuid,
        last_read_id -> Uuid,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Uuid,
        order_id -> Uuid,
        message_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    attachments (id) {
        id -> Uuid,
        order_id -> Nullable<Uuid>,
        uploaded_by -> Uuid,
        filename -> Text,
        content_type -> Text,
        size -> Int8,
        sha256 -> Bytea,
        message_id -> Nullable<Uuid>,
        delivery_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        ticket_id -> Nullable<Uuid>,
        support_message_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    support_tickets (id) {
        id -> Uuid,
        user_id -> Uuid,
        order_id -> Nullable<Uuid>,
        subject -> Text,
        status -> Text,
        assigned_to -> Nullable<Uuid>,
        resolved_at -> Nullable<Timestamptz>,
        message_count -> Int4,
        note_count -> Int4,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    support_messages (id) {
        id -> Uuid,
        ticket_id -> Uuid,
        author_id -> Uuid,
        author_role -> Text,
        internal -> Bool,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Uuid,
        actor_id -> Uuid,
        action -> Text,
        target_type -> Text,
        target_id -> Uuid,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        request_id -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    billing_profiles (user_id) {
        user_id -> Uuid,
        legal_name -> Text,
        address_lines -> Array<Text>,
        country -> Text,
        tax_id -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    payment_terms (id) {
        id -> Uuid,
        order_id -> Uuid,
        version -> Int8,
        proposed_by -> Uuid,
        proposer_role -> Text,
        amount -> Int8,
        currency -> Text,
        method -> Text,
        schedule -> Text,
        due_at -> Timestamptz,
        milestones -> Jsonb,
        accepted_by -> Nullable<Uuid>,
        accepted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    invoice_counters (issuer_id, year) {
        issuer_id -> Uuid,
        year -> Int4,
        last_number -> Int4,
    }
}

diesel::table! {
    invoices (id) {
        id -> Uuid,
        order_id -> Uuid,
        issuer_id -> Uuid,
        recipient_id -> Uuid,
        status -> Text,
        number -> Nullable<Text>,
        currency -> Text,
        line_items -> Jsonb,
        discount_amount_off -> Nullable<Int8>,
        discount_percent_off_bps -> Nullable<Int4>,
        tax_rate_bps -> Int4,
        subtotal -> Int8,
        discount_amount -> Int8,
        tax_amount -> Int8,
        total -> Int8,
        amount_paid -> Int8,
        due_at -> Nullable<Timestamptz>,
        memo -> Nullable<Text>,
        issuer_billing -> Nullable<Jsonb>,
        recipient_billing -> Nullable<Jsonb>,
        paid_out_of_band -> Bool,
        payment_method -> Nullable<Text>,
        payment_reference -> Nullable<Text>,
        version -> Int8,
        sent_at -> Nullable<Timestamptz>,
        paid_at -> Nullable<Timestamptz>,
        voided_at -> Nullable<Timestamptz>,
        marked_uncollectible_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    reviews (id) {
        id -> Uuid,
        order_id -> Uuid,
        author_id -> Uuid,
        subject_id -> Uuid,
        author_role -> Text,
        rating -> Int2,
        comment -> Nullable<Text>,
        communication -> Nullable<Int2>,
        quality -> Nullable<Int2>,
        timeliness -> Nullable<Int2>,
        clarity -> Nullable<Int2>,
        published_at -> Nullable<Timestamptz>,
        window_closes_at -> Timestamptz,
        reply -> Nullable<Text>,
        replied_at -> Nullable<Timestamptz>,
        hidden_at -> Nullable<Timestamptz>,
        hidden_by -> Nullable<Uuid>,
        hidden_reason -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    user_ratings (user_id, role) {
        user_id -> Uuid,
        role -> Text,
        review_count -> Int4,
        rating_sum -> Int4,
        communication_sum -> Int4,
        communication_count -> Int4,
        quality_sum -> Int4,
        quality_count -> Int4,
        timeliness_sum -> Int4,
        timeliness_count -> Int4,
        clarity_sum -> Int4,
        clarity_count -> Int4,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (family_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(password_reset_tokens -> users (user_id));
diesel::joinable!(notification_deliveries -> outbox_events (event_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(email_verification_tokens -> users (user_id));
diesel::joinable!(services -> users (creative_id));
diesel::joinable!(order_transitions -> orders (order_id));
diesel::joinable!(messages -> orders (order_id));
diesel::joinable!(deliveries -> orders (order_id));
diesel::joinable!(deliveries -> messages (message_id));
diesel::joinable!(attachments -> orders (order_id));
diesel::joinable!(cancellation_requests -> orders (order_id));
diesel::joinable!(payment_terms -> orders (order_id));
diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        owner_id -> Uuid,
        url -> Text,
        description -> Nullable<Text>,
        events -> Array<Text>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        failing_since -> Nullable<Timestamptz>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Uuid,
        delivery_id -> Uuid,
        endpoint_id -> Uuid,
        event_id -> Uuid,
        event_type -> Text,
        attempt -> Int4,
        succeeded -> Bool,
        status_code -> Nullable<Int4>,
        latency_ms -> Int4,
        response_excerpt -> Nullable<Text>,
        error -> Nullable<Text>,
        attempted_at -> Timestamptz,
    }
}

diesel::joinable!(invoices -> orders (order_id));
diesel::joinable!(reviews -> orders (order_id));
diesel::joinable!(billing_profiles -> users (user_id));
diesel::joinable!(support_messages -> support_tickets (ticket_id));
diesel::joinable!(ledger_entries -> ledger_accounts (account_id));
diesel::joinable!(ledger_entries -> ledger_transactions (transaction_id));
diesel::joinable!(refunds -> payments (payment_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    notification_deliveries,
    notifications,
    notification_preferences,
    email_verification_tokens,
    refresh_tokens,
    sessions,
    password_reset_tokens,
    outbox_events,
    services,
    orders,
    messages,
    message_reads,
    deliveries,
    attachments,
    order_transitions,
    cancellation_requests,
    idempotency_keys,
    billing_profiles,
    payment_terms,
    invoice_counters,
    invoices,
    reviews,
    user_ratings,
    support_tickets,
    support_messages,
    audit_log,
    ledger_accounts,
    ledger_transactions,
    ledger_entries,
    payments,
    refunds,
    payout_destinations,
    payouts,
    provider_events,
    webhook_endpoints,
    webhook_attempts,
);
