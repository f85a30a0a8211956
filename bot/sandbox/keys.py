"""Throwaway App keys for the sandbox, tests, benchmarks and the demo (never a committed key)."""
from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def throwaway_app_key() -> str:
    """A fresh RSA-2048 private key as PKCS#8 PEM, made in memory for this run only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
