"""The adapters: MongoDB (read models, queries, reports), SP4N-LAPOR!, IMAP and WhatsApp."""
