"""Telegram, Discord, Feishu and LINE channels through the real local server, each platform's API faked on loopback:
the channel registers its webhook where the platform's API allows, a signed delivery is answered by the bound chat
assistant (with its citations as footnotes, in the user's thread), a forged one is refused and counted, a repeated
one is answered once; the runtime route says so."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.api.docs_helpers import eventually
from tests.channels.conftest import QUESTION, create_channel, handbook_chat, post, runtime, wait_for
from tests.channels.fakes import Platforms, delivery
from tests.conftest import Api

WEBHOOK_KINDS = ("telegram", "discord", "feishu", "line")
ACKS = {"telegram": {}, "discord": {"type": 5}, "feishu": {}, "line": {}}


@pytest.fixture(scope="module")
def chat_id(server_api: Api) -> str:
    return handbook_chat(server_api)


def registered(kind: str, platforms: Platforms, url: str) -> None:
    """What the channel told the platform when it was created."""
    calls = platforms.registered[kind]
    if kind == "telegram":
        assert calls[-1]["body"]["url"] == url and len(platforms.telegram_secret) >= 32
    elif kind == "discord":  # the /ask command, then the endpoint (Discord checked it with a signed and a forged PING)
        assert calls[-2]["body"]["name"] == "ask"
        assert calls[-1]["body"] == {"interactions_endpoint_url": url}
    elif kind == "line":
        assert calls[-1]["body"] == {"endpoint": url}
    else:
        assert calls == []  # Feishu's Request URL is set in its console


def threaded(kind: str, sent: dict[str, Any]) -> None:
    """The answer replies to the user's message (delivery number 1 of fakes.delivery)."""
    if kind == "telegram":
        assert sent["body"]["chat_id"] == "555" and sent["body"]["reply_parameters"]["message_id"] == 41
    elif kind == "discord":
        assert sent["path"].endswith("/webhooks/987654321098765432/itoken-1/messages/@original")
    elif kind == "feishu":
        assert sent["path"].endswith("/messages/om_1/reply") and sent["body"]["msg_type"] == "text"
    else:
        assert sent["path"].endswith("/message/reply") and sent["body"]["replyToken"] == "reply-token-1"


@pytest.mark.parametrize("kind", WEBHOOK_KINDS)
def test_signed_answered_with_citations_forged_refused_repeat_answered_once(
        server_api: Api, platforms: Platforms, chat_id: str, kind: str) -> None:
    channel = create_channel(server_api, kind, platforms, chat_id)
    url = channel["webhook_url"]
    assert url == f"{server_api.client.base_url}/api/v1/chat-channels/{channel['id']}/webhook"
    registered(kind, platforms, url)
    state = runtime(server_api, channel["id"])
    assert state["webhook_status"] == ("pending" if kind == "feishu" else ("verified" if kind == "discord" else "registered"))
    before = len(platforms.sent[kind])

    forged = post(server_api, channel["id"], delivery(kind, platforms, 1, QUESTION, forge=True))
    assert forged.status_code == 401, forged.text
    signed = delivery(kind, platforms, 1, QUESTION)
    first = post(server_api, channel["id"], signed)
    assert first.status_code == 200 and (json.loads(first.content) if first.content else {}) == ACKS[kind]
    again = post(server_api, channel["id"], signed)  # the platform's retry, or a replay inside the window
    assert again.status_code == 200
    state = runtime(server_api, channel["id"])
    # Discord's own check of the endpoint sent a forged PING too
    assert (state["deliveries"], state["duplicates"], state["rejected"]) == (1, 1, 2 if kind == "discord" else 1)
    assert state["last_rejected_reason"] and state["last_rejected_at"]

    answers = wait_for(lambda: platforms.answers(kind)[before:])
    wait_for(lambda: runtime(server_api, channel["id"])["replies"] == 1, what="the reply count")
    assert len(platforms.answers(kind)[before:]) == 1
    [answer] = answers
    assert "twenty days of annual leave" in answer, answer
    assert answer.rstrip().endswith("Sources:\n[1] handbook.txt"), answer
    assert "[1]" in answer.split("Sources:")[0] and "[ID:" not in answer
    threaded(kind, platforms.sent[kind][before])
    state = runtime(server_api, channel["id"])
    assert state["status"] == "connected" and state["last_error"] is None and state["last_reply_at"]

    # the bound chat assistant answered: in one session of this end user's chat on this channel
    sessions = server_api.call("GET", f"/api/v1/chats/{chat_id}/sessions", params={"page_size": 100})["data"]
    [session] = [s for s in sessions if s["name"].startswith(f"channel:{channel['id']}:")]
    assert [m["role"] for m in session["messages"]] == ["user", "assistant"]
    assert session["messages"][0]["content"] == QUESTION


