"""The handler groups, in the order PTB tries them: the one table of them.

PTB runs one handler per group, the groups in ascending order; a handler that raises
`ApplicationHandlerStop` ends the update there (after noting it handled, see
`handlers.gate.stop_here`).
"""

from __future__ import annotations

SKIP_HANDLED = -4  # drop an update handled before a restart (bot/app.py)
MIDDLEWARE = -3  # the user and their language (handlers/middleware.py)
GATE = -2  # bound chat, members, bans, forged buttons (handlers/gate.py)
FORM = -1  # an open new-ticket form takes whatever its customer sends (new_ticket)
FEATURES = 0  # every feature, first match wins (the order in handlers/__init__.py)
AFTER = 99  # note the update handled, wake the outbox (bot/app.py)
