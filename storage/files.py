"""KeptFiles: files the desk keeps itself, for a channel whose files expire.

A WhatsApp media id lives for a short time only (the Cloud API deletes it after 30 days,
its download URL after minutes), so a customer's file is downloaded as it arrives and
kept here, beside the database. Its attachment's `file_id` is `kept:<name>`; Telegram
uploads it from here (`bot/channels/telegram/sending.py`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

KEPT = "kept:"


class KeptFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def keep(self, data: bytes, suffix: str = "") -> str:
        """Write `data` once (named by its hash) and return the attachment's file_id."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(data).hexdigest()[:32] + suffix
        path = self.directory / name
        if not path.exists():
            part = path.with_suffix(path.suffix + ".part")
            part.write_bytes(data)
            part.replace(path)  # never a half-written file under its final name
        return KEPT + name

    def path(self, file_id: str) -> Path | None:
        """The kept file behind a file_id, or None for a channel's own file id."""
        if not file_id.startswith(KEPT):
            return None
        name = file_id.removeprefix(KEPT)
        if "/" in name or "\\" in name or name.startswith("."):
            return None
        return self.directory / name

    def remove(self, file_ids: list[str]) -> None:
        """Delete kept files (a forgotten customer's); a channel's own ids are left."""
        for file_id in file_ids:
            path = self.path(file_id)
            if path is not None:
                path.unlink(missing_ok=True)