def test_a_conversation_continues_in_its_session(server_api: Api, platforms: Platforms, chat_id: str) -> None:
    channel = create_channel(server_api, "telegram", platforms, chat_id)
    before = len(platforms.sent["telegram"])
    for n, text in ((11, QUESTION), (12, "When are receipts filed?")):
        assert post(server_api, channel["id"], delivery("telegram", platforms, n, text)).status_code == 200
        wait_for(lambda n=n: len(platforms.answers("telegram")[before:]) == n - 10)
    assert "thirty days" in platforms.answers("telegram")[-1]
    sessions = server_api.call("GET", f"/api/v1/chats/{chat_id}/sessions", params={"page_size": 100})["data"]
    [session] = [s for s in sessions if s["name"] == f"channel:{channel['id']}:555"]
    assert [m["content"] for m in session["messages"] if m["role"] == "user"] == [QUESTION, "When are receipts filed?"]


def test_discord_refuses_an_old_signed_interaction(server_api: Api, platforms: Platforms, chat_id: str) -> None:
    channel = create_channel(server_api, "discord", platforms, chat_id)
    old = post(server_api, channel["id"], delivery("discord", platforms, 21, QUESTION, at=time.time() - 600))
    assert old.status_code == 401 and "timestamp" in old.json()["message"]
    assert runtime(server_api, channel["id"])["deliveries"] == 0


def test_feishu_url_check_and_line_push_when_the_reply_token_expired(server_api: Api, platforms: Platforms,
                                                                     chat_id: str) -> None:
    from tests.channels.fakes import FEISHU_TOKEN, feishu_encrypt

    feishu = create_channel(server_api, "feishu", platforms, chat_id)
    check = {"encrypt": feishu_encrypt({"challenge": "ajls384kdjx98XX", "token": FEISHU_TOKEN, "type": "url_verification"})}
    res = server_api.client.post(f"/api/v1/chat-channels/{feishu['id']}/webhook", json=check)
    assert res.status_code == 200 and res.json() == {"challenge": "ajls384kdjx98XX"}
    assert runtime(server_api, feishu["id"])["webhook_status"] == "verified"
    wrong = {"encrypt": feishu_encrypt({"challenge": "x", "token": "not-the-token", "type": "url_verification"})}
    assert server_api.client.post(f"/api/v1/chat-channels/{feishu['id']}/webhook", json=wrong).status_code == 401

    line = create_channel(server_api, "line", platforms, chat_id)
    platforms.line_expired_tokens.add("reply-token-31")
    before = len(platforms.sent["line"])
    assert post(server_api, line["id"], delivery("line", platforms, 31, QUESTION)).status_code == 200
    [pushed] = wait_for(lambda: platforms.sent["line"][before:])
    assert pushed["path"].endswith("/message/push") and pushed["body"]["to"] == "U1234"
    assert pushed["headers"]["x-line-retry-key"]


def test_a_new_token_moves_the_webhook_and_delete_removes_it(server_api: Api, platforms: Platforms, chat_id: str) -> None:
    from tests.channels.fakes import TELEGRAM_TOKEN

    channel = create_channel(server_api, "telegram", platforms, chat_id)
    shown = channel["config"]["credential"]
    assert shown == {"token": "123...DEFG"}  # masked; our webhook secret is never shown
    unchanged = server_api.call("PATCH", f"/api/v1/chat-channels/{channel['id']}",
                                json={"data": {"name": "renamed", "config": {"credential": shown}}})
    assert unchanged["code"] == 0 and unchanged["data"]["name"] == "renamed"
    calls = len(platforms.registered["telegram"])
    bad = server_api.call("PATCH", f"/api/v1/chat-channels/{channel['id']}",
                          json={"config": {"credential": {"token": "999:another-bot-token"}}})
    assert bad["code"] == 0
    eventually(lambda: runtime(server_api, channel["id"])["webhook_status"] == "error")
    assert "Unauthorized" in runtime(server_api, channel["id"])["webhook_error"]
    back = server_api.call("PATCH", f"/api/v1/chat-channels/{channel['id']}",
                           json={"config": {"credential": {"token": TELEGRAM_TOKEN}}})
    assert back["code"] == 0 and runtime(server_api, channel["id"])["webhook_status"] == "registered"
    assert platforms.registered["telegram"][calls:][-1]["path"].endswith("/setWebhook")

    assert server_api.call("DELETE", f"/api/v1/chat-channels/{channel['id']}") == {"code": 0, "message": "success",
                                                                                   "data": True}
    assert platforms.registered["telegram"][-1]["path"].endswith("/deleteWebhook")
    gone = post(server_api, channel["id"], delivery("telegram", platforms, 41, QUESTION))
    assert gone.status_code == 404
