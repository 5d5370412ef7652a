DROP TABLE attachments;
DROP TABLE deliveries;
DROP TABLE message_reads;
DROP TABLE messages;
