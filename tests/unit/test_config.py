"""Settings: defaults, durations, and one clear line for every bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings, parse_duration

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90", timedelta(seconds=90)),
        ("1.5", timedelta(seconds=1.5)),
        ("PT90S", timedelta(seconds=90)),
        ("P3D", timedelta(days=3)),
        ("p1dt2h30m", timedelta(days=1, hours=2, minutes=30)),
        ("P1W", timedelta(weeks=1)),
        (45, timedelta(seconds=45)),
    ],
)
def test_durations_accept_seconds_and_iso8601(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["soon", "P", "PT", "3 days", "-5", "P1H"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"ISO 8601|negative"):
        parse_duration(text)


def test_defaults_follow_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:abcdefgh")
    settings = load_settings(_env_file=None)
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.admin_chat_id is None
    assert settings.operator_ids == []
    assert settings.database_path == Path("data/support.db")
    assert settings.default_locale == "en"
    assert settings.timezone == "Asia/Jakarta"
    assert settings.auto_solve_after == timedelta(days=3)
    assert settings.auto_close_after == timedelta(days=7)
    assert settings.webhook_url is None
    assert settings.department_keys == ["technical", "billing", "sales"]
    assert settings.response_targets["critical"].due == timedelta(hours=2)
    assert settings.response_targets["low"].business_hours is True


def test_environment_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:abcdefgh")
    monkeypatch.setenv("OPERATOR_IDS", "11, 22,33")
    monkeypatch.setenv("ADMIN_CHAT_ID", "-1001234567890")
    monkeypatch.setenv("AUTO_SOLVE_AFTER", "PT90S")
    monkeypatch.setenv("DEFAULT_LOCALE", "sv")
    monkeypatch.setenv(
        "DEPARTMENTS",
        '[{"key": "billing"}, {"key": "vip", "labels": {"en": "VIP", "id": "VIP", "sv": "VIP"}}]',
    )
    settings = load_settings(_env_file=None)
    assert settings.operator_ids == [11, 22, 33]
    assert settings.admin_chat_id == -1001234567890
    assert settings.auto_solve_after == timedelta(seconds=90)
    assert settings.default_locale == "sv"
    assert settings.department_keys == ["billing", "vip"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN: expected the form"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE: unknown IANA time zone"),
        ("DEFAULT_LOCALE", "fr", "DEFAULT_LOCALE: Input should be 'en', 'id' or 'sv'"),
        ("AUTO_CLOSE_AFTER", "a week", "AUTO_CLOSE_AFTER: expected seconds"),
        ("ADMIN_CHAT_ID", "12345", "ADMIN_CHAT_ID: a group or supergroup id is negative"),
        ("OPERATOR_IDS", "1,two", "OPERATOR_IDS: Input should be a valid integer"),
        ("TELEGRAM_API_URL", "ftp://x", "TELEGRAM_API_URL: expected an http(s):// URL"),
        ("CUSTOMER_RATE_LIMIT", "0", "CUSTOMER_RATE_LIMIT: Input should be greater than"),
        ("MAX_OPEN_TICKETS", "many", "MAX_OPEN_TICKETS: Input should be a valid integer"),
        (
            "DEPARTMENTS",
            '[{"key": "vip"}]',
            "DEPARTMENTS: department 'vip' needs labels for en, id, sv",
        ),
    ],
)
def test_a_bad_setting_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:abcdefgh")
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(message)


def test_a_missing_token_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    with pytest.raises(SettingsError, match=r"^BOT_TOKEN: is required but not set$"):
        load_settings(_env_file=None)


def _run_bot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=60,
        check=False,
    )


def test_cli_help_needs_no_token() -> None:
    result = _run_bot("--help", env={})
    assert result.returncode == 0
    assert "run" in result.stdout and "check" in result.stdout and "migrate" in result.stdout


def _empty_env_file(tmp_path: Path) -> str:
    """An env file with nothing in it: keeps a developer's own .env out of the test."""
    path = tmp_path / "empty.env"
    path.write_text("")
    return str(path)


