"""The operators' side (`OPERATOR_IDS`): languages, figures, the export, data requests,
audits.

- `settings.py`: the desk's settings (/locale);
- `reports.py`: the figures and the tickets (/stats, /export);
- `data.py`: data requests and the trails (/forget, /audit, and their buttons);
- `common.py`: what they share (who may ask, where, and answering there).
"""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.channels.telegram.context import SupportApp
from handlers.callbacks import OPERATORS
from handlers.operators.data import audit, forget, operator_pressed
from handlers.operators.reports import export, stats
from handlers.operators.settings import set_locale


def register(application: SupportApp) -> None:
    application.add_handler(CommandHandler("locale", set_locale))
    application.add_handler(CommandHandler("stats", stats))
    application.add_handler(CommandHandler("export", export))
    application.add_handler(CommandHandler("forget", forget))
    application.add_handler(CommandHandler("audit", audit))
    application.add_handler(CallbackQueryHandler(operator_pressed, pattern=OPERATORS.pattern()))
