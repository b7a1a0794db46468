"""Settings: one pydantic-settings class, read from the environment and `.env`, validated once."""

from __future__ import annotations

import json
import os
import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "id", "sv")
Locale = Literal["en", "id", "sv"]
PriorityKey = Literal["low", "medium", "high", "critical"]

_ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(value: Any) -> timedelta:
    """Read a duration given as seconds (`90`) or ISO 8601 (`PT90S`, `P3D`, `P1DT2H`)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().upper()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        else:
            match = _ISO_DURATION.match(text)
            if match is None:
                raise ValueError("expected seconds (90) or an ISO 8601 duration (PT90S, P3D)")
            parts = {k: float(v) for k, v in match.groupdict().items() if v}
            return timedelta(**parts)
    else:
        raise ValueError("expected seconds (90) or an ISO 8601 duration (PT90S, P3D)")
    if seconds < 0:
        raise ValueError("a duration can't be negative")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


def _days_off(value: Any) -> Any:
    """Read company days off: ISO dates and inclusive ranges, comma-separated
    (`2026-12-24,2026-12-28..2026-12-31`)."""
    if not isinstance(value, str):
        return value
    days: list[date] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        first, _, last = part.partition("..")
        try:
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if last else start
        except ValueError:
            raise ValueError(
                f"{part!r} is not a date (2026-12-24) or a range (2026-12-28..2026-12-31)"
            ) from None
        if end < start:
            raise ValueError(f"{part!r} ends before it starts")
        days.extend(start + timedelta(days=n) for n in range((end - start).days + 1))
    return days


def _country(value: Any) -> Any:
    """An ISO 3166 country code the `holidays` package knows, or `none` for no holidays."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("expected an ISO country code such as ID")
    code = value.strip().upper()
    if code in {"NONE", "-"}:
        return None
    import holidays  # imported here: only this setting needs it, and it is not small

    if code not in holidays.list_supported_countries():
        raise ValueError(f"{value!r} is not a country the holidays package knows (ISO 3166: ID)")
    return code


