"""Discord (interactions endpoint): every interaction is signed with the application's Ed25519 key over
X-Signature-Timestamp + body (X-Signature-Ed25519); a PING is answered PONG, an /ask command with a deferred
response at once, and the answer edits that response through the interaction's webhook (valid 15 minutes).

Registering creates the /ask command and sets the application's Interactions Endpoint URL (Discord checks it
then with a signed PING and a forged one, which must be refused with 401)."""

from __future__ import annotations

import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ragcore.adapters.channels.common import Http, fresh, json_body, required
from ragcore.domain.channels import ChannelError, Inbound, Received, Rejected, WebhookRequest

WINDOW_S = 300.0  # Discord sends an interaction as it happens and never retries one
PING, COMMAND = 1, 2
PONG, DEFERRED = 1, 5
EPHEMERAL = 64
COMMAND_NAME = "ask"
ASK_COMMAND = {
    "name": COMMAND_NAME, "type": 1, "description": "Ask the assistant a question",
    "options": [{"type": 3, "name": "question", "description": "Your question", "required": True}],
}


def _reply(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def _question(data: dict[str, Any]) -> str:
    """The text of the command's string options (the /ask command has one: question)."""
    options = data.get("options") or []
    return " ".join(str(o.get("value")) for o in options if isinstance(o, dict) and isinstance(o.get("value"), str))


class DiscordPlatform:
    kind = "discord"
    max_text = 2000

    def __init__(self, credential: dict[str, Any], http: Http, base: str) -> None:
        self._token, self._application, public_key = required(credential, "token", "application_id", "public_key")
        if not (self._token and self._application and public_key):
            raise ChannelError("Discord channels need config.credential.token, application_id and public_key "
                               "(Developer Portal: Bot, General Information).")
        try:
            self._key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        except ValueError:
            raise ChannelError("config.credential.public_key must be the application's public key (64 hex "
                               "characters, Developer Portal: General Information).") from None
        self._http = http
        self._base = base.rstrip("/")

    def receive(self, request: WebhookRequest, now: float) -> Received:
        if request.method != "POST":
            raise Rejected("Discord delivers interactions by POST", 405)
        signature, timestamp = request.header("X-Signature-Ed25519"), request.header("X-Signature-Timestamp")
        try:
            self._key.verify(bytes.fromhex(signature), timestamp.encode() + request.body)
        except (InvalidSignature, ValueError):
            raise Rejected("invalid request signature") from None
        try:
            fresh(float(timestamp), now, WINDOW_S)
        except ValueError:
            raise Rejected("X-Signature-Timestamp is not a time") from None
        interaction = json_body(request.body)
        if not isinstance(interaction, dict):
            raise Rejected("not a Discord interaction", 400)
        if interaction.get("type") == PING:
            return Received(body=_reply({"type": PONG}), verified=True)
        data = interaction.get("data") or {}
        if interaction.get("type") != COMMAND or data.get("name") != COMMAND_NAME:
            return Received(body=_reply({"type": 4, "data": {"content": "Ask with /ask question:<your question>.",
                                                                 "flags": EPHEMERAL}}))
        question = _question(data)
        if not question.strip():
            return Received(body=_reply({"type": 4, "data": {"content": "The question is empty.", "flags": EPHEMERAL}}))
        user = (interaction.get("member") or {}).get("user") or interaction.get("user") or {}
        inbound = Inbound(
            delivery_id=str(interaction.get("id", "")), chat_id=str(interaction.get("channel_id", "")),
            sender_id=str(user.get("id", "")), message_id=str(interaction.get("id", "")), text=question,
            reply={"interaction_token": str(interaction.get("token", ""))},
        )
        return Received(body=_reply({"type": DEFERRED}), messages=(inbound,))

    def send(self, message: Inbound, text: str) -> None:
        token = message.reply.get("interaction_token", "")
        if not token:
            raise ChannelError("the interaction's token is missing: nothing to answer")
        self._http.call("PATCH", f"{self._base}/webhooks/{self._application}/{token}/messages/@original",
                        {"content": text, "allowed_mentions": {"parse": []}})

    def _bot(self) -> dict[str, str]:
        return {"Authorization": f"Bot {self._token}"}

    def register(self, webhook_url: str) -> str:
        self._http.call("POST", f"{self._base}/applications/{self._application}/commands", ASK_COMMAND, self._bot())
        self._http.call("PATCH", f"{self._base}/applications/@me", {"interactions_endpoint_url": webhook_url},
                        self._bot())
        return "the /ask command is registered and the Interactions Endpoint URL is set"

    def unregister(self) -> None:
        self._http.call("PATCH", f"{self._base}/applications/@me", {"interactions_endpoint_url": None}, self._bot())
