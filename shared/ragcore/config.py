"""Settings, read once from the environment. Nothing else in the code reads os.environ."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # which adapters: embedded (SQLite, files, local index) or AWS (DynamoDB, S3, SQS, Pinecone)
    runtime: Literal["local", "aws"] = Field(default="local", alias="RAGFLOW_RUNTIME")
    data_dir: Path = Field(default=Path("./var"), alias="DATA_DIR")
    host: str = Field(default="127.0.0.1", alias="HOST")
    port: int = Field(default=9380, alias="PORT")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    metrics_namespace: str = Field(default="ragflow-serverless", alias="POWERTOOLS_METRICS_NAMESPACE")

    # AWS resources (names come from the CDK stack's environment variables)
    table_name: str = Field(default="ragflow-serverless", alias="TABLE_NAME")
    bucket_name: str = Field(default="ragflow-serverless", alias="BUCKET_NAME")
    task_queue_url: str = Field(default="", alias="TASK_QUEUE_URL")
    aws_endpoint_url: str | None = Field(default=None, alias="AWS_ENDPOINT_URL")
    provider_secret_arn: str = Field(default="", alias="PROVIDER_SECRET_ARN")

    # vectors
    pinecone_api_key: str = Field(default="", alias="PINECONE_API_KEY")
    pinecone_host: str = Field(default="", alias="PINECONE_HOST")

    # models: an OpenAI-compatible provider when configured, else the embedded ones
    embedding_model: str = Field(default="all-MiniLM-L6-v2@Builtin", alias="EMBEDDING_MODEL")
    embedding_base_url: str = Field(default="", alias="EMBEDDING_BASE_URL")
    embedding_api_key: str = Field(default="", alias="EMBEDDING_API_KEY")
    llm_model: str = Field(default="", alias="LLM_MODEL")
    llm_base_url: str = Field(default="", alias="LLM_BASE_URL")
    llm_api_key: str = Field(default="", alias="LLM_API_KEY")
    llm_timeout_s: float = Field(default=60.0, alias="LLM_TIMEOUT_S")
    rerank_base_url: str = Field(default="", alias="RERANK_BASE_URL")
    rerank_api_key: str = Field(default="", alias="RERANK_API_KEY")

    # limits
    max_upload_bytes: int = Field(default=128 * 1024 * 1024, alias="MAX_UPLOAD_BYTES")
    max_request_bytes: int = Field(default=256 * 1024 * 1024, alias="MAX_REQUEST_BYTES")
    max_memory_bytes: int = Field(default=10 * 1024 * 1024, alias="MAX_MEMORY_BYTES")
    max_files_per_tenant: int = Field(default=100_000, alias="MAX_FILES_PER_TENANT")
    parse_workers: int = Field(default=2, alias="PARSE_WORKERS")
    parse_lease_s: float = Field(default=600.0, alias="PARSE_LEASE_S")
    inbox_poll_s: float = Field(default=1.0, alias="INBOX_POLL_S")
    # which tenant owns the drop folder (default: the first tenant, the one `make serve` creates)
    drop_folder_tenant: str = Field(default="", alias="DROP_FOLDER_TENANT")

    # agents: the Invoke component reaches only public addresses unless a host is listed here (comma-separated)
    agent_invoke_allowed_hosts: str = Field(default="", alias="AGENT_INVOKE_ALLOWED_HOSTS")
    agent_invoke_timeout_s: float = Field(default=30.0, alias="AGENT_INVOKE_TIMEOUT_S")
    agent_invoke_max_bytes: int = Field(default=1024 * 1024, alias="AGENT_INVOKE_MAX_BYTES")
    agent_max_steps: int = Field(default=500, alias="AGENT_MAX_STEPS")

    # the CLI's client commands (ingest, ask, retrieve) talk to this server
    client_base_url: str = Field(default="http://127.0.0.1:9380", alias="RAGFLOW_BASE_URL")
    client_api_key: str = Field(default="", alias="RAGFLOW_API_KEY")

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
    def key_file(self) -> Path:
        return self.data_dir / "api_key.txt"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
