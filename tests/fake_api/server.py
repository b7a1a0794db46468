"""The fake Bot API server: HTTP plumbing, state, the driver API and inspection helpers.

The method implementations live in :mod:`.botapi`; this module owns everything they share.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from .botapi import HANDLERS, generic_method
from .entities import utf16_len
from .limits import RateLimits, RateReport, Throttled, message_cost
from .objects import (
    JSON,
    Call,
    FakeChat,
    FakeUser,
    MessageRef,
    SentMessage,
    StoredFile,
    file_content,
    message_id_of,
    snapshot,
)
from .schema import ApiError, UploadedFile, bad_request, load_methods, validate_params

ChatRef = int | FakeChat | FakeUser

# Update types Telegram leaves out unless they are asked for explicitly in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Default fields of the media objects the driver creates (file ids and size are added).
_MEDIA_DEFAULTS: dict[str, JSON] = {
    "document": {"file_name": "file.bin", "mime_type": "application/octet-stream"},
    "video": {"width": 1280, "height": 720, "duration": 10, "mime_type": "video/mp4"},
    "animation": {"width": 480, "height": 270, "duration": 3, "mime_type": "video/mp4"},
    "voice": {"duration": 3, "mime_type": "audio/ogg"},
    "audio": {"duration": 180, "mime_type": "audio/mpeg"},
    "video_note": {"length": 240, "duration": 5},
    "sticker": {
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    },
}
_FILE_PREFIX = {
    "photo": "AgAC",
    "document": "BQAC",
    "video": "BAAC",
    "animation": "CgAC",
    "voice": "AwAC",
    "audio": "CQAC",
    "video_note": "DQAC",
    "sticker": "CAAC",
}


def chat_id_of(ref: ChatRef) -> int:
    return ref if isinstance(ref, int) else ref.id


@dataclass
class _Fault:
    method: str  # lower-case
    error: ApiError
    times: int
    chat_id: int | None


@dataclass
class _Delay:
    method: str  # lower-case
    seconds: float
    times: int


class FakeTelegram:
    """An in-process Bot API server that a real PTB ``Application`` or ``Bot`` talks to."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "support_desk_bot",
        bot_name: str = "Support Desk",
        bot_id: int = 7000001,
        port: int = 0,
        limits: bool = False,
    ) -> None:
        self.token = token
        self.port = port  # 0: any free port
        # Telegram's flood limits (see .limits): off by default so that flow tests are not
        # paced; set ``fake.limits = True`` (also on a running fake) to enforce them.
        self.rate = RateLimits(enabled=limits)
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }
        self.url = ""
        self.calls: list[Call] = []
        self.left_chats: list[int] = []
        self.webhook: JSON = {"url": ""}
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope JSON, language) -> list
        self.descriptions: dict[str, str] = {}  # language_code ("" = default) -> text
        self.short_descriptions: dict[str, str] = {}
        self.menu_buttons: dict[int | None, JSON] = {}  # chat id (None = default) -> button
        self.files: dict[str, StoredFile] = {}
        self.internal_errors: list[BaseException] = []  # bugs in the fake itself
        self.blocked: set[int] = set()
        self.callback_queries: dict[str, JSON] = {}
        self.answered: set[str] = set()
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, FakeChat] = {}
        self._sent: dict[int, list[SentMessage]] = {}
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._updates: list[JSON] = []  # queued and not yet confirmed via offset
        self._next_update_id = 1
        self.last_update: JSON = {}
        self._allowed_updates: list[str] | None = None
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._ids = itertools.count(1)  # files, callback queries, media groups
        self._next_user_id = 100_001
        self._next_group_id = 1_000_000_001
        self._event = asyncio.Event()
        self._closing = False
        self._inflight = 0  # requests being answered, long-polling getUpdates excluded
        self._last_activity = 0.0
        self._runner: web.AppRunner | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port; ``self.url`` is then the server root."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # A short shutdown timeout: a client that timed out may leave a delayed handler behind.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._closing = False

    async def stop(self, *, check: bool = True) -> None:
        """Stop serving; with ``check`` raise if the fake itself crashed while answering."""
        self._closing = True
        self._bump()  # wakes long polls and delays
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if check and self.internal_errors:
            raise AssertionError(f"the fake crashed: {self.internal_errors!r}") from (
                self.internal_errors[0]
            )

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop(check=exc is None)

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    # -- HTTP -----------------------------------------------------------------------------
    async def _handle_api(self, request: web.Request) -> web.Response:
        call = Call(method=request.match_info["method"], params={})
        self.calls.append(call)
        polling = call.method.lower() == "getupdates"
        if not polling:
            self._inflight += 1
        self._touch()
        try:
            call.params = raw = await _read_params(request)
            result = await self._dispatch(request.match_info["token"], call, raw)
        except ApiError as exc:
            call.status, call.error = exc.status, exc.description
            return web.json_response(exc.payload(), status=exc.status)
        except ConnectionResetError:
            # The client went away mid-request (a bot killed or shut down): not the fake's bug.
            call.status, call.error = 499, "client closed the connection"
            raise
        except Exception as exc:  # a bug in the fake: answer 500 and fail the test in stop()
            self.internal_errors.append(exc)
            call.status, call.error = 500, f"the fake crashed: {exc!r}"
            return web.json_response(ApiError(500, call.error).payload(), status=500)
        finally:
            if not polling:
                self._inflight -= 1
            self._touch()
        call.status, call.result = 200, result
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, token: str, call: Call, raw: dict[str, Any]) -> Any:
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        method = load_methods().get(call.method.lower())
        if method is None:
            raise ApiError(404, "Not Found")
        call.method = method.name
        params, attachments = validate_params(method, raw)
        call.params = params
        await self._apply_delay(method.name)
        self._apply_fault(call)
        if method.name == "getUpdates":
            return await self._get_updates(params)
        handler = HANDLERS.get(method.name, generic_method)
        cost = message_cost(method.name, params)
        chat_id = self._limited_chat(params) if cost else None
        self.rate.check(method.name, chat_id, cost)
        # Handlers are synchronous: nothing else runs between the check and the admission.
        result = handler(self, params, attachments)
        self.rate.admit(method.name, chat_id, cost)
        return result

    def _limited_chat(self, params: JSON) -> int | None:
        """The numeric chat a limited call writes to (None for inline messages)."""
        raw = params.get("chat_id")
        if raw is None:
            return None
        try:
            return self.find_chat(raw).id
        except ApiError:
            return None  # the handler answers "chat not found" itself

    # -- flood limits -----------------------------------------------------------------------
    @property
    def limits(self) -> bool:
        """Whether Telegram's flood limits are enforced (429 with ``retry_after``)."""
        return self.rate.enabled

    @limits.setter
    def limits(self, enabled: bool) -> None:
        self.rate.enabled = enabled

    @property
    def throttled(self) -> list[Throttled]:
        """Every call refused by the flood limits, oldest first."""
        return self.rate.throttled

    def rate_report(self) -> RateReport:
        """The pace of the messages delivered so far (refused ones are not counted)."""
        return self.rate.report()

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        # Deterministic bytes of the advertised size when the file was never really uploaded.
        body = stored.content if stored.content is not None else b"\0" * stored.file_size
        return web.Response(body=body, content_type="application/octet-stream")

    # -- waiting ----------------------------------------------------------------------------
    def _touch(self) -> None:
        self._last_activity = time.monotonic()
        self._bump()

    def _bump(self) -> None:
        """Wake everything waiting in :meth:`_wait` (state changed)."""
        self._event.set()
        self._event = asyncio.Event()

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` is true (re-checked on every state change) or time out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return predicate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), remaining)
        return True

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds over the fake's state; False if it timed out."""
        return await self._wait(predicate, timeout)

    # -- updates ----------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: JSON) -> JSON:
        update = {"update_id": self._next_update_id, kind: snapshot(payload)}
        self._next_update_id += 1
        self._updates.append(update)
        self.last_update = update
        self._touch()
        return update

    def enqueue_raw(self, update: JSON) -> JSON:
        """Queue `update` as given, however malformed (to test what a client can't parse).

        It gets the next update_id unless it carries a key ``update_id`` of its own.
        """
        if "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
            self._next_update_id += 1
        self._updates.append(update)
        self._touch()
        return update

    def redeliver(self, update: JSON) -> None:
        """Queue an update again with its old update_id, as Telegram does after a crash
        left it unconfirmed."""
        self._updates.append(snapshot(update))
        self._touch()

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed by the bot."""
        return list(self._updates)

    def drop_updates(self) -> None:
        self._updates.clear()

    def _wanted(self, update: JSON) -> bool:
        kind = next((k for k in update if k != "update_id"), None)
        if kind is None:  # a raw update with no content at all: deliver it as it is
            return True
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _OPT_IN_UPDATES

    def _deliverable(self) -> list[JSON]:
        # Telegram never creates updates of types the bot did not ask for: drop them for good.
        self._updates = [u for u in self._updates if self._wanted(u)]
        return self._updates

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset", 0))
        if offset > 0:  # confirms (forgets) every update below offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:  # only the last -offset updates survive
            self._updates = self._updates[offset:]
        if "allowed_updates" in params:  # an empty list restores the default set
            self._allowed_updates = list(params["allowed_updates"]) or None
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        await self._wait(lambda: bool(self._deliverable()), float(params.get("timeout", 0)))
        return [copy.deepcopy(u) for u in self._deliverable()[:limit]]

    # -- fault injection ------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: ChatRef | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (optionally only for one chat) fail.

        ``retry_after`` implies status 429 (PTB raises ``RetryAfter``); other statuses map to
        ``BadRequest`` (400), ``Forbidden`` (403), ``InvalidToken`` (401/404), ``Conflict``
        (409) or ``NetworkError`` (anything else, e.g. the default 500).
        """
        status = status or (429 if retry_after is not None else 500)
        if description is None:
            description = {
                400: "Bad Request",
                403: "Forbidden: bot was blocked by the user",
                429: f"Too Many Requests: retry after {retry_after}",
                502: "Bad Gateway",
            }.get(status, "Internal Server Error")
        target = None if chat_id is None else chat_id_of(chat_id)
        self._faults.append(
            _Fault(method.lower(), ApiError(status, description, retry_after), times, target)
        )

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Sleep ``seconds`` before answering the next ``times`` calls of ``method``.

        The call still takes effect afterwards, as on Telegram when the answer was lost to a
        client time-out: that is exactly the case an outbox must not double-send.
        """
        self._delays.append(_Delay(method.lower(), seconds, times))

    async def _apply_delay(self, method: str) -> None:
        delay = next((d for d in self._delays if d.method == method.lower()), None)
        if delay is None:
            return
        delay.times -= 1
        if delay.times <= 0:
            self._delays.remove(delay)
        await self._wait(lambda: self._closing, delay.seconds)

    def _apply_fault(self, call: Call) -> None:
        target = call.params.get("chat_id")
        for fault in self._faults:
            if fault.method == call.method.lower() and fault.chat_id in (None, target):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                call.injected = True
                raise fault.error

    # -- people and chats -----------------------------------------------------------------
    def user(
        self,
        first_name: str = "Alice",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        """A new user who has started the bot; their private chat is created too."""
        user = FakeUser(self, self._next_user_id, first_name, last_name, username, language_code)
        self._next_user_id += 1
        self._users[user.id] = user
        self._chats[user.id] = FakeChat(
            self, user.id, "private", username=username, first_name=first_name, last_name=last_name
        )
        return user

    def group(
        self,
        title: str = "Agents",
        *,
        forum: bool = False,
        members: Iterable[FakeUser] = (),
        admins: Iterable[FakeUser] = (),
        username: str | None = None,
    ) -> FakeChat:
        """A supergroup (id -100...) where the bot is an administrator."""
        chat_id = -(1_000_000_000_000 + self._next_group_id)
        self._next_group_id += 1
        chat = FakeChat(self, chat_id, "supergroup", title=title, username=username, is_forum=forum)
        chat.members.update({u.id: "member" for u in members})
        chat.members.update({u.id: "administrator" for u in admins})
        self._chats[chat_id] = chat
        return chat

    async def add_member(self, chat: FakeChat, user: FakeUser, *, admin: bool = False) -> None:
        """Add ``user`` to ``chat`` (no service message is sent to the bot)."""
        chat.members[user.id] = "administrator" if admin else "member"

    def chat(self, ref: ChatRef) -> FakeChat:
        chat = self._chats.get(chat_id_of(ref))
        if chat is None:
            raise AssertionError(f"no chat {chat_id_of(ref)} in the fake")
        return chat

    def find_chat(self, chat_id: int | str) -> FakeChat:
        """Resolve a ``chat_id`` parameter (an id or "@username" of a public chat)."""
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            found = next(
                (
                    c
                    for c in self._chats.values()
                    if c.type != "private" and (c.username or "").lower() == name
                ),
                None,
            )
        else:
            try:
                found = self._chats.get(int(chat_id))
            except ValueError:
                found = None
        if found is None:
            raise bad_request("chat not found")
        return found

    def user_json(self, user_id: int) -> JSON:
        if user_id == self.bot_id:
            return dict(self.bot_user)
        user = self._users.get(user_id)
        return user.to_dict() if user else {"id": user_id, "is_bot": False, "first_name": "?"}

    def block_bot(self, user: FakeUser) -> None:
        """The user blocks the bot: sends to their private chat get 403."""
        self.blocked.add(user.id)

    def unblock_bot(self, user: FakeUser) -> None:
        self.blocked.discard(user.id)

    # -- messages ---------------------------------------------------------------------------
    def build_message(
        self,
        chat: FakeChat,
        sender: JSON,
        content: JSON,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        allow_without_reply: bool = False,
        media_group_id: str | None = None,
    ) -> JSON:
        """Validate threading and replies, then store a new message in ``chat``."""
        replied = chat.messages.get(reply_to) if reply_to is not None else None
        if reply_to is not None and replied is None and not allow_without_reply:
            raise bad_request("message to be replied not found")
        if thread_id is None and replied is not None and chat.is_forum:
            thread_id = replied.get("message_thread_id")  # a reply lands in the replied topic
        message: JSON = {
            "message_id": 0,
            "from": sender,
            "chat": chat.to_dict(),
            "date": int(time.time()),
        }
        if thread_id is not None:
            if thread_id not in chat.topics:
                raise bad_request("message thread not found")
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            # Telegram quirk: a topic message that replies to nothing still carries
            # reply_to_message = the topic's "forum_topic_created" service message.
            replied = replied or chat.messages.get(thread_id)
        if replied is not None:
            message["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        message.update(content)
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        message["message_id"] = chat.take_message_id()  # only once nothing can fail any more
        chat.messages[message["message_id"]] = message
        return message

    def record_sent(self, message: JSON, method: str, params: JSON) -> SentMessage:
        sent = SentMessage(message, method, params)
        self._sent.setdefault(sent.chat_id, []).append(sent)
        self._sent_index[(sent.chat_id, sent.message_id)] = sent
        self._bump()
        return sent

    def sent_message(self, chat_id: int, message_id: int | None) -> SentMessage | None:
        """The message as it is now; None if never sent (or no id: a card not posted yet)."""
        return None if message_id is None else self._sent_index.get((chat_id, message_id))

    def forget_message(self, chat: FakeChat, message_id: int) -> None:
        chat.messages.pop(message_id, None)
        sent = self._sent_index.get((chat.id, message_id))
        if sent is not None:
            sent.deleted = True

    def create_topic(
        self, chat: FakeChat, name: str, *, icon_color: int = 7322096, creator: JSON | None = None
    ) -> int:
        """Create a forum topic; its id is the id of its "forum_topic_created" message."""
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        service = {"forum_topic_created": {"name": name, "icon_color": icon_color}}
        message = self.build_message(chat, creator or dict(self.bot_user), service)
        thread_id = int(message["message_id"])
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True
        chat.topics[thread_id] = {
            "message_thread_id": thread_id,
            "name": name,
            "icon_color": icon_color,
        }
        return thread_id

    def delete_topic(self, chat: FakeChat, thread_id: int) -> None:
        """Delete a topic and all its messages."""
        if chat.topics.pop(thread_id, None) is None:
            raise bad_request("message thread not found")
        chat.closed_topics.discard(thread_id)
        for message_id, message in list(chat.messages.items()):
            if message.get("message_thread_id") == thread_id:
                self.forget_message(chat, message_id)

    # -- what people send -------------------------------------------------------------------
    def new_media_group_id(self) -> str:
        return str(13_000_000_000_000_000 + next(self._ids))

    def text_content(self, text: str) -> JSON:
        content: JSON = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return content

    def new_file(
        self, kind: str, *, file_size: int, content: bytes | None = None, **attrs: Any
    ) -> StoredFile:
        """Register a file; photos get three PhotoSize entries (the largest is returned)."""

        def register(size: int, media: Any, extra: JSON) -> StoredFile:
            n = next(self._ids)
            suffix = PurePosixPath(str(attrs.get("file_name", ""))).suffix or ".bin"
            stored = StoredFile(
                file_id=f"{_FILE_PREFIX.get(kind, 'BQAC')}AgIAAxkBAAI{n:08d}",
                file_unique_id=f"AQAD{n:08d}",
                kind=kind,
                file_size=size,
                file_path=f"{kind}s/file_{n}{'.jpg' if kind == 'photo' else suffix}",
                content=content,
                media=media,
            )
            extra.update(
                file_id=stored.file_id, file_unique_id=stored.file_unique_id, file_size=size
            )
            self.files[stored.file_id] = stored
            return stored

        if kind == "photo":
            # One photo is several PhotoSize files; the list is shared so that re-sending any
            # of them by file_id shows the whole photo again.
            sizes: list[JSON] = []
            stored: list[StoredFile] = []
            for (width, height), divisor in (((90, 67), 40), ((320, 240), 8), ((1280, 960), 1)):
                size: JSON = {}
                stored.append(register(max(1, file_size // divisor), sizes, size))
                size.update(width=width, height=height)
                sizes.append(size)
            return stored[-1]
        media: JSON = {**_MEDIA_DEFAULTS.get(kind, {}), **attrs}
        return register(file_size, media, media)

    def media_content(
        self, kind: str, *, caption: str | None = None, file_size: int = 50_000, **fields: Any
    ) -> JSON:
        """Message content a person sends: a fresh file, or a location or contact."""
        if kind in ("location", "contact"):
            return {kind: fields}
        content = file_content(self.new_file(kind, file_size=file_size, **fields))
        if caption is not None:
            content["caption"] = caption
        return content

    def post_incoming(
        self,
        chat: FakeChat,
        user: FakeUser,
        content: JSON,
        *,
        reply_to: MessageRef | None = None,
        thread_id: int | None = None,
        media_group_id: str | None = None,
    ) -> JSON:
        """A person posts a message: store it, enqueue the update, return a copy."""
        self._check_presence(chat, user)
        try:
            message = self.build_message(
                chat,
                user.to_dict(),
                content,
                thread_id=thread_id,
                reply_to=None if reply_to is None else message_id_of(reply_to),
                media_group_id=media_group_id,
            )
        except ApiError as exc:
            raise AssertionError(f"Telegram would not let a person do that: {exc}") from None
        self.enqueue("message", message)
        return snapshot(message)

    def edit_incoming(self, chat: FakeChat, user: FakeUser, message_id: int, text: str) -> JSON:
        message = chat.messages.get(message_id)
        if message is None or message["from"]["id"] != user.id or "text" not in message:
            raise AssertionError(f"{user.first_name} has no text message {message_id} to edit")
        message.pop("entities", None)
        message.update(self.text_content(text), edit_date=int(time.time()))
        self.enqueue("edited_message", message)
        return snapshot(message)

    def press(
        self, user: FakeUser, ref: MessageRef, *, button: str | None = None, data: str | None = None
    ) -> str:
        """Enqueue a callback_query from ``user`` on a bot message; return the query id."""
        if isinstance(ref, SentMessage):
            chat = self.chat(ref.chat_id)
        elif isinstance(ref, int):
            chat = user.chat
        else:
            chat = self.chat(int(ref["chat"]["id"]))
        self._check_presence(chat, user)
        message = chat.messages.get(message_id_of(ref))
        if message is None:
            raise AssertionError(
                f"message {message_id_of(ref)} is not (or no longer) in chat "
                f"{chat.id}:\n{self.dump(chat.id)}"
            )
        if button is not None:
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            found = [
                b for row in rows for b in row if button in (b["text"], b.get("callback_data"))
            ]
            if len(found) != 1:
                problem = "no button" if not found else f"{len(found)} buttons"
                raise AssertionError(
                    f"{problem} match {button!r} on message {message['message_id']}: {rows}"
                )
            if "callback_data" not in found[0]:
                raise AssertionError(f"button {button!r} has no callback_data: {found[0]}")
            data = found[0]["callback_data"]
        query_id = str(4_200_000_000_000_000 + next(self._ids))
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": snapshot(message),
            # chat_instance is an opaque per-chat string (PTB requires it).
            "chat_instance": str(-(7 * 10**18) - abs(chat.id)),
            "data": data,
        }
        self.callback_queries[query_id] = query
        self.enqueue("callback_query", query)
        return query_id

    def _check_presence(self, chat: FakeChat, user: FakeUser) -> None:
        if chat.type == "private" and chat.id != user.id:
            raise AssertionError(f"{user.first_name} cannot act in another user's private chat")
        if chat.type != "private" and user.id not in chat.members:
            raise AssertionError(f"{user.first_name} is not a member of {chat.title!r}")

    # -- inspection -----------------------------------------------------------------------
    def sent(self, chat: ChatRef) -> list[SentMessage]:
        """Everything the bot sent to ``chat``, in order, as it is now (edited, deleted)."""
        return list(self._sent.get(chat_id_of(chat), []))

    def last(self, chat: ChatRef) -> SentMessage:
        sent = self._sent.get(chat_id_of(chat))
        if not sent:
            raise AssertionError(f"the bot sent nothing to chat {chat_id_of(chat)}")
        return sent[-1]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def answers_to(self, query_id: str) -> list[Call]:
        """The answerCallbackQuery calls for one callback query (refused ones included)."""
        return [
            c
            for c in self.calls_to("answerCallbackQuery")
            if c.params.get("callback_query_id") == query_id
        ]

    async def wait_for(
        self,
        chat: ChatRef,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
        since: int | None = None,
    ) -> SentMessage:
        """Wait for the ``count``-th new matching message the bot sends to ``chat``.

        "New" means after this call started, or from index ``since`` of ``sent(chat)``.
        """
        chat_id = chat_id_of(chat)
        start = len(self._sent.get(chat_id, [])) if since is None else since

        def matches() -> list[SentMessage]:
            return [
                m for m in self._sent.get(chat_id, [])[start:] if predicate is None or predicate(m)
            ]

        if not await self._wait(lambda: len(matches()) >= count, timeout):
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} new matching "
                f"message(s) in chat {chat_id}\n{self.dump(chat_id)}"
            )
        return matches()[count - 1]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,
        since: int | None = None,
    ) -> Call:
        """Wait for an answered call of ``method`` made after this call started (or ``since``)."""
        start = len(self.calls) if since is None else since

        def first() -> Call | None:
            return next(
                (
                    c
                    for c in self.calls[start:]
                    if c.done
                    and c.method.lower() == method.lower()
                    and (predicate is None or predicate(c))
                ),
                None,
            )

        if not await self._wait(lambda: first() is not None, timeout):
            raise AssertionError(
                f"timed out after {timeout}s waiting for a {method} call\n{self.dump()}"
            )
        found = first()
        assert found is not None
        return found

    async def idle(self, timeout: float = 5.0, *, quiet: float = 0.2) -> None:
        """Wait until the bot confirmed every update and made no request for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while self._updates or self._inflight or time.monotonic() - self._last_activity < quiet:
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"not idle after {timeout}s: {len(self._updates)} unconfirmed update(s) "
                    f"(is the bot polling?), {self._inflight} request(s) in flight\n{self.dump()}"
                )
            await asyncio.sleep(0.02)

    def dump(self, chat_id: int | None = None, *, last_calls: int = 15) -> str:
        """A readable summary for assertion messages."""
        lines: list[str] = []
        if chat_id is not None:
            lines.append(f"sent to {chat_id}:")
            lines += [f"  {m!r}" for m in self._sent.get(chat_id, [])] or ["  (nothing)"]
        calls = [c for c in self.calls if c.method.lower() != "getupdates"][-last_calls:]
        lines.append(f"last {len(calls)} calls (getUpdates left out):")
        lines += [f"  {c!r}" for c in calls] or ["  (none)"]
        return "\n".join(lines)


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Read query, form, multipart or JSON parameters into one dict."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if isinstance(body, dict):
            params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            with value.file as handle:  # close aiohttp's spooled temp file right away
                params[key] = UploadedFile(key, value.filename, value.content_type, handle.read())
        else:
            params[key] = value
    return params
