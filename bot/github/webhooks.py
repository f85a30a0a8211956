"""GitHub's webhook protocol: the signature check and `Event.from_http`. No I/O here.

The HMAC is checked over the raw bytes before anything parses them (a flood of badly signed
requests must cost little), the comparison is constant-time, and nothing of a rejected body is
logged. See https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries

While a new webhook secret is rolled out, a delivery signed with the previous one is accepted too
(`GITHUB_WEBHOOK_SECRET_PREVIOUS`): GitHub signs with whatever the App's settings hold at the time,
and deliveries already sent, or redelivered by hand, still carry the old signature.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson

from bot.policy.models import is_bot

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB and does not send larger ones.


class WebhookError(Exception):
    """A delivery that must be refused; `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature_for(secret: bytes, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """True when `header` is the HMAC-SHA256 of `body` under `secret` (constant-time compare)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(signature_for(secret, body), header.strip())


@dataclass(frozen=True)
class Event:
    """One webhook delivery, verified and parsed."""

    name: str
    delivery_id: str
    payload: Mapping[str, Any] = field(repr=False)

    @property
    def action(self) -> str | None:
        action = self.payload.get("action")
        return action if isinstance(action, str) else None

    @property
    def sender_login(self) -> str | None:
        return _get(self.payload, "sender", "login")

    @property
    def sender_is_bot(self) -> bool:
        # Covers this App's own comments and label changes and every other bot (SPEC §5, §10).
        return is_bot(_get(self.payload, "sender", "login"), _get(self.payload, "sender", "type"))

    @property
    def installation_id(self) -> int | None:
        value = _get(self.payload, "installation", "id")
        return value if isinstance(value, int) else None

    @property
    def repository(self) -> str | None:
        return _get(self.payload, "repository", "full_name")

    def log_context(self, **more: Any) -> dict[str, Any]:
        """This delivery's keys for a log line's `extra` (`bot.logs`); never the payload itself."""
        return {"delivery": self.delivery_id, "event": self.name, "action": self.action,
                "installation": self.installation_id, "repo": self.repository, **more}

    @classmethod
    def from_http(cls, headers: Mapping[str, str], body: bytes, secrets: Sequence[bytes] | bytes) -> "Event":
        """Verify and parse a delivery; raise `WebhookError` with the status to answer.

        `secrets`: the current webhook secret first, then the previous one while a new one is rolled
        out (a single secret may be given as such); a signature by any of them is accepted."""
        if len(body) > MAX_BODY_BYTES:
            raise WebhookError(413, "payload larger than 25 MB")
        if isinstance(secrets, bytes):
            secrets = (secrets,)
        signature = headers.get("X-Hub-Signature-256")
        # Each comparison is constant-time. Stopping at the first match tells a timing observer only
        # which secret signed a delivery that is genuine anyway; the current secret, tried first, is
        # the usual one. An empty secret is never used: anyone could sign with it.
        if not any(verify_signature(secret, body, signature) for secret in secrets if secret):
            raise WebhookError(401, "missing or wrong X-Hub-Signature-256")
        name = headers.get("X-GitHub-Event", "").strip()
        delivery_id = headers.get("X-GitHub-Delivery", "").strip()
        if not name:
            raise WebhookError(400, "missing X-GitHub-Event header")
        if not delivery_id:
            raise WebhookError(400, "missing X-GitHub-Delivery header")
        payload = _parse_payload(headers.get("Content-Type", ""), body)
        return cls(name=name, delivery_id=delivery_id, payload=payload)


class BadSavedDelivery(ValueError):
    """A saved delivery that cannot be replayed; `str()` says what is wrong with it."""


def saved_delivery(raw: bytes, event: str | None = None) -> Event:
    """A delivery saved from GitHub, for `fundbot replay` (no signature check: the operator has the file).

    Three forms are read: what the App's *Recent Deliveries* page shows, `{"headers": {...},
    "payload": {...}}` (the payload may also be the JSON text); the REST API's hook delivery
    (`GET /app/hook/deliveries/{id}`), which holds the same under `request`; and a bare payload, with
    the event's name given as `event` (its delivery id then derives from its content, so replaying
    the same file twice is one delivery delivered twice, as GitHub's redelivery is).
    https://docs.github.com/en/webhooks/testing-and-troubleshooting-webhooks/viewing-webhook-deliveries"""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise BadSavedDelivery(f"not JSON ({err})") from None
    if not isinstance(document, dict):
        raise BadSavedDelivery("not a JSON object: save the delivery's headers and payload, or its payload")
    if isinstance(document.get("request"), dict):
        document = document["request"]
    if "headers" not in document and "payload" not in document:
        if not event:
            raise BadSavedDelivery("a bare payload: give the event's name with --event (e.g. --event issues)")
        digest = hashlib.sha256(raw).hexdigest()[:16]
        return Event(name=event, delivery_id=f"replay-{digest}", payload=document)
    headers = document.get("headers")
    if not isinstance(headers, dict):
        raise BadSavedDelivery("`headers` is not an object of the delivery's headers")
    found = {str(k).lower(): v for k, v in headers.items()}
    name, delivery_id = found.get("x-github-event"), found.get("x-github-delivery")
    for header, value in (("X-GitHub-Event", name), ("X-GitHub-Delivery", delivery_id)):
        if not isinstance(value, str) or not value.strip():
            raise BadSavedDelivery(f"`headers` lack {header}")
    if event and event != name.strip():
        raise BadSavedDelivery(f"X-GitHub-Event is {name.strip()!r}, but --event says {event!r}")
    payload = document.get("payload")
    if isinstance(payload, str):
        try:
            payload = _parse_payload("", payload.encode(), what="`payload`")
        except WebhookError as err:
            raise BadSavedDelivery(err.reason) from None
    if not isinstance(payload, dict):
        raise BadSavedDelivery("`payload` must be the delivery's JSON object (or its text)")
    return Event(name=name.strip(), delivery_id=delivery_id.strip(), payload=payload)


def _parse_payload(content_type: str, body: bytes, what: str = "body") -> Mapping[str, Any]:
    text_body = body
    if content_type.split(";")[0].strip() == "application/x-www-form-urlencoded":
        # Repository webhooks may be configured to send `payload=<json>` form posts.
        form = parse_qs(body.decode("utf-8", "replace"))
        if "payload" not in form:
            raise WebhookError(400, "form-encoded delivery without a payload field")
        text_body = form["payload"][0].encode()
    try:
        # orjson: the payload parse is the largest cost of an acknowledgement (README, figures).
        payload = orjson.loads(text_body)
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        raise WebhookError(400, f"{what} is not valid JSON") from None
    if not isinstance(payload, dict):
        raise WebhookError(400, f"{what} is not a JSON object")
    return payload


def _get(payload: Mapping[str, Any], *keys: str) -> Any:
    value: Any = payload
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
