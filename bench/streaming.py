"""Streaming overhead: time-to-first-byte and per-token time our server adds on top of the model.

A fake OpenAI-compatible model (loopback) sends its first token after a fixed delay, then one token every few ms.
We measure it directly, then through our OpenAI-compatible path and the native SSE path (a chat with no
datasets, so the numbers are the serving overhead; retrieval latency is measured in retrieval_latency.py).

    .venv/bin/python bench/streaming.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]
FIRST_TOKEN_S = 0.2
PER_TOKEN_S = 0.005
TOKENS = 60
RUNS = 10


def measure(url: str, headers: dict[str, str], body: dict[str, object]) -> tuple[float, float]:
    started = time.perf_counter()
    first = 0.0
    count = 0
    with httpx.stream("POST", url, headers=headers, json=body, timeout=30) as reply:
        for line in reply.iter_lines():
            if not line.startswith("data:") or "tok" not in line:
                continue  # the first byte that matters is the first token of the answer
            if not first:
                first = time.perf_counter() - started
            count += 1
    total = time.perf_counter() - started
    return first, (total - first) / max(count - 1, 1)


def main() -> None:
    from tests.conftest import start_server, stop_server
    from tests.fakes.openai_server import FakeOpenAI

    fake = FakeOpenAI()
    fake.reply = " ".join(f"tok{i}" for i in range(TOKENS))
    fake.first_token_delay_s = FIRST_TOKEN_S
    fake.per_token_delay_s = PER_TOKEN_S
    server = start_server(Path(tempfile.mkdtemp()) / "var", {"LLM_BASE_URL": fake.url, "LLM_MODEL": "fake", "LLM_API_KEY": "k"})
    try:
        h = {"Authorization": f"Bearer {server.key}"}
        chat = httpx.post(f"{server.base_url}/api/v1/chats", headers=h, json={"name": "bench"}).json()["data"]
        question = [{"role": "user", "content": "hello"}]
        paths = {
            "model directly": (f"{fake.url}/chat/completions", {}, {"model": "fake", "messages": question, "stream": True}),
            "OpenAI-compatible": (f"{server.base_url}/api/v1/chats_openai/{chat['id']}/chat/completions", h,
                                  {"model": "m", "messages": question, "stream": True}),
            "native SSE": (f"{server.base_url}/api/v1/chats/{chat['id']}/completions", h, {"question": "hello", "stream": True}),
        }
        results: dict[str, tuple[float, float]] = {}
        for name, (url, headers, body) in paths.items():
            measure(url, headers, body)  # warm up
            runs = [measure(url, headers, body) for _ in range(RUNS)]
            results[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        base_ttfb, base_tok = results["model directly"]
        for name, (ttfb, per_token) in results.items():
            extra = "" if name == "model directly" else f"  → +{(ttfb - base_ttfb) * 1000:.1f} ms TTFB, +{(per_token - base_tok) * 1000:.2f} ms/token"
            print(f"{name:18} TTFB {ttfb * 1000:7.1f} ms, {per_token * 1000:5.2f} ms/token{extra}")
        print("goal: ≤ 20 ms TTFB added")
    finally:
        stop_server(server)
        fake.close()


if __name__ == "__main__":
    main()
