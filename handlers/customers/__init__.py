"""The customers' side, in their private chat with the bot: the new-ticket form, their
tickets, their replies, ratings, the FAQ, /start and the menus, and their limits."""
