"""The desk's domain: tickets, drafts, response targets, the fraud guard. No Telegram here."""
