"""Text to speech and speech to text through the tenant's default TTS / ASR model (`tts_id` / `asr_id`), as RAGFlow's
POST /chat/audio/speech and /chat/audio/transcription answer."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ragcore.errors import ApiError, ProviderError, RetCode
from ragcore.ports import SpeechModel, Transcriber
from ragcore.services.models.names import DEFAULT_FIELDS

if TYPE_CHECKING:
    from ragcore.ports import ModelConfig
    from ragcore.services.models.tenant_models import TenantModels

# RAGFlow speaks a text sentence by sentence, cut at these marks (Chinese and ASCII)
SENTENCE_BREAK = re.compile(r"[，。/《》？；：！\n\r:;]+")
AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".webm", ".opus", ".wma"})


def stream_error(message: str) -> bytes:
    """What RAGFlow writes into the audio stream when speaking fails after the reply has started."""
    frame = {"code": 500, "message": message, "data": {"answer": "**ERROR**: " + message}}
    return ("data:" + json.dumps(frame, ensure_ascii=False)).encode("utf-8")


class AudioService:
    def __init__(self, models: TenantModels, speech_of: Callable[[ModelConfig], SpeechModel],
                 transcriber_of: Callable[[ModelConfig], Transcriber]) -> None:
        self._models = models
        self._speech_of = speech_of
        self._transcriber_of = transcriber_of

    def _default(self, tenant: str, kind: str) -> ModelConfig:
        ref = self._models.defaults(tenant).get(DEFAULT_FIELDS[kind])
        if not ref:
            raise ApiError(RetCode.DATA_ERROR, f"No default {kind} model is set.")
        try:
            return self._models.resolve(tenant, kind, str(ref))
        except LookupError as exc:
            raise ApiError(RetCode.DATA_ERROR, str(exc)) from None

    def speech(self, tenant: str, body: dict[str, Any]) -> Iterator[bytes]:
        """The audio of body["text"]: checked and the model resolved now, so those errors are JSON replies; the
        provider is called as the audio is read."""
        text = body.get("text")
        if "text" not in body:
            raise ApiError(RetCode.ARGUMENT_ERROR, "required argument are missing: text; ")
        if not isinstance(text, str):
            raise ApiError(RetCode.ARGUMENT_ERROR, "`text` should be a string.")
        config = self._default(tenant, "tts")

        def audio() -> Iterator[bytes]:
            try:
                model = self._speech_of(config)
                for sentence in SENTENCE_BREAK.split(text):
                    if sentence.strip():  # RAGFlow also sends the empty pieces, which providers refuse
                        yield from model.speak(sentence)
            except ProviderError as exc:
                yield stream_error(str(exc))

        return audio()

    @staticmethod
    def check_audio_name(filename: str) -> None:
        suffix = os.path.splitext(filename)[-1].lower()
        if suffix not in AUDIO_SUFFIXES:
            raise ApiError(RetCode.DATA_ERROR,
                           f"Unsupported audio format: {suffix}. Allowed: {', '.join(sorted(AUDIO_SUFFIXES))}")

    def transcriber(self, tenant: str) -> Transcriber:
        return self._transcriber_of(self._default(tenant, "asr"))

    @staticmethod
    def transcribe(model: Transcriber, filename: str, audio: bytes) -> str:
        try:
            return model.transcribe(filename, audio)
        except ProviderError as exc:
            raise ApiError(RetCode.DATA_ERROR, f"**ERROR**: {exc}") from None

    @staticmethod
    def transcription_events(model: Transcriber, filename: str, audio: bytes) -> Iterator[dict[str, Any]]:
        """RAGFlow's streamed transcription of a model that cannot stream: one final event (or an error event)."""
        try:
            yield {"event": "final", "text": model.transcribe(filename, audio), "streaming": False}
        except ProviderError as exc:
            yield {"event": "error", "text": str(exc)}
