"""Bot API methods with realistic results and Telegram's refusals.

Every handler gets the fake, the decoded parameters (already checked against the schema) and
uploaded parts referenced as ``attach://name``. Methods without a handler here are validated,
recorded and answered with ``true`` by :func:`generic_method`.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from .entities import HtmlError, parse_html, utf16_len
from .objects import JSON, FakeChat, SentMessage, file_content, message_kind
from .schema import ApiError, UploadedFile, bad_request

if TYPE_CHECKING:
    from .objects import StoredFile
    from .server import FakeTelegram

Files = dict[str, UploadedFile]  # uploaded parts referenced as attach://name
Handler = Callable[["FakeTelegram", JSON, Files], Any]
HANDLERS: dict[str, Handler] = {}

MAX_TEXT = 4096  # UTF-16 code units after entity parsing
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes, not characters
BOT_FILE_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files for bots
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Content fields a copy keeps (service messages have none of them and cannot be copied).
_COPYABLE = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "photo",
    "document",
    "video",
    "animation",
    "voice",
    "audio",
    "video_note",
    "sticker",
    "location",
    "venue",
    "contact",
    "dice",
    "poll",
    "has_media_spoiler",
    "show_caption_above_media",
)
_MEDIA_PARAMS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVideo": "video",
    "sendAnimation": "animation",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendVideoNote": "video_note",
    "sendSticker": "sticker",
}


def api(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


def generic_method(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    if "chat_id" in p:
        fake.find_chat(p["chat_id"])
    return True


# -- shared checks ----------------------------------------------------------------------------
def target_chat(fake: FakeTelegram, p: JSON) -> FakeChat:
    """The chat a message goes to; refuses chats the bot cannot write to."""
    chat = fake.find_chat(p["chat_id"])
    if chat.type == "private" and chat.id in fake.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    if chat.bot_left:
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
    return chat


def formatted(p: JSON, key: str, entities_key: str) -> tuple[str | None, list[JSON]]:
    """Apply ``parse_mode`` like Telegram: return plain text and entities."""
    text = p.get(key)
    if text is None:
        return None, []
    mode = str(p.get("parse_mode") or "")
    if mode.lower() == "html":
        try:
            return parse_html(str(text))
        except HtmlError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    if mode and mode.lower() not in ("markdown", "markdownv2"):
        raise bad_request(f"unsupported parse_mode {mode!r}")
    # Markdown modes are passed through unchecked: this project uses HTML.
    return str(text), list(p.get(entities_key) or [])


def checked_text(p: JSON) -> JSON:
    text, entities = formatted(p, "text", "entities")
    if not text or not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return {"text": text, "entities": entities or None}


def checked_caption(p: JSON) -> JSON:
    caption, entities = formatted(p, "caption", "caption_entities")
    if caption is not None and utf16_len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return {"caption": caption or None, "caption_entities": entities or None}


def inline_markup(markup: Any) -> JSON | None:
    """Validate reply_markup; return it if it is an inline keyboard (the only kind echoed)."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None  # reply keyboards are shown to the user but not part of the Message
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed "
                "in the inline keyboard"
            )
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
        if len(set(button) - {"text", "style", "icon_custom_emoji_id"}) != 1:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed "
                "in the inline keyboard"
            )
    return {"inline_keyboard": rows}


def deliver(
    fake: FakeTelegram,
    chat: FakeChat,
    method: str,
    p: JSON,
    content: JSON,
    *,
    media_group_id: str | None = None,
) -> JSON:
    """Store a message the bot sends and return it as Telegram would."""
    content = {k: v for k, v in content.items() if v is not None}
    markup = inline_markup(p.get("reply_markup"))
    if markup is not None:
        content["reply_markup"] = markup
    reply = p.get("reply_parameters") or {}
    message = fake.build_message(
        chat,
        dict(fake.bot_user),
        content,
        thread_id=p.get("message_thread_id"),
        reply_to=reply.get("message_id"),
        allow_without_reply=bool(reply.get("allow_sending_without_reply")),
        media_group_id=media_group_id,
    )
    fake.record_sent(message, method, p)
    return copy.deepcopy(message)


def resolve_file(fake: FakeTelegram, value: Any, kind: str, files: Files) -> StoredFile:
    """A file parameter: an upload, ``attach://name``, an HTTP URL or a known file_id."""
    if isinstance(value, str) and value.startswith("attach://"):
        value = files.get(value.removeprefix("attach://"))
        if value is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
    if isinstance(value, UploadedFile):
        attrs: JSON = {"file_name": value.filename} if kind == "document" else {}
        return fake.new_file(kind, file_size=len(value.content), content=value.content, **attrs)
    value = str(value)
    if value.startswith(("http://", "https://")):
        name = PurePosixPath(value.split("?")[0]).name or "file"
        attrs = {"file_name": name} if kind == "document" else {}
        return fake.new_file(kind, file_size=10_000, **attrs)
    stored = fake.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        # e.g. re-sending a customer's photo with sendDocument
        raise bad_request(f"can't use file of type {_title(stored.kind)} as {_title(kind)}")
    return stored


