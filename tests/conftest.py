"""Shared fixtures: an isolated local runtime per test, a real server for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["tests.fakes.openai_server", "tests.fakes.pinecone_server"]
BIN = Path(sys.executable).parent
# A test that builds the app without the data_dir fixture still never writes into the checkout's ./var (a later
# `make serve` would find a used data folder) or a DATA_DIR the shell exports: the session's default is its own.
os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="ragflow-tests-")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def main_thread_event_loop() -> Iterator[None]:
    """Mangum (the Lambda handlers) asks asyncio for the main thread's current loop; a test that ran asyncio.run()
    before, in the same worker, leaves none set. A Lambda process never runs asyncio.run() first: give it one."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
        if loop.is_closed():
            raise RuntimeError("closed")
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    yield


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh DATA_DIR for the in-process local runtime (settings and singletons rebuilt)."""
    from ragcore.bootstrap import container

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RAGFLOW_RUNTIME", "local")
    monkeypatch.setenv("INBOX_POLL_S", "0.1")
    container.reset()
    yield tmp_path / "var"
    container.reset()


@dataclass
class Api:
    client: TestClient
    key: str
    tenant: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def call(self, method: str, path: str, key: str | None = None, **kw: object) -> dict:  # type: ignore[type-arg]
        res = self.client.request(method, path, headers=self.headers(key), **kw)  # type: ignore[arg-type]
        return res.json()  # type: ignore[no-any-return]

    def new_tenant_key(self) -> str:
        from ragcore.bootstrap import tenants

        service = tenants()
        return service.create_key(service.create_tenant("other")).key


@pytest.fixture
def api(data_dir: Path) -> Iterator[Api]:
    """The whole local app in process, with a tenant and key."""
    from ragcore.bootstrap import tenants

    from functions.local import create_local_app

    service = tenants()
    tenant = service.create_tenant("test")
    key = service.create_key(tenant).key
    with TestClient(create_local_app()) as client:
        yield Api(client=client, key=key, tenant=tenant)


def app_with(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The local app built after env is set (the api fixture's app would keep the settings it started with)."""
    from ragcore.bootstrap import container, tenants

    from functions.local import create_local_app

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    container.reset()
    tenant = tenants().create_tenant("test")
    key = tenants().create_key(tenant).key
    with TestClient(create_local_app()) as client:
        yield Api(client=client, key=key, tenant=tenant)


@dataclass
class Server:
    base_url: str
    key: str
    data_dir: Path
    proc: subprocess.Popen  # type: ignore[type-arg]

    def cli(self, *args: str) -> str:
        env = {**os.environ, "DATA_DIR": str(self.data_dir)}
        out = subprocess.run([str(BIN / "ragflow-serverless"), *args], env=env, capture_output=True, text=True, check=True)
        return out.stdout


def wait_healthy(base: str, deadline: float) -> None:
    """Until the server at `base` answers its health check, or the deadline passes."""
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/system/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)


def start_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> Server:
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(port), "RAGFLOW_RUNTIME": "local", "INBOX_POLL_S": "0.2",
           **(extra_env or {})}
    proc = subprocess.Popen(
        [str(BIN / "ragflow-serverless"), "serve"], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    key = ""
    deadline = time.time() + 60
    base = f"http://127.0.0.1:{port}"
    assert proc.stdout is not None
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("API key:"):
            key = line.split(":", 1)[1].strip()
        if "Serving http" in line:
            break
    wait_healthy(base, deadline)
    server = Server(base_url=base, key=key, data_dir=data_dir, proc=proc)
    if not key:
        key = server.cli("apikey", "create").strip().splitlines()[-1]
        server.key = key
    return server


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real local server (uvicorn, random free port, own DATA_DIR), once per test module."""
    srv = start_server(tmp_path_factory.mktemp("srv") / "var")
    yield srv
    stop_server(srv)


# the longest files first: `make test` hands whole files to its workers in this order, so none is left running one
# long file alone at the end
SLOW_FILES = ("tests/aws/test_flat_cost.py", "tests/infra/test_import_budget.py", "tests/infra/test_aws_checks.py",
              "tests/aws/test_concurrent_writers.py", "tests/fuzz/test_fuzz.py", "tests/infra/test_stack.py",
              "tests/console/test_console_browser.py", "tests/console/test_console_areas.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(SLOW_FILES)))
