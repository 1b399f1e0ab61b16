"""Encryption at rest for Spotify tokens.

Fernet (AES + HMAC) from `cryptography`. The key is `TOKEN_ENCRYPTION_KEY` when set, otherwise
derived from `SECRET_KEY` with HKDF so a leaked database alone never yields usable tokens.
"""
from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class TokenCipher:
    def __init__(self, encryption_key: str, secret_key: str) -> None:
        if encryption_key:
            key = encryption_key.encode()
        else:
            derived = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=b"curator-token-cipher", info=b"tokens"
            ).derive(secret_key.encode())
            key = base64.urlsafe_b64encode(derived)
        self._fernet = Fernet(key)

    def encrypt(self, payload: dict) -> str:
        return self._fernet.encrypt(json.dumps(payload).encode()).decode()

    def decrypt(self, blob: str) -> dict | None:
        """The payload, or None when the key changed or the blob was tampered with."""
        try:
            return json.loads(self._fernet.decrypt(blob.encode()))
        except (InvalidToken, ValueError):
            return None