def _title(kind: str) -> str:
    return kind.replace("_", " ").title().replace(" ", "")


def editable(fake: FakeTelegram, p: JSON) -> tuple[JSON, SentMessage]:
    if "chat_id" not in p or "message_id" not in p:
        raise bad_request("message identifier is not specified")
    chat = target_chat(fake, p)
    message = chat.messages.get(int(p["message_id"]))
    if message is None:
        raise bad_request("message to edit not found")
    sent = fake.sent_message(chat.id, message["message_id"])
    if message["from"]["id"] != fake.bot_id or sent is None:
        raise bad_request("message can't be edited")
    return message, sent


def apply_edit(message: JSON, sent: SentMessage, p: JSON, changes: JSON) -> JSON:
    """Update the stored message, refusing no-op edits like Telegram does."""
    if all(message.get(key) == value for key, value in changes.items()):
        raise bad_request(
            "message is not modified: specified new message content and reply "
            "markup are exactly the same as a current content and reply markup "
            "of the message"
        )
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    if set(changes) != {"reply_markup"}:
        message["edit_date"] = int(time.time())
        sent.parse_mode = p.get("parse_mode")
    sent.edits.append(copy.deepcopy(message))
    return copy.deepcopy(message)


def forum_topic(chat: FakeChat, p: JSON) -> JSON:
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    topic = chat.topics.get(int(p["message_thread_id"]))
    if topic is None:
        raise bad_request("message thread not found")
    return topic


def member_json(user: JSON, status: str) -> JSON:
    if status == "creator":
        return {"status": status, "user": user, "is_anonymous": False}
    if status != "administrator":
        return {"status": status, "user": user}
    rights = (
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
        "can_pin_messages",
        "can_manage_topics",
    )
    return {
        "status": status,
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_promote_members": False,
        **dict.fromkeys(rights, True),
    }


def member_status(fake: FakeTelegram, chat: FakeChat, user_id: int) -> str:
    if chat.type == "private":
        return "member" if user_id in (chat.id, fake.bot_id) else "left"
    if user_id == fake.bot_id:
        return "left" if chat.bot_left else "administrator"
    return chat.members.get(user_id, "left")


