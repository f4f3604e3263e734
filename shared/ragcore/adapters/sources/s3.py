"""S3-compatible object stores (AWS S3, Cloudflare R2, Google Cloud Storage's interoperability API, OCI Object
Storage, MinIO and other S3-compatible servers): one implementation over boto3, told apart by endpoint URL, with
RAGFlow's config shapes (`bucket_type`, `bucket_name`, `prefix`, `allow_images`, `credentials`).

A listing page is one ListObjectsV2 call (1,000 keys); an object's fingerprint is its ETag, so an unchanged object
is never downloaded again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from ragcore.adapters.sources.guard import OutboundGuard
from ragcore.domain.sources import Listing, SourceError, SourceItem, too_large

PAGE_SIZE = 1000
DEFAULT_BUCKET_TYPES = {"s3": "s3", "r2": "r2", "oci_storage": "oci_storage", "google_cloud_storage": "google_cloud_storage"}
_REQUIRED = {
    "r2": ("r2_access_key_id", "r2_secret_access_key", "account_id"),
    "google_cloud_storage": ("access_key_id", "secret_access_key"),
    "oci_storage": ("namespace", "region", "access_key_id", "secret_access_key"),
    "s3_compatible": ("endpoint_url", "aws_access_key_id", "aws_secret_access_key"),
}
_NAMES = {"s3": "Amazon S3", "r2": "Cloudflare R2", "google_cloud_storage": "Google Cloud Storage",
          "oci_storage": "Oracle Cloud Infrastructure", "s3_compatible": "S3 Compatible Storage"}


def _client_args(bucket_type: str, creds: dict[str, Any]) -> dict[str, Any]:
    """boto3.client arguments for the bucket type (RAGFlow's create_s3_client, endpoint by endpoint)."""
    cfg = Config(signature_version="s3v4", retries={"max_attempts": 3}, connect_timeout=10, read_timeout=60)
    if bucket_type == "r2":
        return {"endpoint_url": f"https://{creds['account_id']}.r2.cloudflarestorage.com", "region_name": "auto",
                "aws_access_key_id": creds["r2_access_key_id"], "aws_secret_access_key": creds["r2_secret_access_key"],
                "config": cfg}
    if bucket_type == "google_cloud_storage":
        return {"endpoint_url": "https://storage.googleapis.com", "region_name": "auto",
                "aws_access_key_id": creds["access_key_id"], "aws_secret_access_key": creds["secret_access_key"], "config": cfg}
    if bucket_type == "oci_storage":
        return {"endpoint_url": f"https://{creds['namespace']}.compat.objectstorage.{creds['region']}.oraclecloud.com",
                "region_name": creds["region"], "aws_access_key_id": creds["access_key_id"],
                "aws_secret_access_key": creds["secret_access_key"], "config": cfg}
    if bucket_type == "s3_compatible":
        style = str(creds.get("addressing_style") or "path")
        return {"endpoint_url": creds["endpoint_url"], "region_name": creds.get("region") or "us-east-1",
                "aws_access_key_id": creds["aws_access_key_id"], "aws_secret_access_key": creds["aws_secret_access_key"],
                "config": cfg.merge(Config(s3={"addressing_style": style}))}  # type: ignore[arg-type]
    return {"region_name": creds.get("region") or None, "config": cfg}


class S3Source:
    def __init__(self, source: str, config: dict[str, Any], guard: OutboundGuard, *, accept: Callable[[str], bool],
                 max_bytes: int, client: Any = None) -> None:
        self._bucket_type = str(config.get("bucket_type") or DEFAULT_BUCKET_TYPES.get(source, "s3"))
        if self._bucket_type not in _NAMES:
            raise SourceError(f"Unsupported bucket type: {self._bucket_type}")
        self._bucket = str(config.get("bucket_name") or "").strip()
        if not self._bucket:
            raise SourceError("No bucket name was provided in connector settings.")
        prefix = str(config.get("prefix") or "")
        self._prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self._allow_images = bool(config.get("allow_images"))
        self._accept = accept
        self._max_bytes = max_bytes
        self._client = client if client is not None else self._build(config.get("credentials") or {}, guard)

    def _build(self, creds: dict[str, Any], guard: OutboundGuard) -> Any:
        if not isinstance(creds, dict):
            raise SourceError("credentials must be an object.")
        name = _NAMES[self._bucket_type]
        if self._bucket_type == "s3":
            method = creds.get("authentication_method", "access_key")
            if method == "access_key":
                if not (creds.get("aws_access_key_id") and creds.get("aws_secret_access_key")):
                    raise SourceError(f"{name}: aws_access_key_id and aws_secret_access_key are required.")
                args = _client_args("s3", creds)
                args.update(aws_access_key_id=creds["aws_access_key_id"], aws_secret_access_key=creds["aws_secret_access_key"])
                return boto3.client("s3", **args)
            if method == "iam_role":
                if not creds.get("aws_role_arn"):
                    raise SourceError("Amazon S3 IAM role ARN is required")
                return self._assumed(creds)
            # "assume_role" means this server's own AWS identity: a tenant must never read with it
            raise SourceError(f"Unsupported S3 authentication method: {method!r} (use access_key or iam_role)")
        missing = [k for k in _REQUIRED[self._bucket_type] if not creds.get(k)]
        if missing:
            raise SourceError(f"{name}: missing credentials: {', '.join(missing)}.")
        args = _client_args(self._bucket_type, creds)
        guard.check_url(str(args["endpoint_url"]))
        return boto3.client("s3", **args)

    def _assumed(self, creds: dict[str, Any]) -> Any:
        sts = boto3.client("sts", region_name=creds.get("region") or None)
        try:
            got = sts.assume_role(RoleArn=creds["aws_role_arn"], RoleSessionName="ragflow-connector")["Credentials"]
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"Amazon S3: can't assume role {creds['aws_role_arn']}: {_reason(exc)}") from exc
        return boto3.client("s3", **_client_args("s3", creds), aws_access_key_id=got["AccessKeyId"],
                            aws_secret_access_key=got["SecretAccessKey"], aws_session_token=got["SessionToken"])

    def check(self) -> None:
        self._call(lambda: self._client.list_objects_v2(Bucket=self._bucket, Prefix=self._prefix, MaxKeys=1))

    def list_page(self, cursor: str | None) -> Listing:
        args: dict[str, Any] = {"Bucket": self._bucket, "Prefix": self._prefix, "MaxKeys": PAGE_SIZE}
        if cursor:
            args["ContinuationToken"] = cursor
        page = self._call(lambda: self._client.list_objects_v2(**args))
        items = []
        for obj in page.get("Contents") or []:
            key = str(obj["Key"])
            name = key.rsplit("/", 1)[-1]
            if key.endswith("/") or not name or name.startswith(".") or not self._wanted(name):
                continue
            items.append(SourceItem(key=key, name=name, fingerprint=str(obj.get("ETag") or "").strip('"'),
                                    size=int(obj.get("Size") or 0), meta={"last_modified": str(obj.get("LastModified") or "")}))
        more = page.get("IsTruncated") and page.get("NextContinuationToken")
        return Listing(items, str(page["NextContinuationToken"]) if more else None)

    def _wanted(self, name: str) -> bool:
        from ragcore.parsing import IMAGE_SUFFIXES

        suffix = name.rpartition(".")[2].lower()
        return self._accept(name) and (self._allow_images or suffix not in IMAGE_SUFFIXES)

    def fetch(self, item: SourceItem) -> bytes:
        if item.size is not None and item.size > self._max_bytes:
            raise SourceError(too_large(item.name, self._max_bytes))
        body = self._call(lambda: self._client.get_object(Bucket=self._bucket, Key=item.key))["Body"]
        try:
            data: bytes = body.read(self._max_bytes + 1)
        finally:
            body.close()
        if len(data) > self._max_bytes:
            raise SourceError(too_large(item.name, self._max_bytes))
        return data

    def _call(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ClientError as exc:
            raise SourceError(f"{_NAMES[self._bucket_type]} bucket '{self._bucket}': {_reason(exc)}") from exc
        except EndpointConnectionError as exc:
            raise SourceError(f"{_NAMES[self._bucket_type]}: can't reach {exc.kwargs.get('endpoint_url', 'the endpoint')}") from exc
        except BotoCoreError as exc:
            raise SourceError(f"{_NAMES[self._bucket_type]}: {exc}") from exc


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchBucket", "404", "NotFound"):
            return "the bucket does not exist"
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"):
            return f"access denied ({code}): check the credentials and the bucket's permissions"
        if code == "NoSuchKey":
            return "the object is gone"
        return f"{code}: {exc.response.get('Error', {}).get('Message', '')}".strip(": ")
    return str(exc)
