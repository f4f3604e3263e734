"""Speech and transcription over an OpenAI-compatible audio API: POST {base_url}/audio/speech (JSON in, audio bytes
streamed out) and POST {base_url}/audio/transcriptions (multipart `model` + `file`, JSON `text` out), as RAGFlow's
OpenAI TTS and Whisper models call them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

from ragcore.errors import ProviderError

VOICE = "alloy"  # RAGFlow's default voice for OpenAI-compatible TTS


def _headers(api_key: str) -> dict[str, str]:
    # RAGFlow sends no key for the placeholder "x" (local servers that take none)
    return {"Authorization": f"Bearer {api_key}"} if api_key and api_key != "x" else {}


def _reason(status: int, body: bytes) -> str:
    try:
        detail = json.loads(body or b"{}").get("error", {})
        message = detail.get("message") if isinstance(detail, dict) else str(detail)
    except (ValueError, AttributeError):
        message = ""
    return f"{status} {message}".strip()


class OpenAISpeech:
    def __init__(self, model: str, base_url: str, api_key: str, *, timeout: float = 60) -> None:
        if not base_url:
            raise ProviderError(f"The TTS model {model} has no base URL for an OpenAI-compatible audio API")
        self._url = base_url.rstrip("/") + "/audio/speech"
        self._model = model
        self._headers = _headers(api_key)
        self._timeout = timeout

    def speak(self, text: str) -> Iterator[bytes]:
        body = {"model": self._model, "voice": VOICE, "input": text}
        try:
            with httpx.stream("POST", self._url, json=body, headers=self._headers, timeout=self._timeout) as reply:
                if reply.status_code != 200:
                    raise ProviderError(f"The TTS model refused the request: {_reason(reply.status_code, reply.read())}")
                yield from (piece for piece in reply.iter_bytes() if piece)
        except httpx.HTTPError as exc:
            raise ProviderError(f"The TTS model could not be reached: {type(exc).__name__}") from exc


class OpenAITranscriber:
    def __init__(self, model: str, base_url: str, api_key: str, *, timeout: float = 120) -> None:
        if not base_url:
            raise ProviderError(f"The ASR model {model} has no base URL for an OpenAI-compatible audio API")
        self._url = base_url.rstrip("/") + "/audio/transcriptions"
        self._model = model
        self._headers = _headers(api_key)
        self._timeout = timeout

    def transcribe(self, filename: str, audio: bytes) -> str:
        try:
            reply = httpx.post(self._url, data={"model": self._model}, files={"file": (filename, audio)},
                               headers=self._headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise ProviderError(f"The ASR model could not be reached: {type(exc).__name__}") from exc
        if reply.status_code != 200:
            raise ProviderError(f"The ASR model refused the request: {_reason(reply.status_code, reply.content)}")
        try:
            return str(reply.json().get("text") or "").strip()
        except ValueError as exc:
            raise ProviderError("The ASR model answered without JSON") from exc
