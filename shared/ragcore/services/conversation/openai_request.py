"""The OpenAI-compatible chat completion request: RAGFlow's checks, in RAGFlow's order and words.

The body is checked before the chat is looked up, so a malformed request gets the same answer whatever the
chat id is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ragcore.errors import ApiError, RetCode

PLACEHOLDER_MODEL = "model"  # "use the chat assistant's own model"


@dataclass(frozen=True)
class OpenAIChatRequest:
    question: str
    history: list[dict[str, str]]
    model: str
    stream: bool
    with_reference: bool
    include_metadata: bool
    metadata_fields: list[str] | None
    metadata_condition: dict[str, Any] | None

    def model_for(self, chat: dict[str, Any]) -> str:
        return str(chat.get("llm_id") or self.model) if self.model == PLACEHOLDER_MODEL else self.model


def _fail(message: str) -> ApiError:
    return ApiError(RetCode.DATA_ERROR, message)


def _text(content: Any) -> str | None:
    """A message's content as text: a string, or the text parts of a content-part list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return None


def parse_openai_chat(body: dict[str, Any]) -> OpenAIChatRequest:
    missing = [name for name in ("model", "messages") if name not in body]
    if missing:
        raise ApiError(RetCode.ARGUMENT_ERROR, f"required argument are missing: {','.join(missing)}; ")
    extra = body.get("extra_body") or {}
    if not isinstance(extra, dict):
        raise _fail("extra_body must be an object.")
    ref_meta = extra.get("reference_metadata") or {}
    if not isinstance(ref_meta, dict):
        raise _fail("reference_metadata must be an object.")
    fields = ref_meta.get("fields")
    if fields is not None and not isinstance(fields, list):
        raise _fail("reference_metadata.fields must be an array.")
    messages = body.get("messages") or []
    if not isinstance(messages, list) or len(messages) < 1:
        raise _fail("You have to provide messages." if isinstance(messages, list) else "messages must be an array.")
    normalized: list[dict[str, str]] = []
    for message in messages:
        if not isinstance(message, dict):
            raise _fail("Each message must be an object.")
        content = _text(message.get("content"))
        if content is None:
            raise _fail("messages[].content must be a string or an array of content parts.")
        normalized.append({"role": str(message.get("role") or ""), "content": content})
    if normalized[-1]["role"] != "user":
        raise _fail("The last content of this conversation is not from user.")
    condition = extra.get("metadata_condition") or None
    if condition is not None and not isinstance(condition, dict):
        raise _fail("metadata_condition must be an object.")
    history = [m for m in normalized[:-1] if m["role"] in ("user", "assistant")]
    while history and history[0]["role"] == "assistant":  # a conversation starts with the user
        history.pop(0)
    return OpenAIChatRequest(
        question=normalized[-1]["content"],
        history=history,
        model=str(body.get("model") or PLACEHOLDER_MODEL),
        stream=body.get("stream") is True,
        with_reference=bool(extra.get("reference") or body.get("reference")),
        include_metadata=bool(ref_meta.get("include", False)),
        metadata_fields=[f for f in fields if isinstance(f, str)] if fields is not None else None,
        metadata_condition=condition,
    )
