"""Loopback fakes of the chat platforms' APIs (one server, a path prefix per platform) and what each platform sends
to a channel's webhook, signed as the platform signs it (or forged).

Each `Kind` knows its platform's credential, how a delivery of a user's message looks and is signed, and where the
fake records the answer; the tests run the same story over every kind."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.connectors.fake_http import FakeServer, Request, json_reply

KINDS = ("telegram", "discord", "feishu", "line", "whatsapp", "wecom", "dingtalk")
TELEGRAM_TOKEN = "123456:telegram-bot-token-ABCDEFG"
DISCORD_TOKEN = "discord-bot-token-0123456789"
DISCORD_APP = "987654321098765432"
FEISHU_SECRET = "feishu-app-secret-0123456789"
FEISHU_TOKEN = "feishu-verification-token-01"
FEISHU_ENCRYPT_KEY = "feishu-encrypt-key-0123456789"
LINE_SECRET = "line-channel-secret-0123456789"
LINE_TOKEN = "line-channel-access-token-0123456789"
WHATSAPP_TOKEN = "whatsapp-access-token-0123456789"
WHATSAPP_SECRET = "whatsapp-app-secret-0123456789"
WHATSAPP_VERIFY = "my-verify-phrase-0123"
WHATSAPP_PHONE = "106540352242922"
WECOM_TOKEN = "wecomtoken0123"
WECOM_AES = base64.b64encode(b"wecom-aes-key-of-thirty-two-byte").decode().rstrip("=")
WECOM_CORP = "ww0123456789abcdef"
WECOM_SECRET = "wecom-app-secret-0123456789"
DINGTALK_SECRET = "dingtalk-app-secret-0123456789"

# every secret a test may look for where it must not be (the store, a reply)
SECRETS = (TELEGRAM_TOKEN, DISCORD_TOKEN, FEISHU_SECRET, FEISHU_TOKEN, FEISHU_ENCRYPT_KEY, LINE_SECRET, LINE_TOKEN,
           WHATSAPP_TOKEN, WHATSAPP_SECRET, WECOM_SECRET, DINGTALK_SECRET)


@dataclass
class Delivery:
    method: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, str] = field(default_factory=dict)


class Platforms:
    """The fake APIs on one loopback server; `sent[kind]` lists the answers each received."""

    def __init__(self, fake: FakeServer) -> None:
        self.fake = fake
        self.discord_key = Ed25519PrivateKey.generate()
        self.telegram_secret = ""  # what setWebhook was given: Telegram sends it back on every update
        self.line_expired_tokens: set[str] = set()
        self.sent: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
        self.registered: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
        self._routes()

    @property
    def base(self) -> str:
        return self.fake.base_url

    def api_bases(self) -> str:
        return json.dumps({"telegram": f"{self.base}/telegram", "discord": f"{self.base}/discord/api/v10",
                           "feishu": f"{self.base}/feishu", "lark": f"{self.base}/lark", "line": f"{self.base}/line",
                           "whatsapp": f"{self.base}/whatsapp/v21.0", "wecom": f"{self.base}/wecom",
                           "dingtalk": f"{self.base}/dingtalk"})

    def discord_public_key(self) -> str:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self.discord_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    # ---- the platforms' APIs ----------------------------------------------------------------------------------
    def _routes(self) -> None:
        route = self.fake.route
        route("POST", r"/telegram/bot(?P<token>[^/]+)/(?P<method>\w+)", self._telegram)
        route("POST", rf"/discord/api/v10/applications/{DISCORD_APP}/commands", self._discord_command)
        route("PATCH", r"/discord/api/v10/applications/@me", self._discord_endpoint)
        route("PATCH", rf"/discord/api/v10/webhooks/{DISCORD_APP}/(?P<token>[^/]+)/messages/@original",
              lambda r: self._record("discord", r, {"id": "1", "content": r.json()["content"]}))
        route("POST", r"/(feishu|lark)/open-apis/auth/v3/tenant_access_token/internal", self._feishu_token)
        route("POST", r"/(feishu|lark)/open-apis/im/v1/messages/(?P<id>[^/]+)/reply", self._feishu_reply)
        route("PUT", r"/line/v2/bot/channel/webhook/endpoint", lambda r: self._register("line", r))
        route("POST", r"/line/v2/bot/message/reply", self._line_reply)
        route("POST", r"/line/v2/bot/message/push", lambda r: self._record("line", r, {"sentMessages": [{"id": "2"}]}))
        route("POST", rf"/whatsapp/v21.0/{WHATSAPP_PHONE}/messages",
              lambda r: self._record("whatsapp", r, {"messages": [{"id": "wamid.out"}]}))
        route("GET", r"/wecom/cgi-bin/gettoken", self._wecom_token)
        route("POST", r"/wecom/cgi-bin/message/send", lambda r: self._record("wecom", r, {"errcode": 0, "errmsg": "ok"}))
        route("POST", r"/dingtalk/robot/sendBySession", lambda r: self._record("dingtalk", r, {"errcode": 0, "errmsg": "ok"}))

    def _record(self, kind: str, request: Request, reply: Any) -> tuple[int, dict[str, str], bytes]:
        self.sent[kind].append({"path": request.path, "headers": request.headers, "body": request.json(),
                                "query": request.query})
        return json_reply(reply)

    def _register(self, kind: str, request: Request) -> tuple[int, dict[str, str], bytes]:
        self.registered[kind].append({"path": request.path, "body": request.json(), "headers": request.headers})
        return json_reply({})

    def _telegram(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        assert request.match is not None
        if request.match["token"] != TELEGRAM_TOKEN:
            return json_reply({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.match["method"]
        if method == "setWebhook":
            self.telegram_secret = request.json()["secret_token"]
            self.registered["telegram"].append({"path": request.path, "body": request.json()})
            return json_reply({"ok": True, "result": True, "description": "Webhook was set"})
        if method == "deleteWebhook":
            self.registered["telegram"].append({"path": request.path, "body": request.json()})
            return json_reply({"ok": True, "result": True, "description": "Webhook was deleted"})
        if method == "sendMessage":
            return self._record("telegram", request, {"ok": True, "result": {"message_id": 900}})
        return json_reply({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    def _discord_command(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.headers.get("authorization") != f"Bot {DISCORD_TOKEN}":
            return json_reply({"message": "401: Unauthorized", "code": 0}, 401)
        self.registered["discord"].append({"path": request.path, "body": request.json()})
        return json_reply({"id": "5", **request.json()}, 201)

    def _discord_endpoint(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        """Discord checks the URL before it keeps it: a signed PING must get a PONG, a forged one a 401."""
        url = request.json()["interactions_endpoint_url"]
        self.registered["discord"].append({"path": request.path, "body": request.json()})
        if url and urlsplit(url).hostname == "127.0.0.1":
            ping = json.dumps({"id": "ping-1", "type": 1, "application_id": DISCORD_APP}).encode()
            good = httpx.post(url, content=ping, headers=self.discord_headers(ping))
            forged = httpx.post(url, content=ping, headers=self.discord_headers(ping, forge=True))
            if good.status_code != 200 or good.json() != {"type": 1} or forged.status_code != 401:
                return json_reply({"code": 50035, "message": "Invalid Form Body", "errors": {"interactions_endpoint_url": {
                    "_errors": [{"code": "APPLICATION_INTERACTIONS_ENDPOINT_URL_INVALID",
                                 "message": "The specified interactions endpoint url could not be verified."}]}}}, 400)
        return json_reply({"id": DISCORD_APP, "interactions_endpoint_url": url})

    def discord_headers(self, body: bytes, *, forge: bool = False, at: float | None = None) -> dict[str, str]:
        timestamp = str(int(at if at is not None else time.time()))
        key = Ed25519PrivateKey.generate() if forge else self.discord_key
        return {"X-Signature-Ed25519": key.sign(timestamp.encode() + body).hex(), "X-Signature-Timestamp": timestamp,
                "Content-Type": "application/json"}

    def _feishu_token(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.json() != {"app_id": "cli_a1b2c3", "app_secret": FEISHU_SECRET}:
            return json_reply({"code": 10014, "msg": "app secret invalid"})
        return json_reply({"code": 0, "msg": "ok", "tenant_access_token": "t-feishu-tenant-token", "expire": 7200})

    def _feishu_reply(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.headers.get("authorization") != "Bearer t-feishu-tenant-token":
            return json_reply({"code": 99991663, "msg": "Invalid access token"}, 400)
        return self._record("feishu", request, {"code": 0, "msg": "success", "data": {"message_id": "om_out"}})

    def _line_reply(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.json()["replyToken"] in self.line_expired_tokens:
            return json_reply({"message": "Invalid reply token"}, 400)
        return self._record("line", request, {"sentMessages": [{"id": "1"}]})

    def _wecom_token(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        if (request.arg("corpid"), request.arg("corpsecret")) != (WECOM_CORP, WECOM_SECRET):
            return json_reply({"errcode": 40001, "errmsg": "invalid credential"})
        return json_reply({"errcode": 0, "errmsg": "ok", "access_token": "wecom-access", "expires_in": 7200})

    # ---- the answer a kind's fake received ----------------------------------------------------------------------
    def answers(self, kind: str) -> list[str]:
        out = []
        for sent in self.sent[kind]:
            body = sent["body"]
            if kind == "telegram":
                out.append(body["text"])
            elif kind == "discord":
                out.append(body["content"])
            elif kind == "feishu":
                out.append(json.loads(body["content"])["text"])
            elif kind == "line":
                out.append(body["messages"][0]["text"])
            elif kind == "whatsapp":
                out.append(body["text"]["body"])
            elif kind == "wecom":
                out.append(body["markdown"]["content"])
            else:
                out.append(body["markdown"]["text"])
        return out


# ---- the kinds: credential, a delivery, a forged one --------------------------------------------------------------
def credential(kind: str, platforms: Platforms) -> dict[str, Any]:
    return {
        "telegram": {"token": TELEGRAM_TOKEN},
        "discord": {"token": DISCORD_TOKEN, "application_id": DISCORD_APP, "public_key": platforms.discord_public_key()},
        "feishu": {"app_id": "cli_a1b2c3", "app_secret": FEISHU_SECRET, "domain": "feishu",
                   "verification_token": FEISHU_TOKEN, "encrypt_key": FEISHU_ENCRYPT_KEY},
        "line": {"channel_secret": LINE_SECRET, "channel_access_token": LINE_TOKEN},
        "whatsapp": {"access_token": WHATSAPP_TOKEN, "phone_number_id": WHATSAPP_PHONE, "app_secret": WHATSAPP_SECRET,
                     "verify_token": WHATSAPP_VERIFY},
        "wecom": {"connection_type": "webhook", "corp_id": WECOM_CORP, "agent_id": 1000002, "secret": WECOM_SECRET,
                  "token": WECOM_TOKEN, "aes_key": WECOM_AES},
        "dingtalk": {"client_id": "dingappkey0123", "client_secret": DINGTALK_SECRET},
    }[kind]


def feishu_encrypt(payload: dict[str, Any], key: str = FEISHU_ENCRYPT_KEY) -> str:
    data = json.dumps(payload).encode()
    pad = 16 - len(data) % 16
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(hashlib.sha256(key.encode()).digest()), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()).decode()


def wecom_encrypt(message: bytes, corp: str = WECOM_CORP) -> str:
    key = base64.b64decode(WECOM_AES + "=")
    data = os.urandom(16) + struct.pack(">I", len(message)) + message + corp.encode()
    pad = 32 - len(data) % 32
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()).decode()


def wecom_query(encrypted: str, *, token: str = WECOM_TOKEN, at: float | None = None) -> dict[str, str]:
    timestamp, nonce = str(int(at if at is not None else time.time())), "nonce123"
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()
    return {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}


def delivery(kind: str, platforms: Platforms, n: int, text: str, *, forge: bool = False,
             at: float | None = None) -> Delivery:
    """Delivery number n (its platform id derives from n: the same n is the same delivery) of a user's message."""
    now = at if at is not None else time.time()
    if kind == "telegram":
        body = json.dumps({"update_id": 7000 + n, "message": {
            "message_id": 40 + n, "date": int(now), "text": text, "from": {"id": 555, "is_bot": False, "first_name": "Ann"},
            "chat": {"id": 555, "type": "private"}}}).encode()
        secret = "forged-secret" if forge else platforms.telegram_secret
        return Delivery("POST", {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}, body)
    if kind == "discord":
        body = json.dumps({"id": f"int-{n}", "type": 2, "application_id": DISCORD_APP, "token": f"itoken-{n}",
                           "channel_id": "chan-1", "member": {"user": {"id": "u-1"}},
                           "data": {"name": "ask", "options": [{"type": 3, "name": "question", "value": text}]}}).encode()
        return Delivery("POST", platforms.discord_headers(body, forge=forge, at=now), body)
    if kind == "feishu":
        event = {"schema": "2.0", "header": {"event_id": f"ev-{n}", "token": FEISHU_TOKEN, "event_type": "im.message.receive_v1",
                                             "create_time": str(int(now * 1000)), "app_id": "cli_a1b2c3"},
                 "event": {"sender": {"sender_id": {"open_id": "ou_1"}, "sender_type": "user"},
                           "message": {"message_id": f"om_{n}", "chat_id": "oc_1", "chat_type": "p2p",
                                       "message_type": "text", "content": json.dumps({"text": f"@_user_1 {text}"})}}}
        body = json.dumps({"encrypt": feishu_encrypt(event)}).encode()
        timestamp, nonce = str(int(now)), f"nonce-{n}"
        key = "not-the-key" if forge else FEISHU_ENCRYPT_KEY
        signature = hashlib.sha256((timestamp + nonce + key).encode() + body).hexdigest()
        return Delivery("POST", {"X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
                                 "X-Lark-Signature": signature, "Content-Type": "application/json"}, body)
    if kind == "line":
        body = json.dumps({"destination": "U0", "events": [{
            "type": "message", "mode": "active", "timestamp": int(now * 1000), "webhookEventId": f"01HWEB{n:04d}",
            "deliveryContext": {"isRedelivery": False}, "replyToken": f"reply-token-{n}",
            "source": {"type": "user", "userId": "U1234"}, "message": {"id": f"{500 + n}", "type": "text", "text": text}}]}).encode()
        secret = "not-the-secret" if forge else LINE_SECRET
        signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        return Delivery("POST", {"X-Line-Signature": signature, "Content-Type": "application/json"}, body)
    if kind == "whatsapp":
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550000000", "phone_number_id": WHATSAPP_PHONE},
            "messages": [{"from": "4915112345678", "id": f"wamid.in{n}", "timestamp": str(int(now)), "type": "text",
                          "text": {"body": text}}]}}]}]}).encode()
        secret = "not-the-secret" if forge else WHATSAPP_SECRET
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return Delivery("POST", {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}, body)
    if kind == "wecom":
        inner = (f"<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>"
                 f"<CreateTime>{int(now)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
                 f"<MsgId>{9000 + n}</MsgId><AgentID>1000002</AgentID></xml>").encode()
        encrypted = wecom_encrypt(inner)
        body = (f"<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>").encode()
        query = wecom_query(encrypted, token="forged" if forge else WECOM_TOKEN, at=now)
        return Delivery("POST", {"Content-Type": "text/xml"}, body, query)
    body = json.dumps({"msgtype": "text", "text": {"content": text}, "msgId": f"msg{n}", "createAt": int(now * 1000),
                       "conversationType": "1", "conversationId": "cid-1", "senderStaffId": "staff-1", "senderNick": "Ann",
                       "sessionWebhook": f"{platforms.base}/dingtalk/robot/sendBySession?session=s{n}",
                       "sessionWebhookExpiredTime": int(now * 1000) + 3600_000}).encode()
    timestamp = str(int(now * 1000))
    secret = "not-the-secret" if forge else DINGTALK_SECRET
    sign = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()).decode()
    return Delivery("POST", {"timestamp": timestamp, "sign": sign, "Content-Type": "application/json"}, body)