def test_cli_bad_setting_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    result = _run_bot(
        "--env-file",
        _empty_env_file(tmp_path),
        "check",
        env={"BOT_TOKEN": "123:abcdef", "TIMEZONE": "Nowhere/City"},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: TIMEZONE: unknown IANA time zone 'Nowhere/City'"
    assert "Traceback" not in result.stderr


def test_cli_missing_token_exits_2(tmp_path: Path) -> None:
    result = _run_bot("--env-file", _empty_env_file(tmp_path), "run", env={})
    assert result.returncode == 2
    assert result.stderr.strip() == "error: BOT_TOKEN: is required but not set"


def test_cli_reads_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "desk.env"
    env_file.write_text("BOT_TOKEN=123456:fromfile\nDATABASE_PATH=" + str(tmp_path / "d.db") + "\n")
    result = _run_bot("--env-file", str(env_file), "migrate", env={})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d.db").exists()


def test_every_setting_is_in_env_example_and_the_readme() -> None:
    from bot.config import Settings

    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"\n{name.upper()}=" in example, name
        assert f"`{name.upper()}`" in readme, name


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_a_missing_env_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "desk.env"
    result = _run_bot("--env-file", str(missing), "check", env={"BOT_TOKEN": "123:abcdef"})
    assert _one_error_line(result) == f"error: --env-file {missing}: no such file"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEPARTMENTS", '[{"key": "billing"'),
        ("RESPONSE_TARGETS", '{"low": {"lower": "P1D", "due": }}'),
        ("BUSINESS_HOURS", "Mon-Fri 9-18"),
    ],
)
def test_cli_broken_json_is_one_line(tmp_path: Path, name: str, value: str) -> None:
    result = _run_bot(
        "--env-file",
        _empty_env_file(tmp_path),
        "check",
        env={"BOT_TOKEN": "123:abcdef", name: value},
    )
    assert _one_error_line(result).startswith(f"error: {name}: not valid JSON (")


def test_cli_names_every_bad_setting_in_one_line(tmp_path: Path) -> None:
    result = _run_bot(
        "--env-file",
        _empty_env_file(tmp_path),
        "check",
        env={
            "BOT_TOKEN": "123:abcdef",
            "TIMEZONE": "Nowhere/City",
            "DEPARTMENTS": "[",
            "DEFAULT_LOCALE": "fr",
            "DATABASE_PATH": str(tmp_path),
        },
    )
    line = _one_error_line(result)
    for name in ("TIMEZONE", "DEPARTMENTS", "DEFAULT_LOCALE", "DATABASE_PATH"):
        assert f"{name}: " in line, name


@pytest.mark.parametrize("command", ["check", "run", "migrate"])
def test_cli_a_database_path_under_a_file_is_one_line(tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = _run_bot(
        "--env-file",
        _empty_env_file(tmp_path),
        command,
        env={"BOT_TOKEN": "123:abcdef", "DATABASE_PATH": str(blocker / "support.db")},
    )
    assert _one_error_line(result).startswith("error: DATABASE_PATH: ")
    assert str(blocker) in result.stderr


@pytest.mark.parametrize("command", ["run", "migrate"])
def test_cli_a_database_the_bot_cant_open_is_one_line(tmp_path: Path, command: str) -> None:
    # /proc refuses new files even to the super-user, whom permission bits don't stop.
    result = _run_bot(
        "--env-file",
        _empty_env_file(tmp_path),
        command,
        env={"BOT_TOKEN": "123:abcdef", "DATABASE_PATH": "/proc/support.db"},
    )
    line = _one_error_line(result)
    assert line.startswith("error: DATABASE_PATH: /proc/support.db: ")


@pytest.mark.skipif(os.geteuid() == 0, reason="the super-user writes read-only files")
def test_cli_a_read_only_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "support.db"
    path.write_bytes(b"")
    path.chmod(0o444)
    result = _run_bot(
        "--env-file",
        _empty_env_file(tmp_path),
        "check",
        env={"BOT_TOKEN": "123:abcdef", "DATABASE_PATH": str(path)},
    )
    assert _one_error_line(result) == f"error: DATABASE_PATH: {path} is read-only"


def test_database_url_takes_postgresql_urls_only_and_keeps_them_secret() -> None:
    settings = load_settings(
        _env_file=None, bot_token="123:abcdef", database_url="postgres://desk:s3cret@db/desk"
    )
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == "postgresql://desk:s3cret@db/desk"
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)
    assert load_settings(_env_file=None, bot_token="123:abcdef").database_url is None
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, bot_token="123:abcdef", database_url="mysql://db/desk")
    assert "DATABASE_URL" in str(refused.value) and "PostgreSQL" in str(refused.value)


@pytest.mark.parametrize("command", ["run", "migrate", "check"])
def test_cli_a_postgresql_server_that_cant_be_reached_is_one_line(
    tmp_path: Path, command: str
) -> None:
    # Port 1 on the loopback: nothing listens there, the connection is refused at once.
    result = _run_bot(
        "--env-file",
        _empty_env_file(tmp_path),
        command,
        env={
            "BOT_TOKEN": "123:abcdef",
            "DATABASE_PATH": str(tmp_path / "support.db"),
            "DATABASE_URL": "postgresql://desk:s3cret@127.0.0.1:1/desk",
        },
    )
    line = _one_error_line(result)
    assert line.startswith("error: DATABASE_URL: postgresql+asyncpg://desk:***@127.0.0.1:1/desk: ")
    assert "s3cret" not in result.stderr + result.stdout