def _json(value: Any) -> Any:
    """Decode a JSON setting here rather than in pydantic-settings.

    pydantic-settings raises its own exception, not a ValidationError, on the first broken
    JSON value, so every other bad setting would go unreported; decoded here, a broken
    value is one more validation error among the others.
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None


JsonSetting = BeforeValidator(_json)


def _writable_database(path: Path) -> Path:
    """Refuse a database path the bot could never write, before anything is opened.

    Only what can be told without creating anything: the nearest existing folder must be a
    folder we may write in, and an existing file must be a writable file. (The super-user
    passes these checks on any path; opening the database catches the rest.)
    """
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a file")
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise ValueError(f"{path} is read-only")
        return path
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise ValueError(f"can't create its folder: {folder} is a file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"can't create it: no write permission in {folder}")
    return path


def postgres_url(url: SecretStr) -> SecretStr:
    """`postgresql://user:password@host:port/name` (or `postgres://`, or with `+asyncpg`)."""
    value = url.get_secret_value().strip()
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme.split("+", 1)[0] not in ("postgresql", "postgres") or scheme.split("+")[1:] not in (
        [],
        ["asyncpg"],
    ):
        raise ValueError("must be a PostgreSQL URL: postgresql://user:password@host:5432/name")
    if scheme == "postgres":
        value = "postgresql" + value[len("postgres") :]
    return SecretStr(value)


def _postgres_url_or_none(url: SecretStr | None) -> SecretStr | None:
    return None if url is None else postgres_url(url)


class Department(BaseModel):
    """A department a customer can file a ticket with.

    The three built-in keys (`technical`, `billing`, `sales`) take their label and hint
    from the message catalogs. A custom department must bring its own text for every
    supported locale, since the catalogs can't know about it.
    """

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")]
    labels: dict[str, str] = Field(default_factory=dict)
    hints: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels", "hints")
    @classmethod
    def _known_locales(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(SUPPORTED_LOCALES))
        if unknown:
            raise ValueError(f"unknown locale(s) {', '.join(unknown)}")
        return value


BUILTIN_DEPARTMENTS: frozenset[str] = frozenset({"technical", "billing", "sales"})


class ResponseTarget(BaseModel):
    """How fast a priority must get its first answer.

    `due` is the promise we measure against (the upper end of the published range).
    `business_hours` counts only the working week (Low: 1–2 business days).
    """

    lower: Duration
    due: Duration
    business_hours: bool = False


def _default_targets() -> dict[PriorityKey, ResponseTarget]:
    return {
        "critical": ResponseTarget(lower=timedelta(hours=1), due=timedelta(hours=2)),
        "high": ResponseTarget(lower=timedelta(hours=4), due=timedelta(hours=6)),
        "medium": ResponseTarget(lower=timedelta(hours=24), due=timedelta(hours=24)),
        # One business day is one working day of the configured business hours.
        "low": ResponseTarget(lower=timedelta(days=1), due=timedelta(days=2), business_hours=True),
    }


class BusinessHours(BaseModel):
    """The working week in `TIMEZONE`: weekdays (0 = Monday) and the daily window."""

    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    start: time = time(9, 0)
    end: time = time(18, 0)

    @model_validator(mode="after")
    def _window_is_positive(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not self.days:
            raise ValueError("at least one working day is needed")
        return self


class Settings(BaseSettings):
    """Every setting of the bot. Names are the environment variables, case-insensitive."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_nested_delimiter="__",
        # `ADMIN_CHAT_ID=` in a .env means "not set", not "an empty number".
        env_ignore_empty=True,
    )

    bot_token: SecretStr
    telegram_api_url: str = "https://api.telegram.org"
    admin_chat_id: int | None = None
    operator_ids: Annotated[list[int], NoDecode, BeforeValidator(_split_csv)] = Field(
        default_factory=list
    )
    database_path: Annotated[Path, AfterValidator(_writable_database)] = Path("data/support.db")
    # PostgreSQL instead of the SQLite file (several workers can then share the desk);
    # secret, as it usually holds a password. DATABASE_PATH's folder still keeps the files.
    database_url: Annotated[SecretStr | None, AfterValidator(_postgres_url_or_none)] = None
    default_locale: Locale = "en"
    # The agents' chat's language; unset: DEFAULT_LOCALE (an operator may change either).
    admin_locale: Locale | None = None
    timezone: str = "Asia/Jakarta"
    # Public holidays are days off for the response targets: the country's ISO code
    # (`none` for none), plus the company's own days off (dates and `a..b` ranges).
    holidays: Annotated[str | None, BeforeValidator(_country)] = "ID"
    extra_holidays: Annotated[list[date], NoDecode, BeforeValidator(_days_off)] = Field(
        default_factory=list
    )
    auto_solve_after: Duration = timedelta(days=3)
    auto_close_after: Duration = timedelta(days=7)

    # How long one Bot API request may take before it counts as timed out (and is retried).
    telegram_timeout: Duration = timedelta(seconds=10)

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"  # noqa: S104 - a webhook server listens on all interfaces
    webhook_port: int = Field(default=8443, ge=1, le=65535)

    # WhatsApp (Cloud API): on when the token, phone number id, app secret and verify token
    # are all set; its webhook is served at {WEBHOOK_LISTEN}:{WEBHOOK_PORT}/whatsapp.
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "22.0"
    # The approved template sent outside the 24-hour window (parameters: the ticket's number
    # and a short status), in the customer's language (codes id, sv, en unless mapped).
    whatsapp_template_update: str = "ticket_update"
    whatsapp_template_languages: Annotated[dict[str, str], NoDecode, JsonSetting] = Field(
        default_factory=lambda: {"id": "id", "sv": "sv", "en": "en"}
    )
    # Messages a second the Cloud API takes from one business number (its default tier).
    whatsapp_rate: float = Field(default=20.0, gt=0, le=1000)

    departments: Annotated[list[Department], NoDecode, JsonSetting] = Field(
        default_factory=lambda: [Department(key=k) for k in ("technical", "billing", "sales")]
    )
    response_targets: Annotated[dict[PriorityKey, ResponseTarget], NoDecode, JsonSetting] = Field(
        default_factory=_default_targets
    )
    business_hours: Annotated[BusinessHours, NoDecode, JsonSetting] = Field(
        default_factory=BusinessHours
    )

    max_attachments: int = Field(default=10, ge=0, le=50)
    # The Bot API lets a bot download files up to 20 MB; anything larger could never be read.
    max_attachment_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    allowed_document_types: Annotated[list[str], NoDecode, BeforeValidator(_split_csv)] = Field(
        default_factory=lambda: [
            "application/pdf",
            "image/*",
            "text/plain",
            "text/csv",
            "application/zip",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ]
    )
    conversation_timeout: Duration = timedelta(hours=1)
    # Shown to customers as the sender of agents' replies; unset: the agent's first name.
    team_name: str | None = None
    # How often the desk looks for missed response targets and tickets without a card.
    sweep_interval: Duration = timedelta(seconds=60)
    # Telegram's own limit for one message (a longer paste arrives in several).
    max_text_length: int = Field(default=4096, ge=100, le=20000)
    # Flood control: messages one customer may send in a minute before the bot stops
    # answering them one by one (an album counts once), and their active tickets at once.
    customer_rate_limit: int = Field(default=20, ge=1, le=1000)
    max_open_tickets: int = Field(default=5, ge=1, le=100)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]{5,}", value.get_secret_value()):
            raise ValueError("expected the form 123456:ABC... given by BotFather")
        return value

    @field_validator("whatsapp_phone_number_id")
    @classmethod
    def _phone_number_id(cls, value: str | None) -> str | None:
        if value is not None and not value.isdigit():
            raise ValueError("expected the numeric phone number id from the WhatsApp Manager")
        return value

    @model_validator(mode="after")
    def _whatsapp_whole(self) -> Settings:
        given = {
            "WHATSAPP_TOKEN": self.whatsapp_token,
            "WHATSAPP_PHONE_NUMBER_ID": self.whatsapp_phone_number_id,
            "WHATSAPP_APP_SECRET": self.whatsapp_app_secret,
            "WHATSAPP_VERIFY_TOKEN": self.whatsapp_verify_token,
        }
        missing = [name for name, value in given.items() if value is None]
        if 0 < len(missing) < len(given):
            raise ValueError(f"WhatsApp needs {', '.join(missing)} as well (or none of them)")
        return self

    @property
    def whatsapp_enabled(self) -> bool:
        return self.whatsapp_token is not None

    @field_validator("telegram_api_url", "webhook_url", "whatsapp_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http(s):// URL")
        return value.rstrip("/")

    @field_validator("admin_chat_id")
    @classmethod
    def _group_id(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError("a group or supergroup id is negative (like -1001234567890)")
        return value

    @field_validator("departments")
    @classmethod
    def _departments_have_text(cls, value: list[Department]) -> list[Department]:
        if not value:
            raise ValueError("at least one department is needed")
        keys = [d.key for d in value]
        if len(set(keys)) != len(keys):
            raise ValueError("department keys must be unique")
        for dept in value:
            if dept.key in BUILTIN_DEPARTMENTS:
                continue
            missing = [loc for loc in SUPPORTED_LOCALES if not dept.labels.get(loc)]
            if missing:
                raise ValueError(f"department {dept.key!r} needs labels for {', '.join(missing)}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def department_keys(self) -> list[str]:
        return [d.key for d in self.departments]

    def department(self, key: str) -> Department | None:
        return next((d for d in self.departments if d.key == key), None)


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the variable, in one line."""


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning pydantic's report into one line naming every bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            loc = [str(part) for part in error["loc"]]
            name = loc[0].upper() if loc else "settings"
            detail = str(error["msg"]).removeprefix("Value error, ")
            inside = ".".join(loc[1:])
            # A field inside a JSON value is named ("low.due"); a list position alone is not.
            named = any(isinstance(part, str) for part in error["loc"][1:])
            if error["type"] == "missing":
                detail = f"{inside} is required but not set" if named else "is required but not set"
            elif named:
                detail = f"{inside}: {detail}"
            # One complaint per variable: a nested value can fail in several places at once.
            problems.setdefault(name, detail)
        raise SettingsError(
            "; ".join(f"{name}: {detail}" for name, detail in problems.items())
        ) from None
