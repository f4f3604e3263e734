"""BlobStore on an S3 bucket; upload URLs are presigned PUTs (uploads bypass Lambda's 6 MB limit).

S3 answers a prefix written too fast with 503 SlowDown: botocore retries it (standard mode, with jittered
exponential backoff, 5 tries here instead of its default 3); still refused after that, a write is a StorageBusy
(the API answers it as retryable) and nothing was stored.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ragcore.errors import StorageBusy, StorageError

_BUSY = {"SlowDown", "503", "ServiceUnavailable", "RequestTimeout", "InternalError", "RequestLimitExceeded"}


def _failed(action: str, exc: ClientError) -> StorageError:
    code = str(exc.response.get("Error", {}).get("Code", "")) or str(exc)
    if code in _BUSY:
        return StorageBusy(f"The file store is busy ({code}): cannot {action} the file now; try again in a moment.")
    return StorageError(f"Cannot {action} the file: {code}")


class S3BlobStore:
    def __init__(self, bucket: str, endpoint_url: str | None = None) -> None:
        self._bucket = bucket
        self._s3 = boto3.client("s3", endpoint_url=endpoint_url,
                                config=Config(retries={"mode": "standard", "total_max_attempts": 5}))

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        try:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)
        except ClientError as exc:
            raise _failed("store", exc) from exc

    def get(self, key: str) -> bytes | None:
        try:
            return bytes(self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise _failed("read", exc) from exc

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self._bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        keys = list(self.list(prefix))
        for start in range(0, len(keys), 1000):
            part = keys[start : start + 1000]
            self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": [{"Key": k} for k in part], "Quiet": True})
        return len(keys)

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
            return True
        except ClientError:
            return False

    def list(self, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield str(obj["Key"])

    def upload_url(self, key: str, expires_s: int, content_type: str) -> str:
        return str(self._s3.generate_presigned_url(
            "put_object", Params={"Bucket": self._bucket, "Key": key, "ContentType": content_type}, ExpiresIn=expires_s,
        ))
