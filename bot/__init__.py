"""The support desk bot: settings, application wiring and the domain."""

import os

# PTB 22 reports RetryAfter.retry_after as a timedelta only when this is set, and warns on
# the int form; the desk reads it as a timedelta everywhere.
os.environ.setdefault("PTB_TIMEDELTA", "1")
