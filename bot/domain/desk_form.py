"""What the new-ticket form offers (departments, priorities' targets) and accepts (the
limits on texts and files), read from the settings.

`Desk` (`bot.domain.desk`) inherits it.
"""

from __future__ import annotations

from bot.config import Department, ResponseTarget, Settings
from bot.domain.models import Attachment, Draft, Priority
from bot.domain.validation import FileProblem, check_attachment, check_file_kind


class DeskForm:
    """What the form offers and accepts: the desk's settings, as its handlers ask."""

    settings: Settings

    @property
    def departments(self) -> list[Department]:
        return list(self.settings.departments)

    def department(self, key: str) -> Department | None:
        return self.settings.department(key)

    def target(self, priority: Priority) -> ResponseTarget:
        return self.settings.response_targets[priority.value]

    @property
    def max_attachments(self) -> int:
        return self.settings.max_attachments

    @property
    def max_attachment_bytes(self) -> int:
        return self.settings.max_attachment_bytes

    @property
    def max_text_length(self) -> int:
        return self.settings.max_text_length

    @property
    def timezone(self) -> str:
        return self.settings.timezone

    def check_ticket_file(self, attachment: Attachment) -> FileProblem | None:
        """Why `attachment` can't be added to an existing ticket, or None.

        The same size and type limits as the form's. The count (`MAX_ATTACHMENTS`) is the
        form's: later files come one message at a time, and the flood control bounds those.
        """
        return check_file_kind(
            attachment,
            max_bytes=self.settings.max_attachment_bytes,
            allowed_types=self.settings.allowed_document_types,
        )

    def check_file(self, attachment: Attachment, draft: Draft) -> FileProblem | None:
        """Why `attachment` can't join the draft, or None."""
        if any(a.file_unique_id == attachment.file_unique_id for a in draft.attachments):
            return None  # the same file twice is harmless: it is kept once
        return check_attachment(
            attachment,
            already=len(draft.attachments),
            max_count=self.settings.max_attachments,
            max_bytes=self.settings.max_attachment_bytes,
            allowed_types=self.settings.allowed_document_types,
        )
