"""A real local server (its access log on) and headless Chromium driven through Debian's chromedriver."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BIN, ROOT, free_port, wait_healthy
from tests.fakes.langfuse_server import FakeLangfuse
from tests.fakes.openai_server import FakeOpenAI

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
ACCESS = re.compile(r'"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) HTTP/[\d.]+" (\d{3})')


@dataclass
class ConsoleServer:
    base_url: str
    key: str
    log_path: Path
    proc: subprocess.Popen  # type: ignore[type-arg]

    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request the server has answered so far, from its access log."""
        text = self.log_path.read_text(errors="replace")
        return [(m[1], m[2], int(m[3])) for m in ACCESS.finditer(text)]

    def api(self, method: str, path: str, **kw: Any) -> Any:
        res = httpx.request(method, f"{self.base_url}/api/v1{path}", headers={"Authorization": f"Bearer {self.key}"},
                            timeout=30, **kw)
        return res.json()

    def dataset_with(self, name: str, files: dict[str, bytes]) -> str:
        """A dataset holding these files, parsed (DONE), made through the API."""
        made = self.api("POST", "/datasets", json={"name": name})
        assert made["code"] == 0, made
        dataset = made["data"]["id"]
        uploaded = self.api("POST", f"/datasets/{dataset}/documents", files=[("file", (n, b)) for n, b in files.items()])
        ids = [d["id"] for d in uploaded["data"]]
        assert self.api("POST", f"/datasets/{dataset}/chunks", json={"document_ids": ids})["code"] == 0
        deadline = time.time() + 60
        while time.time() < deadline:
            docs = self.api("GET", f"/datasets/{dataset}/documents")["data"]["docs"]
            if all(d["run"] == "DONE" for d in docs):
                return str(dataset)
            time.sleep(0.2)
        raise AssertionError(f"{name} was not parsed: {docs}")


@pytest.fixture(scope="module")
def deepseek() -> Iterator[FakeOpenAI]:
    """A model provider on loopback: DeepSeek's default URL points here (PROVIDER_BASE_URLS)."""
    fake = FakeOpenAI()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def langfuse() -> Iterator[FakeLangfuse]:
    """A Langfuse on loopback (allowed by LANGFUSE_ALLOWED_HOSTS): the keys the console saves are checked there."""
    fake = FakeLangfuse()
    yield fake
    fake.close()


# a server and a browser per test module: each module's tests count what they made, whatever ran before (and
# whichever worker of `make test` runs them)
@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory, deepseek: FakeOpenAI,
                   langfuse: FakeLangfuse) -> Iterator[ConsoleServer]:
    root = tmp_path_factory.mktemp("console")
    port = free_port()
    log_path = root / "server.log"
    env = {**os.environ, "DATA_DIR": str(root / "var"), "PORT": str(port), "RAGFLOW_RUNTIME": "local",
           "ACCESS_LOG": "1", "INBOX_POLL_S": "0.2", "PROVIDER_BASE_URLS": json.dumps({"DeepSeek": deepseek.url}),
           "LANGFUSE_ALLOWED_HOSTS": "127.0.0.1"}
    for name in ("LLM_BASE_URL", "LLM_MODEL", "EMBEDDING_BASE_URL", "RERANK_BASE_URL"):
        env.pop(name, None)  # the builtin embedder and the extractive answerer: no network
    with log_path.open("w") as out:
        proc = subprocess.Popen([str(BIN / "ragflow-serverless"), "serve"], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    key = ""
    deadline = time.time() + 90
    while time.time() < deadline and not key:
        found = re.search(r"^API key: (\S+)", log_path.read_text(errors="replace"), re.M)
        key = found[1] if found else ""
        time.sleep(0.1)
    wait_healthy(base, deadline)
    assert key, log_path.read_text()
    yield ConsoleServer(base_url=base, key=key, log_path=log_path, proc=proc)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="package")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each page's screenshot goes: CONSOLE_SCREENSHOTS if set, else the run's temporary folder."""
    chosen = os.environ.get("CONSOLE_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("console-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nconsole screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"no browser: {CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium chromium-driver; "
                    "`make test` installs them when it runs as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1366,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=shutil.which(CHROMEDRIVER) or CHROMEDRIVER))
    driver.set_window_size(1366, 900)
    yield driver
    driver.quit()
