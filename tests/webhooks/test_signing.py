"""Standard Webhooks signing: spec vectors, independent verifiers, rotation and rejection."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from types import ModuleType

import pytest
from standardwebhooks.webhooks import Webhook

from embedcrm.webhooks.signing import (
    WebhookVerificationError,
    generate_secret,
    new_message_id,
    sign,
    signature_header,
    verify,
)

ROOT = Path(__file__).resolve().parents[2]

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers_for(msg_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def load_receiver_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "receiver_verify", ROOT / "webhooks" / "verify.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spec_test_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_spec_test_vector_verifies_with_our_verifier() -> None:
    headers = headers_for(SPEC_ID, SPEC_TIMESTAMP, SPEC_SIGNATURE)
    verify([SPEC_SECRET], headers, SPEC_BODY, now=SPEC_TIMESTAMP + 10)


def test_signature_header_matches_sign_for_one_secret() -> None:
    assert signature_header([SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_signature_header_requires_a_secret() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        signature_header([], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)


def test_round_trip_with_the_reference_library() -> None:
    secret = generate_secret()
    msg_id = new_message_id()
    timestamp = int(time.time())
    body = json.dumps(
        {"type": "lead.created", "timestamp": "2026-11-27T10:00:00Z", "data": {"name": "Анна"}},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    headers = headers_for(msg_id, timestamp, signature_header([secret], msg_id, timestamp, body))

    parsed = Webhook(secret).verify(body.decode(), headers)

    assert parsed["data"]["name"] == "Анна"


def test_rotation_header_verifies_with_either_secret() -> None:
    old, new = generate_secret(), generate_secret()
    msg_id = new_message_id()
    timestamp = int(time.time())
    body = b'{"type":"webhook.test"}'
    header = signature_header([old, new], msg_id, timestamp, body)
    headers = headers_for(msg_id, timestamp, header)

    entries = header.split(" ")
    assert len(entries) == 2
    assert all(entry.startswith("v1,") for entry in entries)
    for secret in (old, new):
        Webhook(secret).verify(body.decode(), headers, json_parse=False)
        verify([secret], headers, body, now=timestamp)
    with pytest.raises(WebhookVerificationError):
        verify([generate_secret()], headers, body, now=timestamp)


def test_verifier_accepts_header_names_in_any_case() -> None:
    headers = {
        "Webhook-Id": SPEC_ID,
        "WEBHOOK-TIMESTAMP": str(SPEC_TIMESTAMP),
        "Webhook-Signature": SPEC_SIGNATURE,
    }
    verify([SPEC_SECRET], headers, SPEC_BODY, now=SPEC_TIMESTAMP)


@pytest.mark.parametrize(
    ("headers", "body", "now"),
    [
        pytest.param(
            headers_for(SPEC_ID, SPEC_TIMESTAMP, SPEC_SIGNATURE),
            b'{"test": 2432232315}',
            SPEC_TIMESTAMP,
            id="tampered-body",
        ),
        pytest.param(
            headers_for(SPEC_ID, SPEC_TIMESTAMP, SPEC_SIGNATURE),
            SPEC_BODY,
            SPEC_TIMESTAMP + 301,
            id="stale",
        ),
        pytest.param(
            headers_for(SPEC_ID, SPEC_TIMESTAMP, SPEC_SIGNATURE),
            SPEC_BODY,
            SPEC_TIMESTAMP - 301,
            id="future",
        ),
        pytest.param(
            headers_for(SPEC_ID, SPEC_TIMESTAMP, "garbage v1,xxx"),
            SPEC_BODY,
            SPEC_TIMESTAMP,
            id="malformed-entries",
        ),
        pytest.param(
            headers_for(SPEC_ID, SPEC_TIMESTAMP, "v1,!!!not-base64!!!"),
            SPEC_BODY,
            SPEC_TIMESTAMP,
            id="bad-base64",
        ),
        pytest.param(
            headers_for(SPEC_ID, SPEC_TIMESTAMP, "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
            SPEC_BODY,
            SPEC_TIMESTAMP,
            id="unknown-version-only",
        ),
        pytest.param(
            headers_for("msg_other", SPEC_TIMESTAMP, SPEC_SIGNATURE),
            SPEC_BODY,
            SPEC_TIMESTAMP,
            id="other-id",
        ),
        pytest.param(
            headers_for(SPEC_ID, SPEC_TIMESTAMP, ""),
            SPEC_BODY,
            SPEC_TIMESTAMP,
            id="empty-signature",
        ),
        pytest.param(
            {**headers_for(SPEC_ID, SPEC_TIMESTAMP, SPEC_SIGNATURE), "webhook-timestamp": "1e9"},
            SPEC_BODY,
            SPEC_TIMESTAMP,
            id="non-integer-timestamp",
        ),
        pytest.param(
            {"webhook-id": SPEC_ID, "webhook-signature": SPEC_SIGNATURE},
            SPEC_BODY,
            SPEC_TIMESTAMP,
            id="missing-timestamp",
        ),
        pytest.param({}, SPEC_BODY, SPEC_TIMESTAMP, id="no-headers"),
    ],
)
def test_rejections_raise_only_webhook_verification_error(
    headers: dict[str, str], body: bytes, now: int
) -> None:
    try:
        verify([SPEC_SECRET], headers, body, now=now)
    except WebhookVerificationError:
        pass
    else:
        pytest.fail("verification should have failed")


def test_verification_error_is_a_value_error() -> None:
    assert issubclass(WebhookVerificationError, ValueError)


def test_a_valid_entry_after_a_malformed_one_still_verifies() -> None:
    headers = headers_for(SPEC_ID, SPEC_TIMESTAMP, f"garbage {SPEC_SIGNATURE}")
    verify([SPEC_SECRET], headers, SPEC_BODY, now=SPEC_TIMESTAMP)


def test_secret_format() -> None:
    secrets = [generate_secret() for _ in range(20)]
    assert len(set(secrets)) == len(secrets)
    for secret in secrets:
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+=*", secret)
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        assert 24 <= len(key) <= 64


def test_message_ids_are_unique_and_dot_free() -> None:
    ids = [new_message_id() for _ in range(200)]
    assert len(set(ids)) == len(ids)
    for msg_id in ids:
        assert re.fullmatch(r"msg_[A-Za-z0-9_-]+", msg_id)
        assert "." not in msg_id


def test_standalone_python_receiver_verifies_what_we_sign() -> None:
    receiver = load_receiver_module()
    old, new = generate_secret(), generate_secret()
    msg_id = new_message_id()
    timestamp = int(time.time())
    body = '{"type":"lead.created","data":{"title":"Заявка"}}'.encode()
    headers = headers_for(msg_id, timestamp, signature_header([old, new], msg_id, timestamp, body))

    for secret in (old, new):
        assert receiver.verify(secret, headers, body)["data"]["title"] == "Заявка"
    with pytest.raises(receiver.WebhookVerificationError):
        receiver.verify(old, headers, body + b" ")
    with pytest.raises(receiver.WebhookVerificationError):
        receiver.verify(old, headers, body, now=timestamp + 301)
    with pytest.raises(receiver.WebhookVerificationError):
        receiver.verify(old, {**headers, "webhook-signature": "garbage v1,xxx"}, body)


def test_standalone_python_receiver_accepts_the_spec_vector() -> None:
    receiver = load_receiver_module()
    headers = headers_for(SPEC_ID, SPEC_TIMESTAMP, SPEC_SIGNATURE)
    assert receiver.verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TIMESTAMP) == {
        "test": 2432232314
    }


NODE_SCRIPT = r"""
const { verify } = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const results = input.cases.map((c) => {
  try {
    const event = verify(c.secret, c.headers, Buffer.from(c.body, "base64"), c.options || {});
    return { ok: true, event };
  } catch (err) {
    return { ok: false, name: err.name };
  }
});
process.stdout.write(JSON.stringify(results));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_standalone_node_receiver_verifies_what_we_sign() -> None:
    old, new = generate_secret(), generate_secret()
    msg_id = new_message_id()
    timestamp = int(time.time())
    body = '{"type":"lead.created","data":{"title":"Заявка"}}'.encode()
    headers = headers_for(msg_id, timestamp, signature_header([old, new], msg_id, timestamp, body))

    def case(
        secret: str, hdrs: dict[str, str], raw: bytes, now: int | None = None
    ) -> dict[str, object]:
        options = {} if now is None else {"now": now}
        return {
            "secret": secret,
            "headers": hdrs,
            "body": base64.b64encode(raw).decode(),
            "options": options,
        }

    cases = [
        case(old, headers, body),
        case(new, headers, body),
        case(
            SPEC_SECRET,
            headers_for(SPEC_ID, SPEC_TIMESTAMP, SPEC_SIGNATURE),
            SPEC_BODY,
            now=SPEC_TIMESTAMP,
        ),
        case(old, headers, body + b" "),
        case(old, headers, body, now=timestamp + 301),
        case(old, {**headers, "webhook-signature": "garbage v1,xxx"}, body),
        case(generate_secret(), headers, body),
    ]
    completed = subprocess.run(
        ["node", "-e", NODE_SCRIPT, str(ROOT / "webhooks" / "verify.js")],
        input=json.dumps({"cases": cases}),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    results = json.loads(completed.stdout)

    assert [result["ok"] for result in results] == [True, True, True, False, False, False, False]
    assert results[0]["event"]["data"]["title"] == "Заявка"
    assert results[2]["event"] == {"test": 2432232314}
    assert {result["name"] for result in results[3:]} == {"WebhookVerificationError"}
