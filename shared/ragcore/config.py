"""Settings, read once from the environment. Nothing else in the code reads os.environ.

A plain dataclass rather than pydantic-settings: every cold start imports this module, and pydantic-settings
costs ~50 ms of import (its CLI and cloud-secret sources) for what is a typed read of a few variables.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

Runtime = Literal["local", "aws"]


def _env(name: str, **kwargs: Any) -> Any:
    """A setting read from the environment variable `name` (case-insensitive)."""
    return field(metadata={"env": name}, **kwargs)


@dataclass(frozen=True)
class Settings:
    # which adapters: embedded (SQLite, files, local index) or AWS (DynamoDB, S3, SQS, Pinecone)
    runtime: Runtime = _env("RAGFLOW_RUNTIME", default="local")
    data_dir: Path = _env("DATA_DIR", default=Path("./var"))
    host: str = _env("HOST", default="127.0.0.1")
    port: int = _env("PORT", default=9380)
    log_level: str = _env("LOG_LEVEL", default="INFO")
    # one line per request on stdout (`make serve`); the browser tests read it to see what the console called
    access_log: bool = _env("ACCESS_LOG", default=False)
    metrics_namespace: str = _env("POWERTOOLS_METRICS_NAMESPACE", default="ragflow-serverless")

    # AWS resources (names come from the CDK stack's environment variables)
    table_name: str = _env("TABLE_NAME", default="ragflow-serverless")
    bucket_name: str = _env("BUCKET_NAME", default="ragflow-serverless")
    task_queue_url: str = _env("TASK_QUEUE_URL", default="")
    aws_endpoint_url: str | None = _env("AWS_ENDPOINT_URL", default=None)
    provider_secret_arn: str = _env("PROVIDER_SECRET_ARN", default="")
    # the KMS key that wraps the data keys sealing tenants' provider API keys (AWS); set only on the functions
    # granted its use
    provider_key_kms_key_id: str = _env("PROVIDER_KEY_KMS_KEY_ID", default="")
    # the OCR Lambda the ingest function sends page pictures to (its own bundle has no room for the OCR models);
    # unset: OCR runs in this process when rapidocr-onnxruntime is installed
    ocr_function: str = _env("OCR_FUNCTION_NAME", default="")
    # pages OCR reads at once in this process, one core each (0: as many as cores); the OCR Lambda, one page a
    # call, sets 1 so that page gets every core
    ocr_workers: int = _env("OCR_WORKERS", default=0)

    # vectors
    pinecone_api_key: str = _env("PINECONE_API_KEY", default="")
    pinecone_host: str = _env("PINECONE_HOST", default="")

    # models: an OpenAI-compatible provider when configured, else the embedded ones
    embedding_model: str = _env("EMBEDDING_MODEL", default="all-MiniLM-L6-v2@Builtin")
    embedding_base_url: str = _env("EMBEDDING_BASE_URL", default="")
    embedding_api_key: str = _env("EMBEDDING_API_KEY", default="")
    llm_model: str = _env("LLM_MODEL", default="")
    llm_base_url: str = _env("LLM_BASE_URL", default="")
    llm_api_key: str = _env("LLM_API_KEY", default="")
    llm_timeout_s: float = _env("LLM_TIMEOUT_S", default=60.0)
    rerank_base_url: str = _env("RERANK_BASE_URL", default="")
    rerank_api_key: str = _env("RERANK_API_KEY", default="")
    # a factory's default base URL sent elsewhere (a gateway, an air-gapped endpoint): {"ZHIPU-AI": "http://gw/v1"}
    provider_base_urls: str = _env("PROVIDER_BASE_URLS", default="")

    # limits
    max_upload_bytes: int = _env("MAX_UPLOAD_BYTES", default=128 * 1024 * 1024)
    max_request_bytes: int = _env("MAX_REQUEST_BYTES", default=256 * 1024 * 1024)
    max_memory_bytes: int = _env("MAX_MEMORY_BYTES", default=10 * 1024 * 1024)
    max_files_per_tenant: int = _env("MAX_FILES_PER_TENANT", default=100_000)
    parse_workers: int = _env("PARSE_WORKERS", default=2)
    parse_lease_s: float = _env("PARSE_LEASE_S", default=600.0)
    inbox_poll_s: float = _env("INBOX_POLL_S", default=1.0)
    # which tenant owns the drop folder (default: the first tenant, the one `make serve` creates)
    drop_folder_tenant: str = _env("DROP_FOLDER_TENANT", default="")

    # agents: the Invoke component reaches only public addresses unless a host is listed here (comma-separated)
    agent_invoke_allowed_hosts: str = _env("AGENT_INVOKE_ALLOWED_HOSTS", default="")
    agent_invoke_timeout_s: float = _env("AGENT_INVOKE_TIMEOUT_S", default=30.0)
    agent_invoke_max_bytes: int = _env("AGENT_INVOKE_MAX_BYTES", default=1024 * 1024)
    agent_max_steps: int = _env("AGENT_MAX_STEPS", default=500)
    # tenants' Langfuse hosts: like the Invoke component, only public addresses unless listed here (comma-separated)
    langfuse_allowed_hosts: str = _env("LANGFUSE_ALLOWED_HOSTS", default="")

    # connectors: sources are reached only at public addresses unless a host is listed here (comma-separated: an
    # on-premises WebDAV or MinIO); the local scheduler's tick; a sync step's time budget before it queues the next
    # (far below a Lambda's 15 minutes); how long a run's worker may go silent before the scheduler takes it up
    connector_allowed_hosts: str = _env("CONNECTOR_ALLOWED_HOSTS", default="")
    connector_tick_s: float = _env("CONNECTOR_TICK_S", default=30.0)
    connector_step_s: float = _env("CONNECTOR_STEP_S", default=120.0)
    connector_lease_s: float = _env("CONNECTOR_LEASE_S", default=600.0)
    connector_http_timeout_s: float = _env("CONNECTOR_HTTP_TIMEOUT_S", default=30.0)
    # OAuth web flows (Google Drive, Gmail, Box): where the provider sends the browser back ("" = this server's
    # own callback route); Box's endpoints (replaceable for a test server)
    google_drive_oauth_redirect_uri: str = _env("GOOGLE_DRIVE_WEB_OAUTH_REDIRECT_URI", default="")
    gmail_oauth_redirect_uri: str = _env("GMAIL_WEB_OAUTH_REDIRECT_URI", default="")
    box_oauth_redirect_uri: str = _env("BOX_WEB_OAUTH_REDIRECT_URI", default="")
    box_oauth_authorize_url: str = _env("BOX_OAUTH_AUTHORIZE_URL", default="https://account.box.com/api/oauth2/authorize")
    box_oauth_token_url: str = _env("BOX_OAUTH_TOKEN_URL", default="https://api.box.com/oauth2/token")

    # chat channels: the public base URL the platforms deliver webhooks to ("" = the base URL the create request came
    # in on); platform API hosts are reached only at public addresses unless listed here (comma-separated: the
    # tests' loopback fakes); the platforms' API base URLs over the defaults ({"telegram": "http://gw"}, JSON)
    channel_webhook_base_url: str = _env("CHANNEL_WEBHOOK_BASE_URL", default="")
    channel_allowed_hosts: str = _env("CHANNEL_ALLOWED_HOSTS", default="")
    channel_api_base_urls: str = _env("CHANNEL_API_BASE_URLS", default="")
    channel_http_timeout_s: float = _env("CHANNEL_HTTP_TIMEOUT_S", default=10.0)
    # MCP servers (agent tools, mcp_api's import and test): reached only at public addresses unless the host is listed
    # here (comma-separated: an MCP server beside the deployment, the tests' loopback server); the longest a list or
    # a tool call may take (a request's `timeout` can only shorten it)
    mcp_allowed_hosts: str = _env("MCP_ALLOWED_HOSTS", default="")
    mcp_timeout_s: float = _env("MCP_TIMEOUT_S", default=20.0)
    # the AI/ML API device sign-in (RAGFlow's AIMLAPI_* variables and defaults)
    aimlapi_app_url: str = _env("AIMLAPI_APP_URL", default="https://app.aimlapi.com")
    aimlapi_partner_id: str = _env("AIMLAPI_PARTNER_ID", default="part_yNkcOvbGLtgxWLjy4sRysaer")
    aimlapi_partner_name: str = _env("AIMLAPI_PARTNER_NAME", default="RAGFlow")
    aimlapi_source: str = _env("AIMLAPI_SOURCE", default="agent/ragflow")
    aimlapi_verification_base_url: str = _env("AIMLAPI_VERIFICATION_BASE_URL", default="https://aimlapi.com")
    aimlapi_requested_usd_limit_minor: str = _env("AIMLAPI_REQUESTED_USD_LIMIT_MINOR", default="1000")

    # accounts: POST /users registers (1) or answers RAGFlow's "registration is disabled" (0); wrong passwords
    # for one e-mail within the window lock its log-in for lock seconds
    register_enabled: int = _env("REGISTER_ENABLED", default=1)
    login_max_failures: int = _env("LOGIN_MAX_FAILURES", default=5)
    login_failure_window_s: float = _env("LOGIN_FAILURE_WINDOW_S", default=900.0)
    login_lock_s: float = _env("LOGIN_LOCK_S", default=900.0)
    # wrong passwords or unknown e-mails from one client address within the window before that address's log-ins
    # are refused for the lock time (whatever e-mail they name)
    login_address_max_failures: int = _env("LOGIN_ADDRESS_MAX_FAILURES", default=20)
    # proxies (comma-separated addresses) whose X-Forwarded-For names the client; without it the header is ignored
    trusted_proxies: str = _env("TRUSTED_PROXIES", default="")

    # the CLI's client commands (ingest, ask, retrieve) talk to this server
    client_base_url: str = _env("RAGFLOW_BASE_URL", default="http://127.0.0.1:9380")
    client_api_key: str = _env("RAGFLOW_API_KEY", default="")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment names; a malformed value stops start-up with the variable's name."""
        source = {k.upper(): v for k, v in (os.environ if environ is None else environ).items()}
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            name = spec.metadata["env"]
            if name in source:
                values[spec.name] = _convert(name, source[name], spec.default)
        return cls(**values)

    def with_updates(self, **updates: Any) -> Settings:
        return dataclasses.replace(self, **updates)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "ragflow.sqlite3"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def provider_key_file(self) -> Path:
        """The key that encrypts tenants' provider API keys: beside the database, never inside it."""
        return self.data_dir / "provider_keys.key"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "api_key.txt"


def _convert(name: str, raw: str, default: Any) -> Any:
    """The environment's text as the type of the setting's default."""
    if name == "RAGFLOW_RUNTIME":
        value = raw.strip().lower()
        if value not in get_args(Runtime):
            raise ValueError(f"{name} must be one of {', '.join(get_args(Runtime))}, got {raw!r}")
        return value
    if name == "PROVIDER_BASE_URLS":
        try:
            parse_base_urls(raw)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        return raw
    if name == "AWS_ENDPOINT_URL":
        return raw or None
    kind = type(default)
    if kind is str:
        return raw
    try:
        return kind(raw.strip())
    except ValueError:
        raise ValueError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def parse_base_urls(text: str) -> dict[str, str]:
    if not text.strip():
        return {}
    value = json.loads(text)
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError('PROVIDER_BASE_URLS must be a JSON object of factory name to base URL, e.g. {"OpenAI": "http://gw/v1"}')
    return dict(value)
