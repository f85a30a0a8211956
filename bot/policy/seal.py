"""The record's seal (SPEC §14): an HMAC that makes an edited record, or one copied to another issue,
detectable. Pure.

The key is derived (HKDF-SHA256) from the App's private key, which only the service holds, so no
one who can edit a comment can forge the seal; it covers the record block's exact text, the
repository and the issue number. A record that fails — edited, copied, or written before records
were sealed — is not trusted: `decide` rebuilds the state from the comment history and the status
comment says so. The fund-state issue's data (the round's ledger) is sealed the same way: an edited
ledger is not trusted until the sweep has rebuilt it from the applications' sealed records.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.policy.markers import FoundRecord

INFO = b"fund-bot record seal v1"


def record_key(private_key_pem: str) -> bytes:
    """The sealing key, derived from the App's private key (never the key itself)."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(der)


def seal(key: bytes, repo: str, number: int, payload: str) -> str:
    """The seal of a record block's `payload` on issue `number` of `repo`."""
    message = f"{repo.lower()}\n{number}\n{payload}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


FUND_STATE = 0  # the fund-state issue's seal names no issue: its number is not known until it exists


def fund_state_seal(key: bytes, repo: str, payload: str) -> str:
    """The seal of the fund-state issue's data block (the round's ledger, the valid configuration)."""
    return seal(key, repo, FUND_STATE, payload)


def fund_state_holds(key: bytes | None, repo: str, payload: str, signature: str | None,
                     previous: Sequence[bytes] = ()) -> bool:
    """The fund-state block is the App's own, unedited (always, when no key is configured); sealed
    with the current key or, while the App's private key is rotated, a `previous` one."""
    if key is None:
        return True
    return bool(signature) and any(hmac.compare_digest(signature, fund_state_seal(k, repo, payload))
                                   for k in (key, *previous))


def verified(found: FoundRecord, key: bytes | None, repo: str, number: int,
             previous: Sequence[bytes] = ()) -> FoundRecord:
    """`found` when its seal holds (or no key is configured) — with the current key or, while the App's
    private key is rotated (`GITHUB_PRIVATE_KEY_PREVIOUS`), a `previous` one; otherwise no record, and why."""
    if key is None or found.record is None or found.block is None:
        return found
    signature = found.block.signature
    if signature and any(hmac.compare_digest(signature, seal(k, repo, number, found.block.payload))
                         for k in (key, *previous)):
        return found
    return FoundRecord(None, found.block, "unsealed" if not signature else "tampered")
