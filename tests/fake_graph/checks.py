"""The Cloud API's limits on the messages the bot sends, as plain functions.

Each raises :class:`~.payloads.GraphError` the way the Cloud API refuses: 131009 for a value
out of its limits, 100 for an unknown media id, 132001 for a template that is not approved.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from .payloads import JSON, GraphError, invalid


def check_shape(body: JSON, *, media_ids: Collection[str], templates: Collection[str]) -> str:
    """Check a ``/messages`` body; return its type (the 24-hour window is the caller's)."""
    if body.get("messaging_product") != "whatsapp" or not body.get("to"):
        raise invalid("messaging_product must be whatsapp and to is required")
    typ = body.get("type")

    def media(content: JSON) -> None:
        _check_media_ref(str(typ), content, media_ids)

    def template(content: JSON) -> None:
        _check_template(content, templates)

    checks: dict[str, Callable[[JSON], None]] = {
        "text": _check_text,
        "image": media,
        "document": media,
        "interactive": _check_interactive,
        "template": template,
    }
    if not isinstance(typ, str) or typ not in checks or not isinstance(body.get(typ), dict):
        raise invalid(f"unsupported message type {typ!r}")
    checks[typ](body[typ])
    return typ


def _check_text(text: JSON) -> None:
    body = text.get("body")
    if not isinstance(body, str) or not body or len(body) > 4096:
        raise invalid("text.body must be 1..4096 characters")


def _check_media_ref(typ: str, media: JSON, media_ids: Collection[str]) -> None:
    if "id" in media:
        if str(media["id"]) not in media_ids:
            raise GraphError(100, f"(#100) Invalid parameter: unknown {typ} id {media['id']}")
    elif not isinstance(media.get("link"), str):
        raise invalid(f"{typ} needs an id or a link")


def _check_interactive(msg: JSON) -> None:
    kind, action = msg.get("type"), msg.get("action") or {}
    text = (msg.get("body") or {}).get("text")
    if not isinstance(text, str) or not text or len(text) > 1024:
        raise invalid("body.text must be 1..1024 characters")
    if kind == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= 3:
            raise invalid("buttons must have 1..3 elements")
        replies = [b.get("reply") or {} for b in buttons]
        ids = [str(r.get("id", "")) for r in replies]
        if any(not r.get("title") or len(r["title"]) > 20 for r in replies):
            raise invalid("button title must be 1..20 characters")
        if len(set(ids)) != len(ids) or any(not i or len(i) > 256 for i in ids):
            raise invalid("button ids must be unique and 1..256 characters")
    elif kind == "list":
        sections = action.get("sections") or []
        rows = [row for s in sections for row in s.get("rows") or []]
        label = action.get("button")
        if not isinstance(label, str) or not label or len(label) > 20:
            raise invalid("action.button must be 1..20 characters")
        if not 1 <= len(sections) <= 10 or not 1 <= len(rows) <= 10:
            raise invalid("a list has 1..10 sections and 1..10 rows in all")
        ids = [str(r.get("id", "")) for r in rows]
        if any(not r.get("title") or len(r["title"]) > 24 for r in rows):
            raise invalid("row title must be 1..24 characters")
        if any(len(r.get("description", "")) > 72 for r in rows):
            raise invalid("row description must be at most 72 characters")
        if len(set(ids)) != len(ids) or any(not i or len(i) > 200 for i in ids):
            raise invalid("row ids must be unique and 1..200 characters")
    else:
        raise invalid(f"unsupported interactive type {kind!r}")


def _check_template(template: JSON, templates: Collection[str]) -> None:
    name = template.get("name")
    if name not in templates:
        raise GraphError(
            132001, f"(#132001) Template name does not exist in the translation: {name}"
        )
    if not (template.get("language") or {}).get("code"):
        raise invalid("template.language.code is required")
