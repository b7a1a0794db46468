"""The Bot API method list (vendored in ``botapi_methods.json``) and parameter decoding."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

METHODS_FILE = Path(__file__).with_name("botapi_methods.json")
_SCALARS = frozenset({"int", "float", "bool", "str", "file"})
# PTB's Bot._send_message adds parse_mode to every send/edit request when
# telegram.ext.Defaults sets one, even for methods that lack it (editMessageReplyMarkup,
# sendSticker...). Telegram happens to ignore unknown parameters, but the fake refuses
# them, as the Bot API description allows: a bot must not rely on it (see bot/channels/telegram/telegram_bot.py).
PTB_DEFAULT_LEAKS: frozenset[str] = frozenset()


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    """400 with Telegram's "Bad Request: " prefix (PTB strips it from ``BadRequest.message``)."""
    return ApiError(400, f"Bad Request: {reason}")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file that arrived as a multipart part (PTB uploads ``InputFile`` this way)."""

    field: str
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    optional: bool
    types: tuple[Any, ...]  # e.g. ("int", "str") or (["array", ["MessageEntity"]],)

    @property
    def accepts_file(self) -> bool:
        return "file" in self.types


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    params: dict[str, Param]


@cache
def load_methods() -> dict[str, Method]:
    """Methods keyed by lower-case name: Telegram matches method names case-insensitively."""
    raw = json.loads(METHODS_FILE.read_text(encoding="utf-8"))
    methods: dict[str, Method] = {}
    for entry in raw:
        params = {
            p["name"]: Param(p["name"], bool(p["optional"]), tuple(p["type"]))
            for p in entry["params"]
        }
        methods[entry["name"].lower()] = Method(entry["name"], params)
    return methods


def _decode_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(f"can't parse parameter {name}: expected a Boolean")


def decode_value(param: Param, value: Any) -> Any:
    """Decode one value. Form bodies carry strings only; objects and arrays as JSON text."""
    if not isinstance(value, str):
        return value  # already typed (JSON body) or an upload
    types = param.types
    if "int" in types:
        try:
            return int(value)
        except ValueError:
            if "str" not in types:
                raise bad_request(
                    f"can't parse parameter {param.name}: expected an Integer"
                ) from None
    if "float" in types:
        try:
            return float(value)
        except ValueError:
            raise bad_request(f"can't parse parameter {param.name}: expected a Float") from None
    if "bool" in types:
        return _decode_bool(param.name, value)
    if any(not isinstance(t, str) or t not in _SCALARS for t in types):  # object/array: JSON
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            if "str" in types:
                return value
            raise bad_request(f"can't parse {param.name} JSON object") from None
    return value


def validate_params(
    method: Method, raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Check names against the schema and decode values.

    Returns ``(params, attachments)``: attachments are uploaded parts that are not a parameter
    themselves but are referenced as ``attach://<name>`` (media groups, thumbnails).
    """
    params: dict[str, Any] = {}
    attachments: dict[str, UploadedFile] = {}
    for name, value in raw.items():
        spec = method.params.get(name)
        if spec is None:
            if isinstance(value, UploadedFile):
                attachments[name] = value
                continue
            if name in PTB_DEFAULT_LEAKS:
                continue
            raise bad_request(f"unknown parameter {name}")
        if value is None:
            continue  # JSON null means "not given"
        if isinstance(value, UploadedFile) and not spec.accepts_file:
            raise bad_request(f"parameter {name} can't be a file")
        params[name] = decode_value(spec, value)
    for spec in method.params.values():
        if not spec.optional and spec.name not in params:
            raise bad_request(f"parameter {spec.name} is required")
    return params, attachments
