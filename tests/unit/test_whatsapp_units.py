"""The WhatsApp channel's pieces without a network: ids, masking, languages, markup, the
webhook's parsing and its settings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from bot.channels.whatsapp.markup import fit, whatsapp_text
from bot.channels.whatsapp.webhook import parse
from bot.config import SettingsError, load_settings
from bot.domain.channels import (
    Channel,
    channel_of,
    locale_for_number,
    masked_number,
    whatsapp_customer_id,
    whatsapp_number,
)


def test_a_whatsapp_customer_is_their_number_negated_and_back() -> None:
    customer = whatsapp_customer_id("6281234565678")
    assert customer == -6281234565678
    assert channel_of(customer) is Channel.WHATSAPP
    assert whatsapp_number(customer) == "6281234565678"
    assert channel_of(123456789) is Channel.TELEGRAM
    assert whatsapp_number(123456789) is None
    for bad in ("", "abc", "12345", "1" * 16, "+62 812"):
        with pytest.raises(ValueError):
            whatsapp_customer_id(bad)


def test_numbers_are_masked_for_the_agents_and_choose_a_language() -> None:
    assert masked_number("6281234565678") == "+62 812-****-5678"
    assert masked_number("46701234567") == "+46 701-****-4567"
    assert locale_for_number("6281234565678") == "id"
    assert locale_for_number("46701234567") == "sv"
    assert locale_for_number("4915112345678") is None


def test_the_catalogs_markup_becomes_whatsapps() -> None:
    html = "<b>Ticket #1001</b> · <i>Open</i>\nUse /tickets &amp; <code>42</code> &lt;ok&gt;"
    assert whatsapp_text(html) == "*Ticket #1001* · _Open_\nUse */tickets* & `42` <ok>"
    assert fit("Penjualan & Pemasaran", 20) == "Penjualan & Pemasar…"
    assert fit("Short", 20) == "Short"


def _update(*messages: Mapping[str, object], statuses: list[Any] | None = None) -> object:
    value: dict[str, object] = {
        "messaging_product": "whatsapp",
        "contacts": [{"profile": {"name": "Budi"}, "wa_id": "6281234565678"}],
        "messages": list(messages),
    }
    if statuses:
        value["statuses"] = statuses
    return json.loads(
        json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
            }
        )
    )


def test_the_webhook_takes_messages_and_statuses_and_leaves_the_rest() -> None:
    text = {"from": "6281234565678", "id": "wamid.A", "timestamp": "1", "type": "text"}
    no_sender = {"id": "wamid.B", "type": "text"}
    bad_sender = {"from": "not-a-number", "id": "wamid.C", "type": "text"}
    status = {
        "id": "wamid.OUT",
        "status": "failed",
        "timestamp": "7",
        "errors": [{"code": 131026, "title": "Message undeliverable"}],
    }
    messages, statuses = parse(_update(text, no_sender, bad_sender, statuses=[status]))
    assert [(w, s, m["profile_name"]) for w, s, m in messages] == [
        ("wamid.A", "6281234565678", "Budi")
    ]
    assert statuses == [("wamid.OUT", "failed", "131026: Message undeliverable", 7)]
    assert parse({"object": "page", "entry": []}) == ([], [])
    assert parse(["not", "a", "dict"]) == ([], [])


def test_whatsapp_is_all_four_settings_or_none(tmp_path: object) -> None:
    base = {"bot_token": "123456:ABCDEF", "database_path": f"{tmp_path}/d.db"}
    assert not load_settings(**base).whatsapp_enabled
    whole = {
        "whatsapp_token": "t",
        "whatsapp_phone_number_id": "1000000001",
        "whatsapp_app_secret": "s",
        "whatsapp_verify_token": "v",
    }
    assert load_settings(**base, **whole).whatsapp_enabled
    with pytest.raises(SettingsError) as missing:
        load_settings(**base, whatsapp_token="t")
    assert str(missing.value) == (
        "settings: WhatsApp needs WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET,"
        " WHATSAPP_VERIFY_TOKEN as well (or none of them)"
    )
    with pytest.raises(SettingsError) as bad:
        load_settings(**base, **{**whole, "whatsapp_phone_number_id": "+62812"})
    assert "\n" not in str(bad.value)
    assert str(bad.value).startswith("WHATSAPP_PHONE_NUMBER_ID: expected the numeric")
