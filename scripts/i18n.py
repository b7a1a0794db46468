"""Catalog maintenance: `python scripts/i18n.py` extracts, updates every .po, fills English.

English is the source language, so its catalog repeats each msgid; keeping it complete
lets the completeness test treat all three locales alike.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"


def run(*args: str) -> None:
    # Our own fixed arguments, run with this interpreter: nothing untrusted reaches the shell.
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT
    )


def fill_english() -> None:
    path = LOCALES / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            message.string = tuple(message.id)
        else:
            message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as f:
        write_po(f, catalog, width=100, no_location=True, sort_output=True)


def main() -> None:
    run(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "N_",
        "-k",
        "ngettext:1,2",
        "--no-location",
        "--sort-output",
        "--project=support-desk-bot",
        "-o",
        str(POT),
        ".",
    )
    for code in ("en", "id", "sv"):
        po = LOCALES / code / "LC_MESSAGES" / "messages.po"
        if po.exists():
            run(
                "update",
                "-i",
                str(POT),
                "-o",
                str(po),
                "-l",
                code,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
            )
        else:
            run("init", "-i", str(POT), "-o", str(po), "-l", code)
    fill_english()


if __name__ == "__main__":
    main()
