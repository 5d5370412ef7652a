DROP TABLE invoices;
DROP TABLE invoice_counters;
DROP TABLE payment_terms;
DROP TABLE billing_profiles;
