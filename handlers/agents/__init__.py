"""The agents' side, in the bound agents' chat: replies, notes, status, priority, the
cards' buttons, the queue, bans."""
