-- Who may send a creative custom orders: anyone, or only clients who have completed an order with
-- them. Service orders are always open: the creative published the service.
ALTER TABLE users ADD COLUMN custom_orders text NOT NULL DEFAULT 'anyone'
    CONSTRAINT users_custom_orders_check CHECK (custom_orders IN ('anyone', 'past_clients'));
