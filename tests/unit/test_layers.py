"""The layering, enforced: every module's imports, read with `ast` (nothing is imported).

The rules:

- `bot/domain/` is the desk's rules and nothing else. It may import the standard library,
  third-party libraries other than Telegram's and SQLite's, its own modules
  (`bot.domain.*`) and three shared neighbours that know neither a channel nor storage:
  `bot.config` (the settings), `bot.i18n` (languages, formatting) and `bot.logcontext`
  (the ticket number on log lines). It never imports `telegram`, `storage`, `aiosqlite` or
  `sqlite3`, a channel or the wiring (any other `bot.*`: relay, notify, dispatcher, the
  bot class, app, compose, context, texts, ...) or `handlers`.
- The shared neighbours hold to the same rule (else the domain would reach them through
  those), except that they may of course import each other.
- `handlers/` never imports `storage`: handlers call the desk. `KNOWN_HANDLER_STORAGE`
  lists the imports still there; an entry that is gone must leave the list too.

Every import counts: at the top, inside a function, under `TYPE_CHECKING`.

- Handlers and the channel adapters (`bot/channels/`) call the desk's use cases and
  queries, never a repository through it: no `context.desk.tickets.get(...)`, no
  `self.desk.outbox.pending(...)` (nor `desk.tickets.get` on a local `desk`), and no store
  taken whole to be called later (`outbox = self.desk.outbox`), for any of the desk's stores
  (`DESK_STORES`, the database connection `db` included).

- The desk's time is its clock (`Desk.clock`, injected, so a test can move it): the domain
  and the handlers never read the wall clock themselves (`time.time()`, `datetime.now()`).
  `time.monotonic()` is for intervals (a pace, a back-off), which no clock governs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NEIGHBOURS = frozenset({"bot.config", "bot.i18n", "bot.logcontext"})
FORBIDDEN_IN_DOMAIN = ("telegram", "storage", "aiosqlite", "sqlite3", "handlers")

# (handler module, imported module): imports of storage that handlers still make.
KNOWN_HANDLER_STORAGE = frozenset(
    {
        # storage_fault tells a storage failure from a bug (the error handler, the sweeper).
        ("handlers.errors", "storage"),
        ("handlers.sweeper", "storage"),
    }
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield module_name(path), path


def imports(name: str, path: Path) -> set[str]:
    """The modules `path` imports, relative imports made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                # A package's own name is its level 1; a module's is its parent.
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from bot import relay` imports bot.relay: count the names as modules too.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def within(imported: str, package: str) -> bool:
    return imported == package or imported.startswith(f"{package}.")


def forbidden_in_domain(imported: str, allowed: frozenset[str]) -> bool:
    if any(within(imported, p) for p in FORBIDDEN_IN_DOMAIN):
        return True
    return within(imported, "bot") and not (
        imported == "bot"
        or within(imported, "bot.domain")
        or any(within(imported, n) for n in allowed)
    )


def domain_breaches(name: str, path: Path, *, allowed: frozenset[str]) -> list[str]:
    bad = [i for i in sorted(imports(name, path)) if forbidden_in_domain(i, allowed)]
    # `from telegram import Bot` yields "telegram" and "telegram.Bot": name it once.
    # (`from bot import config` yields "bot", the package itself, and "bot.config".)
    return [f"{name} imports {b}" for b in bad if b.rpartition(".")[0] not in bad]


def test_the_domain_imports_no_channel_no_storage_no_telegram() -> None:
    breaches = [
        breach
        for name, path in modules("bot/domain")
        for breach in domain_breaches(name, path, allowed=NEIGHBOURS)
    ]
    assert breaches == []


def test_the_domains_neighbours_keep_the_same_rule() -> None:
    breaches = [
        breach
        for name in sorted(NEIGHBOURS)
        for breach in domain_breaches(
            name, ROOT / f"{name.replace('.', '/')}.py", allowed=NEIGHBOURS
        )
    ]
    assert breaches == []


def test_handlers_do_not_import_storage() -> None:
    found = {
        (name, imported)
        for name, path in modules("handlers")
        for imported in imports(name, path)
        if within(imported, "storage")
    }
    # Count the module once ("storage", not also "storage.storage_fault").
    found = {(n, i) for n, i in found if (n, i.rpartition(".")[0]) not in found}
    assert found - KNOWN_HANDLER_STORAGE == set()
    assert KNOWN_HANDLER_STORAGE - found == set(), "a known exception is gone: drop it"


def test_the_reader_sees_every_kind_of_import() -> None:
    """The rules above mean something only if the reader finds imports where they are."""
    desk = imports("bot.domain.desk", ROOT / "bot/domain/desk.py")
    assert {"bot.domain.ports", "bot.domain.ports.DeskStores", "bot.config", "re"} <= desk
    context = imports("bot.channels.telegram.context", ROOT / "bot/channels/telegram/context.py")
    assert "bot.compose" in context  # under TYPE_CHECKING
    main = imports("bot.__main__", ROOT / "bot/__main__.py")
    assert "bot.compose" in main  # inside a function
    assert len(list(modules("bot/domain"))) >= 10


# The desk's repositories (`bot.compose.StoredDesk`), and its database connection: handlers
# and channel adapters reach none of them.
DESK_STORES = frozenset(
    {
        "tickets",
        "outbox",
        "users",
        "drafts",
        "ratings",
        "desk_settings",
        "processed",
        "audit",
        "inbox",
        "quarantine",
        "retention",
        "held",
        "db",
    }
)

# The packages that call the desk and nothing behind it.
DESK_CALLERS = ("handlers", "bot/channels")


def _is_desk(node: ast.expr) -> bool:
    """`<x>.desk` or a plain `desk`."""
    return (isinstance(node, ast.Attribute) and node.attr == "desk") or (
        isinstance(node, ast.Name) and node.id == "desk"
    )


def store_reaches(source: str, where: str) -> list[str]:
    """`<x>.desk.<store>.<method>` (or `desk.<store>.<method>`) in `source`, in order; a
    store taken whole (`outbox = self.desk.outbox`) as `desk.<store>`."""
    nodes = list(ast.walk(ast.parse(source, filename=where)))
    stores = [
        node
        for node in nodes
        if isinstance(node, ast.Attribute) and node.attr in DESK_STORES and _is_desk(node.value)
    ]
    # What is taken from each store: `get` in `desk.tickets.get`.
    taken = {
        id(node.value): node.attr
        for node in nodes
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
    }
    found = []
    for store in sorted(stores, key=lambda node: (node.lineno, node.col_offset)):
        method = taken.get(id(store))
        found.append(f"{where}:{store.lineno} desk.{store.attr}{f'.{method}' if method else ''}")
    return found


def test_handlers_and_channels_call_the_desk_never_a_repository_through_it() -> None:
    reaches = [
        reach
        for package in DESK_CALLERS
        for _, path in modules(package)
        for reach in store_reaches(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert reaches == [], "\n".join(reaches)


def test_the_rule_covers_the_channel_adapters() -> None:
    """The walk reaches the Telegram adapters that call the desk most."""
    walked = {path.name for package in DESK_CALLERS for _, path in modules(package)}
    assert {"dispatcher.py", "notices.py", "notify.py", "relay.py", "cards.py"} <= walked


def test_the_walker_finds_a_repository_reached_through_the_desk() -> None:
    sample = (
        "async def f(self, context, desk):\n"
        "    await context.desk.tickets.get(1)\n"
        "    await desk.held.hold(customer_id=1)\n"
        "    await context.desk.ticket(1)\n"
        "    await context.desk.settings.tz\n"
        "    tickets = context.desk.tickets\n"
        "    await self.desk.outbox.pending(200)\n"
        "    self.desk.db.on_queued = self.wake\n"
        "    with self.desk.db.deferring() as writes:\n"
        "        await self.desk.pending_deliveries(200)\n"
        "    path = str(self.desk.database_path)\n"
    )
    assert store_reaches(sample, "sample.py") == [
        "sample.py:2 desk.tickets.get",
        "sample.py:3 desk.held.hold",
        "sample.py:6 desk.tickets",
        "sample.py:7 desk.outbox.pending",
        "sample.py:8 desk.db.on_queued",
        "sample.py:9 desk.db.deferring",
    ]


WALL_CLOCK = ("time.time", "datetime.now", "datetime.utcnow", "date.today")


def wall_clock_reads(path: Path) -> list[str]:
    """`time.time()`, `datetime.now()` and the like, called in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = f"{getattr(owner, 'id', getattr(owner, 'attr', '?'))}.{node.func.attr}"
            if name in WALL_CLOCK:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}()")
    return found


def test_the_domain_and_the_handlers_take_the_time_from_the_desks_clock() -> None:
    reads = [
        read
        for package in ("bot/domain", "handlers")
        for _, path in modules(package)
        for read in wall_clock_reads(path)
    ]
    # The clock's default (`utc_now`): the one read of the wall clock on the desk's behalf.
    assert reads == [f"bot/domain/desk.py:{UTC_NOW_LINE} datetime.now()"], reads


def _utc_now_line() -> int:
    tree = ast.parse((ROOT / "bot/domain/desk.py").read_text(encoding="utf-8"))
    default = next(
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "utc_now"
    )
    return default.body[-1].lineno


UTC_NOW_LINE = _utc_now_line()
