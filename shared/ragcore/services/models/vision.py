"""A vision model describing a picture (RAGFlow's image2text `describe`), over any chat model that takes an
OpenAI-style image_url content part."""

from __future__ import annotations

import base64
from typing import Any

from ragcore.ports import ChatModel

DESCRIBE_PROMPT = (
    "Describe the content of this picture: what it shows, where and when if that can be told, who appears and what "
    "happens. If it contains numbers, tables or text, write them out. Answer in the language of any text in it."
)


class ImageDescriber:
    def __init__(self, chat: ChatModel) -> None:
        self._chat = chat

    def describe(self, jpeg: bytes) -> str:
        url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        message: dict[str, Any] = {"role": "user", "content": [
            {"type": "text", "text": DESCRIBE_PROMPT},
            {"type": "image_url", "image_url": {"url": url}},
        ]}
        text, _ = self._chat.complete([message], temperature=0.1)
        return text
