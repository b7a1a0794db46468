"""Regenerate ``botapi_methods.json`` from a full Bot API export.

Usage (from the repository root)::

    python tests/fake_api/make_methods_json.py path/to/tg_api.json

The input is the machine-readable Bot API description exported by the public project
rockneurotiko/telegram_api_json (``{"models": [...], "generics": [...], "methods": [...]}``).
Only what the fake needs is kept: each method's name and, for each parameter, its name,
whether it is optional and its type list. One method per line keeps diffs readable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUTPUT = Path(__file__).with_name("botapi_methods.json")


def compact(export: dict[str, object]) -> list[dict[str, object]]:
    """Keep name and params (name, optional, type) of every method."""
    methods = export["methods"]
    assert isinstance(methods, list)
    return [
        {
            "name": method["name"],
            "params": [
                {"name": p["name"], "optional": p["optional"], "type": p["type"]}
                for p in method["params"]
            ],
        }
        for method in methods
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write(f"usage: {argv[0]} path/to/tg_api.json\n")
        return 2
    export = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    lines = [json.dumps(m, separators=(",", ":")) for m in compact(export)]
    OUTPUT.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
