"""Provider API keys at rest: AES-256-GCM under a key kept outside the database.

Locally the key is a file under DATA_DIR (made on first use, mode 0600); on AWS it is the
`PROVIDER_KEY_ENCRYPTION_KEY` field of the provider secret in Secrets Manager, so a copy of the DynamoDB table
alone never yields a usable key. A stored value is "v1:" + base64(nonce || ciphertext || tag).
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"
AAD = b"ragflow-serverless provider key"


class KeyCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the provider key encryption key must be 32 bytes (base64 in its file or secret)")
        self._aead = AESGCM(key)

    def encrypt(self, text: str) -> str:
        nonce = secrets.token_bytes(12)
        return PREFIX + base64.b64encode(nonce + self._aead.encrypt(nonce, text.encode("utf-8"), AAD)).decode("ascii")

    def decrypt(self, token: str) -> str:
        if not token.startswith(PREFIX):
            raise ValueError("not an encrypted provider key")
        raw = base64.b64decode(token[len(PREFIX):])
        return self._aead.decrypt(raw[:12], raw[12:], AAD).decode("utf-8")


def file_cipher(path: Path) -> KeyCipher:
    """The local key file, created once (exclusively, so two processes starting together agree on one key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(32)).decode("ascii"))
    return KeyCipher(base64.b64decode(path.read_text().strip()))


def secret_cipher(encoded_key: str) -> KeyCipher:
    if not encoded_key:
        raise ValueError("PROVIDER_KEY_ENCRYPTION_KEY is missing from the provider secret")
    return KeyCipher(base64.b64decode(encoded_key))
