"""genray.md, "Webhooks": per-key default URL and per-request override; body `{event, data,
timestamp}` with `X-Genray-Event` and `X-Genray-Signature`, verifiable with the document's own
`verify_webhook` (and the client's helper); retried 3 times after 2, 4, 8 s; HTTPS only.

The emulator records every delivery attempt (`GET /_emulator/webhooks`); the hooks here point at
an HTTPS URL on a closed local port, so every attempt fails and the whole retry schedule shows.
(tests/test_genray_webhooks.py receives real deliveries on a local HTTP receiver.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from client.genray import Genray, InvalidSignatureError, ValidationError, parse_webhook, verify_webhook

from .._support import Account, Control
from ._support import document_verify_webhook
from .conftest import PROMPT, Finish, MakeClient

pytestmark = pytest.mark.emulator_only


HOOK = "https://127.0.0.1:9/genray-hook"


def deliveries(control: Control, job_id: str) -> list[dict[str, Any]]:
    response = control.http.get("/webhooks")
    assert response.status_code == 200
    return [d for d in response.json() if d["ref"] == job_id]


def test_per_request_webhook_is_signed_with_the_keys_secret(client: Genray, account: Account, control: Control,
                                                            finish: Finish) -> None:
    secret = account.created["webhook_secret"]
    job = client.videos.create(prompt=PROMPT, duration=4, webhook_url=HOOK)
    video = finish(client, job.id)
    [delivery] = deliveries(control, job.id)
    raw = delivery["body"].encode()
    signature = delivery["headers"]["X-Genray-Signature"]
    assert signature.startswith("sha256=")
    assert document_verify_webhook(raw, signature, secret)
    assert verify_webhook(raw, signature, secret) and not verify_webhook(raw, signature, "whsec_other")
    assert delivery["headers"]["X-Genray-Event"] == "video.completed" == delivery["event"]
    event = parse_webhook(raw, signature, secret)
    assert event.event == "video.completed" and event.timestamp
    assert (event.data.id, event.data.status, event.data.video_url) == (job.id, "completed", video.video_url)
    assert (event.data.width, event.data.height, event.data.duration_ms) == (video.width, video.height,
                                                                             video.duration_ms)
    assert set(json.loads(raw)) == {"event", "data", "timestamp"}
    with pytest.raises(InvalidSignatureError):
        parse_webhook(raw.replace(b"completed", b"COMPLETED"), signature, secret)


def test_retried_three_times_after_2_4_8_seconds(client: Genray, control: Control, finish: Finish) -> None:
    job = client.videos.create(prompt=PROMPT, duration=4, webhook_url=HOOK)
    finish(client, job.id)
    control.advance(30)
    [delivery] = deliveries(control, job.id)
    planned = [a["planned_at"] for a in delivery["attempts"]]
    assert [round(t - planned[0], 3) for t in planned] == [0, 2, 6, 14]
    assert delivery["state"] == "failed"


def test_key_default_webhook_and_its_own_secret(client: Genray, make_client: MakeClient, control: Control,
                                                finish: Finish) -> None:
    made = client.keys.create(name="hooks", webhook_url=HOOK)
    assert made.webhook_url == HOOK
    keyed = make_client(api_key=made.key)
    job = keyed.videos.from_person(person_image_url="https://example.com/p.jpg", prompt="waves", duration=4,
                                   model="seedance-2.0-fast")
    for _ in range(12):
        control.advance(30)
    [delivery] = deliveries(control, job.id)
    assert delivery["url"] == HOOK
    assert document_verify_webhook(delivery["body"].encode(), delivery["headers"]["X-Genray-Signature"],
                                   made.webhook_secret)


def test_failed_jobs_send_video_failed(client: Genray, account: Account, control: Control, finish: Finish) -> None:
    job = client.videos.create(prompt=f"{PROMPT} #emulator:fail", webhook_url=HOOK)
    finish(client, job.id)
    [delivery] = deliveries(control, job.id)
    event = parse_webhook(delivery["body"].encode(), delivery["headers"]["X-Genray-Signature"],
                          account.created["webhook_secret"])
    assert (event.event, event.data.status) == ("video.failed", "failed") and event.data.error


def test_only_https_webhooks_are_accepted(client: Genray, account: Account) -> None:
    with account.unchanged():
        for url in ("http://example.com/hook", "ftp://example.com/hook"):
            with pytest.raises(ValidationError):
                client.videos.create(prompt=PROMPT, webhook_url=url)
        with pytest.raises(ValidationError):
            client.keys.create(webhook_url="http://example.com/hook")
