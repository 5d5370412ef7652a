ALTER TABLE users DROP COLUMN custom_orders;
