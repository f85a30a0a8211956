"""The webhook protocol: GitHub's signature test vector and every refusal of Event.from_http."""
import json

import pytest

from bot.jobs.routes import route
from bot.github.webhooks import MAX_BODY_BYTES, Event, WebhookError, signature_for, verify_signature

SECRET = b"It's a Secret to Everybody"


def test_githubs_published_test_vector():
    # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert signature_for(SECRET, b"Hello, World!") == expected
    assert verify_signature(SECRET, b"Hello, World!", expected)


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=757107ea0eb2509fc211221cce984b8a37570b6d", "sha256=" + "0" * 64,
     "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"],
    ids=["missing", "empty", "no-digest", "sha1-only", "wrong-digest", "no-prefix"],
)
def test_wrong_signatures_are_refused(header):
    assert not verify_signature(SECRET, b"Hello, World!", header)


def _headers(body: bytes, **extra: str) -> dict[str, str]:
    headers = {"X-Hub-Signature-256": signature_for(SECRET, body), "X-GitHub-Event": "issues",
               "X-GitHub-Delivery": "d-1", "Content-Type": "application/json"}
    headers.update(extra)
    return {k: v for k, v in headers.items() if v is not None}


BODY = json.dumps({"action": "opened", "sender": {"login": "a", "type": "User"}}).encode()


@pytest.mark.parametrize(
    "body, headers, status",
    [
        (BODY, {"X-Hub-Signature-256": "sha256=" + "1" * 64}, 401),
        (BODY, {"X-Hub-Signature-256": ""}, 401),
        (BODY, {"X-GitHub-Event": ""}, 400),
        (BODY, {"X-GitHub-Delivery": ""}, 400),
        (b"{not json", {}, 400),
        (b"[1, 2]", {}, 400),
        (b"\xff\xfe", {}, 400),
        (b"x" * (MAX_BODY_BYTES + 1), {}, 413),
    ],
    ids=["bad-signature", "empty-signature", "no-event", "no-delivery", "malformed-json", "json-not-object",
         "not-utf8", "too-large"],
)
def test_bad_deliveries_get_their_status(body, headers, status):
    all_headers = _headers(body)
    all_headers.update(headers)
    with pytest.raises(WebhookError) as err:
        Event.from_http(all_headers, body, SECRET)
    assert err.value.status == status


def test_signature_is_checked_before_anything_else():
    # A badly signed request is refused as such even when it is also malformed.
    with pytest.raises(WebhookError) as err:
        Event.from_http({"X-Hub-Signature-256": "sha256=00"}, b"{oops", SECRET)
    assert err.value.status == 401


def test_form_encoded_delivery_is_read():
    from urllib.parse import urlencode

    body = urlencode({"payload": BODY.decode()}).encode()
    event = Event.from_http(_headers(body, **{"Content-Type": "application/x-www-form-urlencoded"}), body, SECRET)
    assert event.action == "opened" and event.sender_login == "a"


PREVIOUS = b"the secret before the rotation"


@pytest.mark.parametrize(
    "signed_with, secrets, accepted",
    [(SECRET, (SECRET, PREVIOUS), True), (PREVIOUS, (SECRET, PREVIOUS), True),
     (b"another secret", (SECRET, PREVIOUS), False), (PREVIOUS, (SECRET,), False), (b"", (SECRET, b""), False),
     (SECRET, (), False)],
    ids=["current", "previous-while-rotating", "neither", "previous-after-rotation", "empty-secret-never-used",
         "no-secret-configured"],
)
def test_a_signature_by_the_current_or_the_previous_secret(signed_with, secrets, accepted):
    headers = {**_headers(BODY), "X-Hub-Signature-256": signature_for(signed_with, BODY)}
    if accepted:
        assert Event.from_http(headers, BODY, secrets).action == "opened"
    else:
        with pytest.raises(WebhookError) as err:
            Event.from_http(headers, BODY, secrets)
        assert err.value.status == 401


@pytest.mark.parametrize("signed_with, status", [(b"another secret", 401), (PREVIOUS, 400)],
                         ids=["neither-refused-before-parsing", "previous-passes-then-parsing-fails"])
def test_with_two_secrets_the_signature_still_comes_before_parsing(signed_with, status):
    body = b"{oops"
    headers = {**_headers(body), "X-Hub-Signature-256": signature_for(signed_with, body)}
    with pytest.raises(WebhookError) as err:
        Event.from_http(headers, body, (SECRET, PREVIOUS))
    assert err.value.status == status


@pytest.mark.parametrize(
    "name, action, handled",
    [("issues", "opened", True), ("issues", "edited", True), ("issues", "labeled", True), ("issues", "unlabeled", False),
     ("issue_comment", "created", True), ("issue_comment", "edited", False), ("issue_comment", "deleted", False),
     ("issues", "closed", False), ("push", None, True), ("release", "published", False), ("ping", None, True),
     ("installation", "created", True), ("installation_repositories", "added", True)],
    ids=lambda v: str(v),
)
def test_routing_table(name, action, handled):
    event = Event(name=name, delivery_id="d", payload={"action": action} if action else {})
    assert (route(event) is not None) is handled
