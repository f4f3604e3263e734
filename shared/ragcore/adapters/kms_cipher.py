"""Provider API keys at rest on AWS: envelope encryption under a KMS key.

Each process asks KMS for one data key (GenerateDataKey, AES-256) the first time it encrypts, and seals every key it
stores with it (AES-256-GCM); the data key's KMS-encrypted form is stored beside the ciphertext, so the table never
holds anything KMS has not to be asked about. Reading a record asks KMS to decrypt its data key once per process
(cached by the encrypted form). A stored value is "v2:" + base64(encrypted data key) + ":" + base64(nonce || ciphertext
|| tag). Records written by the previous scheme ("v1:", a key in the provider secret) are still read, and any write
of such a record stores it in the new form.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ragcore.adapters.key_cipher import AAD
from ragcore.adapters.key_cipher import PREFIX as LEGACY_PREFIX
from ragcore.errors import ProviderError

PREFIX = "v2:"
# bound into every data key: KMS refuses to decrypt it for any other purpose (and CloudTrail shows the purpose)
CONTEXT = {"purpose": "ragflow-serverless provider key"}
NO_KEY_ID = ("PROVIDER_KEY_KMS_KEY_ID is not set for this function: it cannot store or read provider API keys "
             "(the deployment grants the KMS key only to the functions that call model providers)")


class KeyCipherUnavailable(ProviderError):
    """The function cannot encrypt or decrypt provider keys (no KMS key id, KMS refused, no legacy key)."""


class KmsEnvelopeCipher:
    def __init__(self, key_id: str, kms: Callable[[], Any],
                 legacy: Callable[[], Callable[[str], str] | None] = lambda: None) -> None:
        self._key_id = key_id
        self._kms = kms  # a boto3 KMS client, built on first use
        self._legacy = legacy  # the previous scheme's decrypt, when the secret still holds its key
        self._lock = threading.Lock()
        self._current: tuple[bytes, bytes] | None = None  # (encrypted data key, plaintext data key)
        self._plain: dict[bytes, bytes] = {}  # encrypted data key -> plaintext, for this process's life

    def _require_key_id(self) -> str:
        if not self._key_id:
            raise KeyCipherUnavailable(NO_KEY_ID)
        return self._key_id

    def _data_key(self) -> tuple[bytes, bytes]:
        with self._lock:
            if self._current is None:
                key_id = self._require_key_id()
                try:
                    reply = self._kms().generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=CONTEXT)
                except Exception as exc:  # botocore's errors: the message names the cause, never a key
                    raise KeyCipherUnavailable(f"KMS could not generate a data key: {exc}") from None
                blob, plain = bytes(reply["CiphertextBlob"]), bytes(reply["Plaintext"])
                self._current = (blob, plain)
                self._plain[blob] = plain
            return self._current

    def _unwrap(self, blob: bytes) -> bytes:
        with self._lock:
            plain = self._plain.get(blob)
            if plain is not None:
                return plain
            key_id = self._require_key_id()
            try:
                reply = self._kms().decrypt(CiphertextBlob=blob, KeyId=key_id, EncryptionContext=CONTEXT)
            except Exception as exc:
                raise KeyCipherUnavailable(f"KMS could not decrypt a provider key's data key: {exc}") from None
            plain = bytes(reply["Plaintext"])
            self._plain[blob] = plain
            return plain

    def encrypt(self, text: str) -> str:
        blob, key = self._data_key()
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(nonce, text.encode("utf-8"), AAD)
        return f"{PREFIX}{base64.b64encode(blob).decode('ascii')}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str) -> str:
        if token.startswith(LEGACY_PREFIX):
            legacy = self._legacy()
            if legacy is None:
                raise KeyCipherUnavailable("a provider key stored under PROVIDER_KEY_ENCRYPTION_KEY cannot be read: "
                                           "that field is no longer in the provider secret")
            return legacy(token)
        if not token.startswith(PREFIX):
            raise ValueError("not an encrypted provider key")
        blob_text, _, sealed_text = token[len(PREFIX):].partition(":")
        raw = base64.b64decode(sealed_text)
        key = self._unwrap(base64.b64decode(blob_text))
        return AESGCM(key).decrypt(raw[:12], raw[12:], AAD).decode("utf-8")


def kms_client(endpoint_url: str | None) -> Any:
    import boto3

    return boto3.client("kms", endpoint_url=endpoint_url)
