"""`python -m bot` as a subprocess against the fake Bot API, and the file-system tricks the
storage tests need as root (who ignores file modes): immutable files and small tmpfs mounts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.conftest import TOKEN
from tests.unit.test_startup import ROOT, Bot

__all__ = [
    "Bot",
    "bot_process",
    "fill",
    "immutable",
    "mounted_tmpfs",
    "remount_read_only",
    "run_bot",
]


@asynccontextmanager
async def bot_process(
    tmp_path: Path, api_url: str, database: Path, **env: str
) -> AsyncIterator[Bot]:
    """Run `python -m bot` (or a sub-command in `env["ARGS"]`) until the block ends."""
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    args = env.pop("ARGS", "").split()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--env-file",
        str(env_file),
        *args,
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api_url,
            "DATABASE_PATH": str(database),
            "PTB_TIMEDELTA": "1",
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield Bot(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def run_bot(tmp_path: Path, api_url: str, database: Path, **env: str) -> tuple[int, Bot]:
    """Run the bot until it ends by itself; its exit code and its log."""
    async with bot_process(tmp_path, api_url, database, **env) as bot:
        code = await bot.ends()
    return code, bot


def _works(*command: str) -> bool:
    return shutil.which(command[0]) is not None


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Make `path` immutable (`chattr +i`): refused even to root. Skips the test if it can't."""
    import pytest

    if not _works("chattr"):
        pytest.skip("chattr is not installed: no way to make a file read-only for root")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextlib.contextmanager
def mounted_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where`. Skips the test where mounting is not allowed."""
    import pytest

    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"can't mount a tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount_read_only(where: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)


def fill(folder: Path) -> Path:
    """Fill the file system of `folder` to the last byte; the file that does it."""
    filler = folder / "filler"
    # Unbuffered: every write reaches the file system, and closing has nothing left to write.
    with filler.open("ab", buffering=0) as out:
        for chunk in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * chunk)
    return filler
