DROP TABLE idempotency_keys;
DROP TABLE cancellation_requests;
DROP TABLE order_transitions;
DROP TABLE orders;
DROP TABLE services;
