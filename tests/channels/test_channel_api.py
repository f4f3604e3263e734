"""The chat channel API as RAGFlow answers it (fields, envelopes, messages), what it refuses and why, credentials
sealed at rest and masked in replies, tenants kept apart; and the WhatsApp Cloud API, WeCom and DingTalk webhooks
(their URL checks, signed deliveries answered, forged ones refused, repeats answered once) in the local app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.channels.conftest import QUESTION, create_channel, handbook_chat, post, runtime, wait_for
from tests.channels.fakes import SECRETS, WHATSAPP_VERIFY, Platforms, delivery, wecom_encrypt, wecom_query
from tests.conftest import Api

NO_AUTHORIZATION = {"code": 109, "message": "no authorization", "data": False}


def test_create_list_get_update_delete_as_ragflow_answers(chapi: Api, platforms: Platforms) -> None:
    chat = chapi.call("POST", "/api/v1/chats", json={"name": "helpdesk"})["data"]["id"]
    made = create_channel(chapi, "feishu", platforms, chat)
    assert set(made) >= {"id", "tenant_id", "name", "channel", "config", "chat_id", "status", "create_time",
                         "create_date", "update_time", "update_date", "webhook_url"}
    assert (made["name"], made["channel"], made["chat_id"], made["status"], made["tenant_id"]) == (
        "feishu bot", "feishu", chat, 1, chapi.tenant)
    assert made["config"]["credential"] == {"app_id": "cli_a1b2c3", "app_secret": "fei...6789", "domain": "feishu",
                                            "verification_token": "fei...n-01", "encrypt_key": "fei...6789"}
    later = create_channel(chapi, "line", platforms, None, name="no chat yet")
    listed = chapi.call("GET", "/api/v1/chat-channels")
    assert listed == {"code": 0, "message": "success", "data": [  # newest first, each with its chat's name
        {"id": later["id"], "name": "no chat yet", "channel": "line", "chat_id": None, "status": 1, "dialog_name": None},
        {"id": made["id"], "name": "feishu bot", "channel": "feishu", "chat_id": chat, "status": 1,
         "dialog_name": "helpdesk"}]}
    assert chapi.call("GET", f"/api/v1/chat-channels/{made['id']}") == {"code": 0, "message": "success", "data": made}

    flat = chapi.call("PATCH", f"/api/v1/chat-channels/{later['id']}", json={"name": "line desk", "chat_id": chat})
    assert flat["code"] == 0 and (flat["data"]["name"], flat["data"]["chat_id"]) == ("line desk", chat)
    wrapped = chapi.call("PATCH", f"/api/v1/chat-channels/{later['id']}", json={"data": {"chat_id": None}})
    assert wrapped["code"] == 0 and wrapped["data"]["chat_id"] is None and wrapped["data"]["name"] == "line desk"
    missing_chat = chapi.call("PATCH", f"/api/v1/chat-channels/{later['id']}", json={"chat_id": "f" * 32})
    assert missing_chat == {"code": 102, "message": "Can't find this chat assistant!", "data": None}

    assert chapi.call("DELETE", f"/api/v1/chat-channels/{later['id']}") == {"code": 0, "message": "success", "data": True}
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/runtime")):
        assert chapi.call(method, f"/api/v1/chat-channels/{later['id']}{path}", json={}) == NO_AUTHORIZATION
    assert [c["id"] for c in chapi.call("GET", "/api/v1/chat-channels")["data"]] == [made["id"]]


@pytest.mark.parametrize(("body", "message"), [
    ({}, "required argument are missing: name,channel; "),
    ({"name": "x"}, "required argument are missing: channel; "),
    ({"name": "q", "channel": "qqbot"}, "QQ Bot channels receive messages over the QQ gateway's WebSocket connection"),
    ({"name": "s", "channel": "slack"}, "Channel 'slack' has no runtime (RAGFlow's neither): supported channels are "
                                        "telegram, discord, feishu, line, whatsapp, wecom, dingtalk."),
    ({"name": "m", "channel": "myspace"}, "Channel 'myspace' is not supported"),
    ({"name": "t", "channel": "telegram"}, "Telegram channels need config.credential.token"),
    ({"name": "t", "channel": "telegram", "config": {"credential": "token"}}, "config.credential must be an object."),
    ({"name": "w", "channel": "wecom", "config": {"credential": {"connection_type": "websocket", "bot_id": "b",
                                                                 "secret": "s"}}},
     "WeCom's websocket (long connection) mode needs a connection held open"),
    ({"name": "w", "channel": "wecom", "config": {"credential": {"corp_id": "c", "agent_id": 1, "secret": "s", "token": "t",
                                                                 "aes_key": "short"}}},
     "config.credential.aes_key (EncodingAESKey) must be 43 characters, got 5."),
    ({"name": "d", "channel": "discord", "config": {"credential": {"token": "t", "application_id": "1",
                                                                   "public_key": "zz"}}},
     "config.credential.public_key must be the application's public key"),
    ({"name": "w", "channel": "whatsapp", "config": {"credential": {"gateway_base_url": "http://127.0.0.1:3005"}}},
     "WhatsApp channels here use the WhatsApp Cloud API"),
    ({"name": "", "channel": "line"}, "`name` should be a string of 1 to 128 characters."),
])
def test_create_refuses_with_the_reason_and_stores_nothing(chapi: Api, body: dict[str, Any], message: str) -> None:
    res = chapi.call("POST", "/api/v1/chat-channels", json=body)
    assert res["code"] == 101 and res["message"].startswith(message), res
    assert chapi.call("GET", "/api/v1/chat-channels")["data"] == []


def test_credentials_are_sealed_at_rest_and_tenants_kept_apart(chapi: Api, platforms: Platforms, data_dir: Any) -> None:
    chat = chapi.call("POST", "/api/v1/chats", json={"name": "mine"})["data"]["id"]
    channels = [create_channel(chapi, kind, platforms, chat) for kind in ("telegram", "line", "whatsapp", "dingtalk")]
    stored = (data_dir / "ragflow.sqlite3").read_bytes()
    assert not [s for s in SECRETS if s.encode() in stored]
    shown = json.dumps(chapi.call("GET", "/api/v1/chat-channels")) + json.dumps([
        chapi.call("GET", f"/api/v1/chat-channels/{c['id']}") for c in channels])
    assert not [s for s in SECRETS if s in shown] and "_webhook_secret" not in shown

    other = chapi.new_tenant_key()
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/runtime")):
        assert chapi.call(method, f"/api/v1/chat-channels/{channels[0]['id']}{path}", key=other,
                          json={"name": "stolen"}) == NO_AUTHORIZATION
    assert chapi.call("GET", "/api/v1/chat-channels", key=other)["data"] == []
    # another tenant's chat is one that does not exist, at create and at update
    body = {"name": "b", "channel": "line", "chat_id": chat,
            "config": {"credential": {"channel_secret": "s" * 12, "channel_access_token": "t" * 12}}}
    assert chapi.call("POST", "/api/v1/chat-channels", key=other, json=body) == {
        "code": 102, "message": "Can't find this chat assistant!", "data": None}
    own = chapi.call("POST", "/api/v1/chat-channels", key=other, json={**body, "chat_id": None})["data"]
    assert chapi.call("PATCH", f"/api/v1/chat-channels/{own['id']}", key=other, json={"chat_id": chat})["code"] == 102
    assert chapi.call("GET", f"/api/v1/chat-channels/{channels[0]['id']}")["data"]["name"] == "telegram bot"


def test_whatsapp_cloud_api(chapi: Api, platforms: Platforms) -> None:
    channel = create_channel(chapi, "whatsapp", platforms, handbook_chat(chapi))
    url = f"/api/v1/chat-channels/{channel['id']}/webhook"
    check = {"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY, "hub.challenge": "1158201444"}
    answered = chapi.client.get(url, params=check)
    assert answered.status_code == 200 and answered.text == "1158201444"
    assert chapi.client.get(url, params={**check, "hub.verify_token": "guess"}).status_code == 403
    assert runtime(chapi, channel["id"])["webhook_status"] == "verified"
    story(chapi, platforms, "whatsapp", channel)
    [sent] = platforms.sent["whatsapp"][-1:]
    assert sent["body"]["to"] == "4915112345678" and sent["body"]["context"] == {"message_id": "wamid.in1"}
    assert sent["headers"]["authorization"].startswith("Bearer ")


def test_wecom_callback_mode(chapi: Api, platforms: Platforms) -> None:
    channel = create_channel(chapi, "wecom", platforms, handbook_chat(chapi))
    url = f"/api/v1/chat-channels/{channel['id']}/webhook"
    echo = wecom_encrypt(b"echo-3141592653")
    answered = chapi.client.get(url, params={**wecom_query(echo), "echostr": echo})
    assert answered.status_code == 200 and answered.text == "echo-3141592653"
    assert chapi.client.get(url, params={**wecom_query(echo, token="forged"), "echostr": echo}).status_code == 401
    other_corp = wecom_encrypt(b"echo", corp="ww-another-corp")
    assert chapi.client.get(url, params={**wecom_query(other_corp), "echostr": other_corp}).status_code == 401
    story(chapi, platforms, "wecom", channel)
    [sent] = platforms.sent["wecom"][-1:]
    assert sent["body"]["touser"] == "zhangsan" and sent["body"]["agentid"] == 1000002
    assert sent["query"]["access_token"] == ["wecom-access"]


def test_dingtalk_robot_http_mode(chapi: Api, platforms: Platforms) -> None:
    import time

    channel = create_channel(chapi, "dingtalk", platforms, handbook_chat(chapi))
    stale = post(chapi, channel["id"], delivery("dingtalk", platforms, 50, QUESTION, at=time.time() - 7200))
    assert stale.status_code == 401
    story(chapi, platforms, "dingtalk", channel)
    [sent] = platforms.sent["dingtalk"][-1:]
    assert sent["path"] == "/dingtalk/robot/sendBySession" and sent["query"]["session"] == ["s1"]


def story(api: Api, platforms: Platforms, kind: str, channel: dict[str, Any]) -> None:
    """Forged: refused; signed: answered with the handbook cited; the same delivery again: answered once."""
    before = len(platforms.sent[kind])
    assert post(api, channel["id"], delivery(kind, platforms, 1, QUESTION, forge=True)).status_code == 401
    signed = delivery(kind, platforms, 1, QUESTION)
    assert post(api, channel["id"], signed).status_code == 200
    assert post(api, channel["id"], signed).status_code == 200
    [answer] = wait_for(lambda: platforms.answers(kind)[before:])
    assert "twenty days of annual leave" in answer and answer.rstrip().endswith("Sources:\n[1] handbook.txt"), answer
    wait_for(lambda: runtime(api, channel["id"])["replies"] == 1, what="the reply count")
    state = runtime(api, channel["id"])
    assert (state["deliveries"], state["duplicates"], state["replies"], state["status"]) == (1, 1, 1, "connected")
    assert len(platforms.answers(kind)[before:]) == 1


def test_without_a_chat_nothing_answers_and_the_runtime_says_why(chapi: Api, platforms: Platforms) -> None:
    chat = chapi.call("POST", "/api/v1/chats", json={"name": "short-lived"})["data"]["id"]
    channel = create_channel(chapi, "line", platforms, None)
    before = len(platforms.sent["line"])
    assert post(chapi, channel["id"], delivery("line", platforms, 60, QUESTION)).status_code == 200
    state = runtime(chapi, channel["id"])
    assert state["last_error"] == "A message arrived, but no chat assistant is connected to this channel."
    assert state["status"] == "error" and state["deliveries"] == 0

    assert chapi.call("PATCH", f"/api/v1/chat-channels/{channel['id']}", json={"chat_id": chat})["code"] == 0
    assert chapi.call("DELETE", "/api/v1/chats", json={"ids": [chat]})["code"] == 0
    assert post(chapi, channel["id"], delivery("line", platforms, 61, QUESTION)).status_code == 200
    wait_for(lambda: runtime(chapi, channel["id"])["last_error"] == "The connected chat assistant no longer exists.")
    assert platforms.sent["line"][before:] == []


def test_a_failing_model_is_answered_as_ragflow_answers_it(chapi: Api, platforms: Platforms,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore import bootstrap
    from ragcore.errors import ProviderError

    def down(*_: Any) -> Any:
        raise ProviderError("the chat model timed out")

    channel = create_channel(chapi, "line", platforms, chapi.call("POST", "/api/v1/chats", json={"name": "c"})["data"]["id"])
    monkeypatch.setattr(bootstrap.completion(), "complete", down)
    before = len(platforms.sent["line"])
    assert post(chapi, channel["id"], delivery("line", platforms, 70, "Hello?")).status_code == 200
    [answer] = wait_for(lambda: platforms.answers("line")[before:])
    assert answer == "**ERROR**: the chat model timed out"
    assert runtime(chapi, channel["id"])["last_error"] == "The chat assistant failed: the chat model timed out"
