"""The Telegram channel: the bot, the agents' chat relay, the outbox, the limits, the runner."""
