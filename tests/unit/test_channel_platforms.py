"""What the platform adapters read from a delivery (and what they leave alone), and how an answer becomes a chat
message with footnotes that fits the platform."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from ragcore.adapters.channels import platform_factory
from ragcore.domain.channels import Platform, Rejected, WebhookRequest
from ragcore.ports import HttpReply
from ragcore.services.channels.render import render


def never(*_: Any) -> HttpReply:
    raise AssertionError("no platform call expected")


def platform(kind: str, credential: dict[str, Any]) -> Platform:
    return platform_factory(never, bases={}, timeout_s=1)(kind, credential)


def request(body: Any, headers: dict[str, str] | None = None, method: str = "POST") -> WebhookRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WebhookRequest(method, {}, {k.lower(): v for k, v in (headers or {}).items()}, raw)


REFERENCE = {"chunks": [
    {"id": "c0", "document_id": "d1", "document_name": "leave.txt"},
    {"id": "c1", "document_id": "d2", "document_name": "travel.md", "url": "https://intranet.example/travel"},
    {"id": "c2", "document_id": "d1", "document_name": "leave.txt"},
]}


def test_citations_become_footnotes_one_per_document() -> None:
    text = render("Twenty days [ID:0][ID:2]. Trains first [ID:1]. Nothing here [ID:9].", REFERENCE, 4096)
    assert text == ("Twenty days [1]. Trains first [2]. Nothing here.\n\nSources:\n[1] leave.txt\n"
                    "[2] travel.md https://intranet.example/travel")
    assert render("No sources.", {}, 4096) == "No sources."


def test_a_long_answer_is_cut_before_its_sources_are() -> None:
    text = render("word " * 1000 + "[ID:0]", REFERENCE, 200)
    assert len(text) <= 200 and text.endswith("Sources:\n[1] leave.txt") and "…" in text


def test_telegram_answers_only_users_text_messages() -> None:
    telegram = platform("telegram", {"token": "1:t", "_webhook_secret": "s3cret"})
    header = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    from_bot = {"update_id": 1, "message": {"message_id": 2, "text": "hi", "from": {"id": 9, "is_bot": True},
                                            "chat": {"id": 3}}}
    edited = {"update_id": 2, "edited_message": {"message_id": 2, "text": "hi"}}
    assert telegram.receive(request(from_bot, header), time.time()).messages == ()
    assert telegram.receive(request(edited, header), time.time()).messages == ()
    with pytest.raises(Rejected):
        telegram.receive(request(from_bot, {}), time.time())


def test_feishu_without_an_encrypt_key_checks_the_verification_token() -> None:
    feishu = platform("feishu", {"app_id": "cli_a", "app_secret": "s", "verification_token": "vt"})
    challenge = {"challenge": "c-1", "token": "vt", "type": "url_verification"}
    assert json.loads(feishu.receive(request(challenge), time.time()).body) == {"challenge": "c-1"}
    with pytest.raises(Rejected, match="verification token"):
        feishu.receive(request({**challenge, "token": "guess"}), time.time())
    event = {"schema": "2.0", "header": {"event_id": "e1", "token": "vt", "event_type": "im.message.receive_v1"},
             "event": {"sender": {"sender_type": "app"}, "message": {"message_type": "text", "content": '{"text":"x"}'}}}
    assert feishu.receive(request(event), time.time()).messages == ()  # another bot's message


def test_feishu_with_an_encrypt_key_refuses_an_unsigned_event() -> None:
    from tests.channels.fakes import feishu_encrypt

    feishu = platform("feishu", {"app_id": "cli_a", "app_secret": "s", "verification_token": "vt", "encrypt_key": "ek"})
    event = {"schema": "2.0", "header": {"event_id": "e1", "token": "vt", "event_type": "im.message.receive_v1"}, "event": {}}
    with pytest.raises(Rejected, match="X-Lark-Signature is missing"):
        feishu.receive(request({"encrypt": feishu_encrypt(event, "ek")}), time.time())


def test_line_verify_button_and_discord_other_interactions() -> None:
    line = platform("line", {"channel_secret": "cs", "channel_access_token": "t"})
    body = json.dumps({"destination": "U0", "events": []}).encode()
    signature = base64.b64encode(hmac.new(b"cs", body, hashlib.sha256).digest()).decode()
    received = line.receive(request(body, {"X-Line-Signature": signature}), time.time())
    assert (received.status, received.messages, received.verified) == (200, (), True)

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    discord = platform("discord", {"token": "t", "application_id": "1", "public_key": public})
    other = json.dumps({"id": "i", "type": 2, "token": "x", "data": {"name": "help"}}).encode()
    stamp = str(int(time.time()))
    answer = discord.receive(request(other, {"X-Signature-Ed25519": key.sign(stamp.encode() + other).hex(),
                                             "X-Signature-Timestamp": stamp}), time.time())
    assert json.loads(answer.body)["type"] == 4 and answer.messages == ()


def test_a_failed_call_never_names_the_token_in_its_path() -> None:
    from ragcore.adapters.guarded_http import GuardedFetcher
    from ragcore.domain.channels import ChannelError

    fetch = GuardedFetcher(allowed_hosts=frozenset(), max_bytes=1024, max_timeout_s=1, allow_setting="CHANNEL_ALLOWED_HOSTS")
    for base in ("ftp://gateway.example", "http://127.0.0.1:9"):
        telegram = platform_factory(fetch, bases={"telegram": base}, timeout_s=1)(
            "telegram", {"token": "123:very-secret-bot-token", "_webhook_secret": "s"})
        with pytest.raises(ChannelError) as refused:
            telegram.register("https://api.example.com/hook")
        assert "very-secret" not in str(refused.value) and str(refused.value).startswith("Telegram: ")