# -- the bot itself and updates -----------------------------------------------------------------
@api("getMe")
def get_me(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    return dict(fake.bot_user)


@api("setWebhook")
def set_webhook(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    fake.webhook = {
        "url": p["url"],
        **{k: p[k] for k in ("allowed_updates", "max_connections") if k in p},
    }
    if p.get("drop_pending_updates"):
        fake.drop_updates()
    return True


@api("deleteWebhook")
def delete_webhook(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    fake.webhook = {"url": ""}
    if p.get("drop_pending_updates"):
        fake.drop_updates()
    return True


@api("getWebhookInfo")
def get_webhook_info(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    return {
        "has_custom_certificate": False,
        "pending_update_count": len(fake.pending_updates),
        **fake.webhook,
    }


# -- sending --------------------------------------------------------------------------------
@api("sendMessage")
def send_message(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = target_chat(fake, p)
    return deliver(fake, chat, "sendMessage", p, checked_text(p))


def send_media(fake: FakeTelegram, p: JSON, files: Files, method: str) -> Any:
    kind = _MEDIA_PARAMS[method]
    chat = target_chat(fake, p)
    content = {**file_content(resolve_file(fake, p[kind], kind, files)), **checked_caption(p)}
    return deliver(fake, chat, method, p, content)


def _media_handler(method: str) -> Handler:
    def handler(fake: FakeTelegram, p: JSON, files: Files) -> Any:
        return send_media(fake, p, files, method)

    return handler


for _method in _MEDIA_PARAMS:
    HANDLERS[_method] = _media_handler(_method)


@api("sendMediaGroup")
def send_media_group(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = target_chat(fake, p)
    media = p["media"]
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("media group must contain 2 to 10 items")
    kinds = {str(item.get("type")) for item in media}
    for alone in ("document", "audio"):
        if alone in kinds and len(kinds) > 1:
            raise bad_request(f"{_title(alone)}s can't be mixed with other media types")
    contents = []  # resolve every item first: a bad item must not leave half an album
    for item in media:
        stored = resolve_file(fake, item.get("media"), str(item.get("type")), files)
        contents.append({**file_content(stored), **checked_caption(item)})
    group_id = fake.new_media_group_id()
    return [
        deliver(fake, chat, "sendMediaGroup", p, content, media_group_id=group_id)
        for content in contents
    ]


@api("sendChatAction")
def send_chat_action(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = target_chat(fake, p)
    if p["action"] not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    if "message_thread_id" in p:
        forum_topic(chat, p)
    return True


def copy_source(fake: FakeTelegram, p: JSON, message_id: int) -> JSON | None:
    message = fake.find_chat(p["from_chat_id"]).messages.get(message_id)
    if message is None:
        return None
    if message_kind(message) == "service":
        raise bad_request("message can't be copied")
    return message


def copied(
    fake: FakeTelegram, chat: FakeChat, method: str, p: JSON, source: JSON, *, forward: bool
) -> JSON:
    content = {k: copy.deepcopy(v) for k, v in source.items() if k in _COPYABLE}
    if forward:  # forwards keep the original and show where it came from
        content["forward_origin"] = {
            "type": "user",
            "sender_user": source["from"],
            "date": source["date"],
        }
    elif "caption" in p and message_kind(source) != "text":
        content.update(checked_caption(p))
    elif p.get("remove_caption"):
        content.pop("caption", None)
        content.pop("caption_entities", None)
    return deliver(fake, chat, method, p, content)


@api("copyMessage")
def copy_message(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = target_chat(fake, p)
    source = copy_source(fake, p, int(p["message_id"]))
    if source is None:
        raise bad_request("message to copy not found")
    return {"message_id": copied(fake, chat, "copyMessage", p, source, forward=False)["message_id"]}


@api("forwardMessage")
def forward_message(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = target_chat(fake, p)
    source = copy_source(fake, p, int(p["message_id"]))
    if source is None:
        raise bad_request("message to forward not found")
    return copied(fake, chat, "forwardMessage", p, source, forward=True)


@api("copyMessages")
def copy_messages(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = target_chat(fake, p)
    # Messages that cannot be found are skipped, as the Bot API documents.
    sources = [s for i in sorted(p["message_ids"]) if (s := copy_source(fake, p, int(i)))]
    return [
        {"message_id": copied(fake, chat, "copyMessages", p, s, forward=False)["message_id"]}
        for s in sources
    ]


# -- editing and deleting -------------------------------------------------------------------------
# Telegram quirk: an edit without reply_markup removes the inline keyboard.
@api("editMessageText")
def edit_message_text(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    if "inline_message_id" in p:
        return True
    message, sent = editable(fake, p)
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    changes = {**checked_text(p), "reply_markup": inline_markup(p.get("reply_markup"))}
    return apply_edit(message, sent, p, changes)


@api("editMessageCaption")
def edit_message_caption(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    if "inline_message_id" in p:
        return True
    message, sent = editable(fake, p)
    if "text" in message:
        raise bad_request("there is no caption in the message to edit")
    changes = {**checked_caption(p), "reply_markup": inline_markup(p.get("reply_markup"))}
    return apply_edit(message, sent, p, changes)


@api("editMessageReplyMarkup")
def edit_message_reply_markup(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    if "inline_message_id" in p:
        return True
    message, sent = editable(fake, p)
    return apply_edit(message, sent, p, {"reply_markup": inline_markup(p.get("reply_markup"))})


@api("deleteMessage")
def delete_message(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = fake.find_chat(p["chat_id"])
    if int(p["message_id"]) not in chat.messages:
        raise bad_request("message to delete not found")
    fake.forget_message(chat, int(p["message_id"]))
    return True


@api("deleteMessages")
def delete_messages(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = fake.find_chat(p["chat_id"])
    if not 1 <= len(p["message_ids"]) <= 100:
        raise bad_request("message_ids must contain 1 to 100 identifiers")
    for message_id in p["message_ids"]:  # missing ones are skipped silently
        fake.forget_message(chat, int(message_id))
    return True


@api("answerCallbackQuery")
def answer_callback_query(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    query_id = str(p["callback_query_id"])
    if query_id not in fake.callback_queries or query_id in fake.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    if len(str(p.get("text", ""))) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    fake.answered.add(query_id)
    return True


# -- chats, members, topics ---------------------------------------------------------------------
@api("getChat")
def get_chat(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = fake.find_chat(p["chat_id"])
    gifts = dict.fromkeys(
        (
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        ),
        False,
    )
    return {
        **chat.to_dict(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": gifts,
    }


@api("getChatMember")
def get_chat_member(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = fake.find_chat(p["chat_id"])
    user_id = int(p["user_id"])
    return member_json(fake.user_json(user_id), member_status(fake, chat, user_id))


@api("getChatAdministrators")
def get_chat_administrators(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = fake.find_chat(p["chat_id"])
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    ids = [fake.bot_id] + [i for i, s in chat.members.items() if s in ("creator", "administrator")]
    return [member_json(fake.user_json(i), member_status(fake, chat, i)) for i in ids]


@api("leaveChat")
def leave_chat(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = fake.find_chat(p["chat_id"])
    chat.bot_left = True
    fake.left_chats.append(chat.id)
    return True


@api("createForumTopic")
def create_forum_topic(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = target_chat(fake, p)
    if not 1 <= len(p["name"]) <= 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not p["name"] else "TOPIC_TITLE_TOO_LONG")
    thread_id = fake.create_topic(chat, p["name"], icon_color=p.get("icon_color", 7322096))
    if "icon_custom_emoji_id" in p:
        chat.topics[thread_id]["icon_custom_emoji_id"] = p["icon_custom_emoji_id"]
    return dict(chat.topics[thread_id])


@api("editForumTopic")
def edit_forum_topic(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    topic = forum_topic(fake.find_chat(p["chat_id"]), p)
    changes: JSON = {k: p[k] for k in ("name", "icon_custom_emoji_id") if k in p}
    if all(topic.get(k) == v for k, v in changes.items()):
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.update(changes)
    return True


def _toggle_topic(fake: FakeTelegram, p: JSON, *, close: bool) -> bool:
    chat = fake.find_chat(p["chat_id"])
    thread_id = int(forum_topic(chat, p)["message_thread_id"])
    if (thread_id in chat.closed_topics) == close:
        raise bad_request("TOPIC_NOT_MODIFIED")
    if close:
        chat.closed_topics.add(thread_id)
    else:
        chat.closed_topics.discard(thread_id)
    return True


@api("closeForumTopic")
def close_forum_topic(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    return _toggle_topic(fake, p, close=True)


@api("reopenForumTopic")
def reopen_forum_topic(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    return _toggle_topic(fake, p, close=False)


@api("deleteForumTopic")
def delete_forum_topic(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat = fake.find_chat(p["chat_id"])
    fake.delete_topic(chat, int(forum_topic(chat, p)["message_thread_id"]))
    return True


# -- bot settings -----------------------------------------------------------------------------
def commands_key(p: JSON) -> tuple[str, str]:
    """Commands are stored per (scope, language_code); the scope's JSON is the key."""
    scope = p.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(p.get("language_code") or "")


@api("setMyCommands")
def set_my_commands(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    commands = p["commands"]
    if len(commands) > 100:
        raise bad_request("too many commands")
    for command in commands:
        # Telegram wants 1-32 lower-case letters, digits and underscores, without the "/".
        if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("command description must be 1-256 characters long")
    fake.commands[commands_key(p)] = copy.deepcopy(commands)
    return True


@api("getMyCommands")
def get_my_commands(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    return copy.deepcopy(fake.commands.get(commands_key(p), []))


@api("deleteMyCommands")
def delete_my_commands(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    fake.commands.pop(commands_key(p), None)
    return True


def _set_text(store: dict[str, str], p: JSON, key: str, limit: int) -> bool:
    value = str(p.get(key) or "")
    if len(value) > limit:
        raise bad_request(f"{key.replace('_', ' ')} is too long")
    language = str(p.get("language_code") or "")
    if value:
        store[language] = value
    else:  # an empty value removes the text for that language
        store.pop(language, None)
    return True


@api("setMyDescription")
def set_my_description(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    return _set_text(fake.descriptions, p, "description", 512)


@api("getMyDescription")
def get_my_description(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    return {"description": fake.descriptions.get(str(p.get("language_code") or ""), "")}


@api("setMyShortDescription")
def set_my_short_description(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    return _set_text(fake.short_descriptions, p, "short_description", 120)


@api("getMyShortDescription")
def get_my_short_description(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    language = str(p.get("language_code") or "")
    return {"short_description": fake.short_descriptions.get(language, "")}


@api("setChatMenuButton")
def set_chat_menu_button(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    chat_id = p.get("chat_id")
    if chat_id is not None:
        fake.find_chat(chat_id)
    fake.menu_buttons[chat_id] = p.get("menu_button") or {"type": "default"}
    return True


@api("getFile")
def get_file(fake: FakeTelegram, p: JSON, files: Files) -> Any:
    stored = fake.files.get(str(p["file_id"]))
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.file_size > BOT_FILE_LIMIT:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
        "file_path": stored.file_path,
    }
