"""Throwaway App keys for the sandbox, tests, benchmarks and the demo (never a committed key)."""
from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def throwaway_app_key(*, pkcs1: bool = False) -> str:
    """A fresh RSA-2048 private key as PKCS#8 PEM, made in memory for this run only; with `pkcs1`,
    as GitHub hands out App keys (`-----BEGIN RSA PRIVATE KEY-----`)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    form = serialization.PrivateFormat.TraditionalOpenSSL if pkcs1 else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption()).decode()
