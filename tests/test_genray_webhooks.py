"""Genray webhooks over real HTTP (genray.md, "Webhooks"): per-key default URL and per-request
override, `{event, data, timestamp}` signed with `X-Genray-Signature`, verified here with the
document's own `verify_webhook`; retried 3 times after 2, 4, 8 s; 5 s timeout; HTTPS only unless
the server allows plain HTTP to loopback. Runs a single-vendor server, so the documented paths
are served at the root."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from contracts.genray._support import document_verify_webhook as verify_webhook
from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck, WebhookReceiver, serve_in_thread

pytestmark = pytest.mark.emulator_only



def of(rec: WebhookReceiver, name: str) -> list[tuple[bytes, dict[str, str]]]:
    return [(r.body, r.headers) for r in rec.at(f"/hooks/{name}")]


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    with WebhookReceiver.running() as rec:
        yield rec, rec.url("/hooks")


@pytest.fixture(scope="module")
def local() -> Iterator[RunningEmulator]:
    """`seedance-emulator serve --vendor genray --allow-http-callbacks`, manual clock."""
    with serve_in_thread(Settings(vendors=("genray",), clock="manual", allow_http_callbacks=True)) as running:
        yield running


def client(local: RunningEmulator, key: str) -> httpx.Client:
    return httpx.Client(base_url=local.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30,
                        event_hooks={"response": [SpecCheck.for_vendors(root="genray")]})


def finish(local: RunningEmulator, c: httpx.Client, job_id: str) -> dict[str, Any]:
    for _ in range(20):
        body = c.get(f"/api/v1/videos/{job_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        local.advance(30)
    raise AssertionError("never finished")


def test_key_default_webhook_is_signed_and_verifies(local: RunningEmulator,
                                                    receiver: tuple[WebhookReceiver, str]) -> None:
    rec, base = receiver
    account = local.create_account("genray", rate_limit_rpm=0, webhook_url=f"{base}/default")
    with client(local, account["api_key"]) as c:  # the documented paths, at the root
        job = c.post("/api/v1/videos", json={"prompt": "a kite"}).json()
        done = finish(local, c, job["id"])
    [(raw, headers)] = of(rec, "default")
    assert verify_webhook(raw, headers["x-genray-signature"], account["webhook_secret"])
    assert not verify_webhook(raw, headers["x-genray-signature"], "whsec_wrong")
    assert headers["x-genray-event"] == "video.completed"
    body = orjson.loads(raw)
    assert set(body) == {"event", "data", "timestamp"} and body["event"] == "video.completed"
    assert body["data"] == {k: done[k] for k in ("id", "status", "video_url", "width", "height", "duration_ms")}
    [delivery] = [d for d in local.emulator.outbox.deliveries if d.ref == job["id"]]
    assert delivery.timeout == 5 and delivery.retry_delays == (2, 4, 8) and delivery.state == "delivered"


def test_request_webhook_overrides_the_key_default_and_failures_are_sent(
        local: RunningEmulator, receiver: tuple[WebhookReceiver, str]) -> None:
    rec, base = receiver
    account = local.create_account("genray", rate_limit_rpm=0, webhook_url=f"{base}/ignored")
    with client(local, account["api_key"]) as c:
        job = c.post("/api/v1/videos", json={"prompt": "a kite #emulator:fail",
                                             "webhook_url": f"{base}/override"}).json()
        finish(local, c, job["id"])
    assert of(rec, "ignored") == []
    [(raw, headers)] = of(rec, "override")
    assert verify_webhook(raw, headers["x-genray-signature"], account["webhook_secret"])
    body = orjson.loads(raw)
    assert headers["x-genray-event"] == body["event"] == "video.failed"
    assert body["data"]["id"] == job["id"] and body["data"]["status"] == "failed" and body["data"]["error"]


def test_a_key_made_through_the_api_signs_with_its_own_secret(local: RunningEmulator,
                                                              receiver: tuple[WebhookReceiver, str]) -> None:
    rec, base = receiver
    account = local.create_account("genray", plan="advanced", rate_limit_rpm=0)
    with client(local, account["api_key"]) as c:
        made = c.post("/api/keys", json={"name": "hooks", "webhook_url": f"{base}/made"}).json()
    with client(local, made["key"]) as c:
        job = c.post("/api/v1/videos/from-person", json={"person_image_url": "https://e.com/p.jpg",
                                                        "prompt": "waves"}).json()
        for _ in range(12):
            local.advance(30)
        assert c.get(f"/api/v1/videos/{job['id']}").json()["status"] == "completed"
    [(raw, headers)] = of(rec, "made")
    assert verify_webhook(raw, headers["x-genray-signature"], made["webhook_secret"])
    assert not verify_webhook(raw, headers["x-genray-signature"], account["webhook_secret"])


def test_retried_three_times_after_2_4_8_seconds(local: RunningEmulator, receiver: tuple[WebhookReceiver, str]) -> None:
    rec, base = receiver
    rec.answer("/hooks/flaky", 500, 503, 500, 500)
    account = local.create_account("genray", rate_limit_rpm=0)
    with client(local, account["api_key"]) as c:
        job = c.post("/api/v1/videos", json={"prompt": "a kite", "duration": 4,
                                             "webhook_url": f"{base}/flaky"}).json()
        local.advance(54)  # the job completes: first attempt
        assert len(of(rec, "flaky")) == 1
        local.advance(1.9)
        assert len(of(rec, "flaky")) == 1
        local.advance(0.1)
        assert len(of(rec, "flaky")) == 2
        local.advance(4)
        assert len(of(rec, "flaky")) == 3
        local.advance(8)
        assert len(of(rec, "flaky")) == 4
        local.advance(60)
    assert len(of(rec, "flaky")) == 4  # 1 + 3 retries, then it gives up
    [delivery] = [d for d in local.emulator.outbox.deliveries if d.ref == job["id"]]
    planned = [a.planned_at - delivery.attempts[0].planned_at for a in delivery.attempts]
    assert planned == [0, 2, 6, 14] and delivery.state == "failed"
    bodies = {raw for raw, _ in of(rec, "flaky")}
    assert len(bodies) == 1  # every retry sends the same signed body


def test_https_only_by_default(emu: RunningEmulator, receiver: tuple[WebhookReceiver, str]) -> None:
    """The session server was not started with --allow-http-callbacks."""
    _, base = receiver
    account = emu.create_account("genray", rate_limit_rpm=0)
    with httpx.Client(base_url=emu.vendor_url("genray"), headers={"Authorization": f"Bearer {account['api_key']}"},
                      event_hooks={"response": [SpecCheck.for_vendors("genray")]}) as c:
        response = c.post("/api/v1/videos", json={"prompt": "a kite", "webhook_url": f"{base}/plain"})
        assert response.status_code == 422 and response.json()["detail"]["field"] == "webhook_url"
        assert c.post("/api/keys", json={"webhook_url": f"{base}/plain"}).status_code == 422
        accepted = c.post("/api/v1/videos", json={"prompt": "a kite", "webhook_url": "https://example.com/h"})
        assert accepted.status_code == 202


def test_http_to_a_non_loopback_host_is_refused_even_when_allowed(local: RunningEmulator) -> None:
    account = local.create_account("genray", rate_limit_rpm=0)
    with client(local, account["api_key"]) as c:
        response = c.post("/api/v1/videos", json={"prompt": "a kite", "webhook_url": "http://example.com/h"})
    assert response.status_code == 422
