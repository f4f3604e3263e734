"""The CLI's client commands and the examples/ scripts, against the real local server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import BIN, ROOT, Server


def run(server: Server, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "RAGFLOW_BASE_URL": server.base_url, "RAGFLOW_API_KEY": server.key, **(env or {})}
    return subprocess.run([str(BIN / "ragflow-serverless"), *args], env=full_env, capture_output=True, text=True, timeout=300)


def test_ingest_ask_retrieve(server: Server, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "rivers.txt").write_text("The Danube flows through ten countries.\n")
    (folder / "sub" / "lakes.md").write_text("# Lakes\n\nLake Baikal is the deepest lake on Earth.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    (folder / "skip.log").write_text("excluded by the glob\n")
    done = run(server, "ingest", str(folder), "--dataset", "cli-kb", "--exclude", "*.log")
    assert done.returncode == 1, done.stderr  # one file failed
    assert "2 of 3 files ingested" in done.stdout
    assert "broken.pdf" in done.stdout.split("FAILED FILE")[1]  # the summary names it, with a reason
    assert "uploaded" in done.stderr and "parsed" in done.stderr  # progress bars
    found = run(server, "retrieve", "deepest lake", "--dataset", "cli-kb")
    assert found.returncode == 0 and "Baikal" in found.stdout.splitlines()[0]
    answer = run(server, "ask", "Which river flows through ten countries?", "--dataset", "cli-kb")
    assert answer.returncode == 0 and "Danube" in answer.stdout and "[ID:0]" in answer.stdout
    bad = run(server, "retrieve", "x", "--dataset", "cli-kb", env={"RAGFLOW_API_KEY": "invalid"})
    assert bad.returncode == 2 and "Unauthorized" in bad.stderr


def test_examples_run(server: Server) -> None:
    env = {**os.environ, "RAGFLOW_BASE_URL": server.base_url, "RAGFLOW_API_KEY": server.key}
    sdk = subprocess.run([sys.executable, str(ROOT / "examples" / "sdk_quickstart.py")], env=env, capture_output=True, text=True, timeout=300)
    assert sdk.returncode == 0, sdk.stderr
    assert "DONE" in sdk.stdout and "Camellia" in sdk.stdout
    h = {"Authorization": f"Bearer {server.key}"}
    chat = httpx.post(f"{server.base_url}/api/v1/chats", headers=h, json={"name": "example chat", "dataset_ids": []}).json()["data"]
    oa = subprocess.run([sys.executable, str(ROOT / "examples" / "openai_chat.py")], env={**env, "CHAT_ID": chat["id"]},
                        capture_output=True, text=True, timeout=300)
    assert oa.returncode == 0, oa.stderr
    assert "usage:" in oa.stdout
