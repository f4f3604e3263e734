"""POST /chat/audio/speech and /chat/audio/transcription through the tenant's default TTS / ASR model, over an
OpenAI-compatible audio API (a fake on loopback that records each request's shape and key)."""

from __future__ import annotations

import json

from tests.conftest import Api
from tests.fakes.openai_server import FakeOpenAI, speech_audio

PROVIDER = "/api/v1/providers/OpenAI-API-Compatible"
ALLOWED = ".aac, .flac, .m4a, .mp3, .ogg, .opus, .wav, .webm, .wma"


def add_audio_models(api: Api, fake: FakeOpenAI, key: str = "sk-audio-1234") -> None:
    assert api.call("PUT", "/api/v1/providers", json={"provider_name": "OpenAI-API-Compatible"}) == {"code": 0}
    created = api.call("POST", f"{PROVIDER}/instances", json={
        "instance_name": "CI", "api_key": key, "base_url": fake.url,
        "model_info": [{"model_name": "chat-model", "model_type": ["chat"]}]})
    assert created == {"code": 0}, created
    for name, kind in (("tts-1", "tts"), ("whisper-1", "speech2text")):
        res = api.call("POST", f"{PROVIDER}/instances/CI/models", json={"model_name": name, "model_type": [kind]})
        assert res["code"] == 0, res


def set_default(api: Api, name: str, kind: str) -> None:
    res = api.call("PATCH", "/api/v1/models/default", json={"model_provider": "OpenAI-API-Compatible",
                                                              "model_instance": "CI", "model_name": name, "model_type": kind})
    assert res["code"] == 0, res


def test_speech_streams_the_default_tts_models_audio(api: Api, openai_fake: FakeOpenAI) -> None:
    res = api.client.post("/api/v1/chat/audio/speech", headers=api.headers(), json={"text": "Hello"})
    assert res.json() == {"code": 102, "message": "No default tts model is set.", "data": None}
    add_audio_models(api, openai_fake)
    set_default(api, "tts-1", "tts")
    openai_fake.requests.clear()

    res = api.client.post("/api/v1/chat/audio/speech", headers=api.headers(), json={"text": "你好。How are you?\nFine"})
    assert res.status_code == 200 and res.headers["content-type"] == "audio/mpeg"
    assert res.headers["cache-control"] == "no-cache"
    # one provider call per sentence, in order, the audio of each streamed back as it came
    assert res.content == speech_audio("你好") + speech_audio("How are you?") + speech_audio("Fine")
    calls = [r for r in openai_fake.requests if r["path"] == "/v1/audio/speech"]
    assert [c["body"] for c in calls] == [{"model": "tts-1", "voice": "alloy", "input": t} for t in ("你好", "How are you?", "Fine")]
    assert {c["headers"]["Authorization"] for c in calls} == {"Bearer sk-audio-1234"}

    missing = api.client.post("/api/v1/chat/audio/speech", headers=api.headers(), json={})
    assert missing.json() == {"code": 101, "message": "required argument are missing: text; ", "data": None}
    openai_fake.fail_next(1, 400)
    failed = api.client.post("/api/v1/chat/audio/speech", headers=api.headers(), json={"text": "Hello"})
    frame = json.loads(failed.content.decode()[len("data:"):])
    assert frame["code"] == 500 and frame["data"]["answer"].startswith("**ERROR**: The TTS model refused the request: 400")
    assert api.client.post("/api/v1/chat/audio/speech", json={"text": "x"}).status_code == 401


def test_transcription_checks_the_file_then_asks_the_default_asr_model(api: Api, openai_fake: FakeOpenAI) -> None:
    def transcribe(files: dict[str, tuple[str, bytes]] | None = None, **data: str) -> dict[str, object]:
        res = api.client.post("/api/v1/chat/audio/transcription", headers=api.headers(), files=files, data=data or None)
        return res.json()  # type: ignore[no-any-return]

    assert transcribe(data={"stream": "false"}) == {"code": 102, "message": "Missing 'file' in multipart form-data", "data": None}
    assert transcribe({"audio": ("a.wav", b"RIFF")}) == {"code": 102, "message": "Missing 'file' in multipart form-data", "data": None}
    assert transcribe({"file": ("notes.txt", b"hello")}) == \
        {"code": 102, "message": f"Unsupported audio format: .txt. Allowed: {ALLOWED}", "data": None}
    assert transcribe({"file": ("noext", b"hello")})["message"] == f"Unsupported audio format: . Allowed: {ALLOWED}"
    assert transcribe({"file": ("a.wav", b"RIFF")}) == {"code": 102, "message": "No default asr model is set.", "data": None}

    add_audio_models(api, openai_fake, key="sk-asr-5678")
    set_default(api, "whisper-1", "asr")
    openai_fake.requests.clear()
    assert transcribe({"file": ("Memo.MP3", b"ID3-recording")}) == {"code": 0, "message": "success", "data": {"text": "the fake transcript"}}
    [call] = [r for r in openai_fake.requests if r["path"] == "/v1/audio/transcriptions"]
    assert call["headers"]["Authorization"] == "Bearer sk-asr-5678"
    assert call["body"] == {"model": "whisper-1", "file": {"filename": "Memo.MP3", "content": b"ID3-recording"}}

    res = api.client.post("/api/v1/chat/audio/transcription", headers=api.headers(),
                          files={"file": ("a.webm", b"webm")}, data={"stream": "true"})
    assert res.headers["content-type"].startswith("text/event-stream")
    assert res.text == 'data: {"event": "final", "text": "the fake transcript", "streaming": false}\n\n'

    openai_fake.fail_next(1, 400)
    failed = transcribe({"file": ("a.wav", b"RIFF")})
    assert failed["code"] == 102 and str(failed["message"]).startswith("**ERROR**: The ASR model refused the request: 400")


def test_a_removed_default_model_is_refused_with_providers_reason(api: Api, openai_fake: FakeOpenAI) -> None:
    add_audio_models(api, openai_fake)
    set_default(api, "tts-1", "tts")
    assert api.call("DELETE", f"{PROVIDER}/instances", json={"instances": ["CI"]}) == {"code": 0}
    res = api.client.post("/api/v1/chat/audio/speech", headers=api.headers(), json={"text": "Hello"})
    assert res.json() == {"code": 102, "message": "Instance CI not found for model tts-1@CI@OpenAI-API-Compatible.", "data": None}
    assert not [r for r in openai_fake.requests if r["path"].endswith("/audio/speech")]
