"""Passwords: what RAGFlow's clients send, and the slow hash we keep instead of the password.

RAGFlow's web console and test suites send `base64(RSA-PKCS#1 v1.5(base64(password)))` with the public half of the
key pair RAGFlow publishes in its repository (conf/public.pem); we undo that with the published private half so
those clients work unchanged. A value that is not such a cipher text is taken as the password itself (curl, our
own CLI). Only an argon2id hash of the password is ever stored.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

_KEY_FILE = Path(__file__).with_name("ragflow_login_key.json")


class PasswordFormatError(ValueError):
    """The value looks like RAGFlow's cipher text but does not decrypt (RAGFlow: "Fail to crypt password")."""


@lru_cache(maxsize=1)
def _key() -> tuple[int, int, int]:
    data = json.loads(_KEY_FILE.read_text())
    n = int(data["n"], 16)
    return n, int(data["d"], 16), (n.bit_length() + 7) // 8


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher  # imported on first use: most requests never hash a password

    return PasswordHasher()  # argon2id with the library's current defaults (RFC 9106 low-memory profile)


def client_password(value: object) -> str:
    """The password a RAGFlow client meant. Raises PasswordFormatError for a cipher text that does not decrypt."""
    if not isinstance(value, str):
        raise PasswordFormatError("Fail to crypt password")
    n, d, size = _key()
    try:
        raw = base64.b64decode(value)  # RAGFlow's value wraps at 120 columns: newlines are skipped, as RAGFlow does
    except (binascii.Error, ValueError):
        return value
    if len(raw) != size:
        return value  # not an RSA block of this key: a plain password
    block = pow(int.from_bytes(raw, "big"), d, n).to_bytes(size, "big")
    sep = block.find(b"\x00", 2)
    if block[:2] != b"\x00\x02" or sep < 10:
        raise PasswordFormatError("Fail to crypt password")
    inner = block[sep + 1 :]
    try:
        return base64.b64decode(inner, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        try:
            return inner.decode("utf-8")  # an older client encrypting the password itself
        except UnicodeDecodeError:
            raise PasswordFormatError("Fail to crypt password") from None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False
