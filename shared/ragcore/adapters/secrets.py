"""Provider keys from one Secrets Manager secret (a JSON object), read once per process (a Lambda cold start)."""

from __future__ import annotations

import json
from functools import lru_cache

import boto3


@lru_cache(maxsize=4)
def load_secret(arn: str, endpoint_url: str | None = None) -> dict[str, str]:
    if not arn:
        return {}
    raw = boto3.client("secretsmanager", endpoint_url=endpoint_url).get_secret_value(SecretId=arn).get("SecretString") or "{}"
    value = json.loads(raw)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
