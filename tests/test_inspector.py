"""The inspector page at /_emulator/ui, driven in headless Chromium by Playwright against a real
server: what a person looking at a test run sees (balances and ledger, task timelines, assets,
webhook attempts, the clock, faults), and that it follows the emulator live without a reload.

Chromium comes from the system (Debian's `chromium`), never from `playwright install`: the path is
`/usr/bin/chromium` unless `CHROMIUM_PATH` says otherwise, and a missing browser fails the test
rather than skipping it, so that CI cannot pass without having run it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from PIL import Image
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, WebhookReceiver, serve_in_thread
from emulator.vendors import NAMES

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError as exc:  # reported by the browser test, so the plain tests below still run
    PLAYWRIGHT_MISSING: str | None = f"the 'playwright' package is not installed ({exc}): pip install -e '.[test]'"
else:
    PLAYWRIGHT_MISSING = None

pytestmark = pytest.mark.emulator_only

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# As root in a container Chromium needs --no-sandbox; the rest keep it from calling Google's
# services, which are refused here and only slow it down.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "inspector"
LIVE_UPDATE_MS = 5_000  # the page polls every second; this is how long an assertion waits for it


@pytest.fixture(scope="module")
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver.running() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def server() -> Iterator[RunningEmulator]:
    # Plain-HTTP callbacks to loopback, so the receiver above can take Genray's signed webhooks.
    with serve_in_thread(Settings(vendors=NAMES, clock="manual", seed=11, allow_http_callbacks=True)) as running:
        yield running


def vendor_client(server: RunningEmulator, vendor: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.vendor_url(vendor), headers={"Authorization": f"Bearer {key}"}, timeout=10)


def submit_perseworks(server: RunningEmulator, key: str, prompt: str) -> str:
    with vendor_client(server, "perseworks", key) as api:
        response = api.post("/video/generations", json={"model": "seedance-2.0", "prompt": prompt,
                                                        "resolution": "720p", "durationSec": 5})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def balance(server: RunningEmulator, account_id: str) -> dict[str, Any]:
    with server.control() as control:
        return dict(control.get(f"/accounts/{account_id}").json())


def row(page: Page, kind: str, ident: str) -> Any:
    return page.locator(f'[id="{kind}-{ident}"]')


def test_the_inspector_shows_the_run_and_follows_it_live(server: RunningEmulator, hooks: WebhookReceiver) -> None:
    if PLAYWRIGHT_MISSING:
        pytest.fail(PLAYWRIGHT_MISSING)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's 'chromium' package (apt-get install chromium "
                    "chromium-driver) or set CHROMIUM_PATH; the inspector test needs a real browser")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    genray = server.create_account("genray", plan="standard", rate_limit_rpm=0, webhook_url=hooks.url("/genray"))
    perseworks = server.create_account("perseworks", credits=1_000)
    seegen = server.create_account("seegen", credits=500)
    hooks.answer("/genray", 500)  # the first delivery fails; the retry (2 s later) succeeds
    with vendor_client(server, "genray", genray["api_key"]) as api:
        video = api.post("/api/v1/videos", json={"prompt": "a kite over the sea"})
        assert video.status_code == 202, video.text
        genray_task = video.json()["id"]
    server.advance(60)  # Genray's task succeeds at +60 s and its webhook's first attempt gets the 500
    perseworks_task = submit_perseworks(server, perseworks["api_key"], "a lighthouse")  # queued for 5 s
    with vendor_client(server, "seegen", seegen["api_key"]) as api:
        asset = api.post("/assets/upload", json={"url": "https://example.com/a.jpg", "type": "IMAGE", "name": "kite"})
        assert asset.status_code == 200, asset.text
        asset_id = asset.json()["volcAssetId"]  # under review for 3 s
    with server.control() as control:
        fault = control.post("/faults", json={"vendor": "perseworks", "operation": "getVideoGeneration",
                                              "status": 503, "times": 3}).json()
    with vendor_client(server, "perseworks", perseworks["api_key"]) as api:
        assert api.get(f"/video/generations/{perseworks_task}").status_code == 503

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1400})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.goto(f"{server.base_url}/_emulator/ui#account={genray['account_id']}")
            expect(page.locator("#clock-mode")).to_have_text("manual", timeout=LIVE_UPDATE_MS)

            # Accounts and the selected account's ledger: the plan's monthly credits, the hold, the settlement.
            account = row(page, "account", genray["account_id"])
            expect(account.locator(".credits")).to_have_text("4720", timeout=LIVE_UPDATE_MS)
            expect(account.locator(".held")).to_have_text("0")
            expect(account.locator(".available")).to_have_text("4720")
            held = balance(server, perseworks["account_id"])["held"]
            assert held > 0
            expect(row(page, "account", perseworks["account_id"]).locator(".held")).to_have_text(str(held))
            expect(page.locator("#ledger tbody tr .kind")).to_have_text(["settle", "hold", "topup"])
            expect(page.locator("#ledger tbody tr .amount")).to_have_text(["130", "130", "4850"])

            # Tasks with their timelines: Genray's finished, Perseworks' still queued.
            done = row(page, "task", genray_task)
            expect(done.locator(".state")).to_have_text("succeeded")
            expect(done.locator("ol.timeline li .step-state")).to_have_text(["queued", "running", "succeeded"])
            expect(done.locator('ol.timeline li[aria-current="step"]')).to_have_attribute("data-state", "succeeded")
            queued = row(page, "task", perseworks_task)
            expect(queued.locator(".state")).to_have_text("queued")
            expect(queued.locator('ol.timeline li[aria-current="step"]')).to_have_attribute("data-state", "queued")
            expect(queued.locator("ol.timeline li.future .step-state")).to_have_text(["running", "succeeded"])

            # The SeeGen asset under review.
            expect(row(page, "asset", asset_id).locator(".status")).to_have_text("PROCESSING")

            # The Genray webhook: one failed attempt, signed, with its retry planned.
            [delivery] = [d for d in server.emulator.outbox.deliveries if d.ref == genray_task]
            hook = row(page, "delivery", delivery.id)
            expect(hook).to_have_attribute("data-state", "pending")
            expect(hook.locator(".attempt-status")).to_have_text(["500"])
            expect(hook.locator(".signature")).to_have_text([re.compile(r"X-Genray-Signature: sha256=[0-9a-f]{64}")])
            expect(hook.locator("td time").last).to_be_visible()  # the next attempt's time

            # The fault with its counts.
            rule = row(page, "fault", fault["id"])
            expect(rule.locator(".matched")).to_have_text("1")
            expect(rule.locator(".fired")).to_have_text("1")
            expect(rule.locator(".effect")).to_contain_text("answer 503")
            page.screenshot(path=str(SCREENSHOTS / "1-run.png"), full_page=True)

            # "Advance" moves the clock; the page follows without a reload.
            page.evaluate("window.sameDocument = true")  # a reload would lose it
            page.fill("#advance-seconds", "5")
            page.click("#advance-button")
            expect(queued.locator(".state")).to_have_text("running", timeout=LIVE_UPDATE_MS)
            expect(queued.locator('ol.timeline li[aria-current="step"]')).to_have_attribute("data-state", "running")
            expect(hook).to_have_attribute("data-state", "delivered", timeout=LIVE_UPDATE_MS)
            expect(hook.locator(".attempt-status")).to_have_text(["500", "200"])
            expect(row(page, "asset", asset_id).locator(".status")).to_have_text("ACTIVE")
            assert page.evaluate("window.sameDocument") is True
            page.screenshot(path=str(SCREENSHOTS / "2-after-advance.png"), full_page=True)

            # A task submitted while the page is open appears on the next poll.
            fresh = submit_perseworks(server, perseworks["api_key"], "a second lighthouse")
            expect(row(page, "task", fresh).locator(".state")).to_have_text("queued", timeout=LIVE_UPDATE_MS)
            expect(row(page, "account", perseworks["account_id"]).locator(".held")).to_have_text(str(2 * held))
            page.screenshot(path=str(SCREENSHOTS / "3-new-task.png"), full_page=True)

            # Choosing another account shows its ledger: two holds on the opening grant.
            page.get_by_role("button", name=f"Show ledger of {perseworks['account_id']}").click()
            expect(page.locator("#ledger-account")).to_contain_text(perseworks["account_id"], timeout=LIVE_UPDATE_MS)
            expect(page.locator("#ledger tbody tr .kind")).to_have_text(["hold", "hold", "topup"])
            expect(row(page, "account", perseworks["account_id"])).to_have_attribute("aria-selected", "true")
            assert not errors, errors
        finally:
            browser.close()


def test_the_inspector_answers_loopback_clients_only() -> None:
    app = create_app(Settings(vendors=NAMES, clock="manual"))
    remote = TestClient(app, client=("203.0.113.9", 4000))
    for path in ("/_emulator/ui", "/_emulator/ui/state", "/_emulator/ui/inspector.js", "/_emulator/assets"):
        response = remote.get(path)
        assert response.status_code == 403 and "loopback" in response.json()["error"], path
    local = TestClient(app, client=("127.0.0.1", 4000))
    page = local.get("/_emulator/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert local.get("/_emulator/ui/inspector.css").headers["content-type"].startswith("text/css")
    assert local.get("/_emulator/ui/api.py").status_code == 404  # only the page's own files are served


def test_the_state_snapshot_never_carries_a_key_or_a_webhook_secret(server: RunningEmulator,
                                                                     hooks: WebhookReceiver) -> None:
    account = server.create_account("genray", plan="standard", rate_limit_rpm=0, webhook_url=hooks.url("/quiet"),
                                    api_key="sk_live_pinned-for-this-test-0123456789")
    with vendor_client(server, "genray", account["api_key"]) as api:
        assert api.post("/api/v1/videos", json={"prompt": "a kite"}).status_code == 202
    server.advance(60)  # a signed delivery exists, made with the secret
    with server.control() as control:
        raw = control.get("/ui/state", params={"account": account["account_id"]}).content
    snapshot = orjson.loads(raw)
    assert any(d["account_id"] == account["account_id"] and d["signature"] for d in snapshot["webhooks"]["items"])
    assert account["account_id"] in {a["account_id"] for a in snapshot["accounts"]["items"]}
    assert account["api_key"].encode() not in raw
    assert account["webhook_secret"].encode() not in raw
    assert b"key_hash" not in raw and b"webhook_secret" not in raw


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_assets_lists_what_each_vendor_keeps(server: RunningEmulator) -> None:
    """SeeGen's reviewed assets, PowerTokens' asset-library jobs and Genray's uploads, each through the
    vendor's own hook, by account; and the ids the page lists are the ids the vendor's API answers."""
    seegen = server.create_account("seegen", credits=10)
    powertokens = server.create_account("powertokens")
    genray = server.create_account("genray", plan="standard", rate_limit_rpm=0)
    with vendor_client(server, "seegen", seegen["api_key"]) as api:
        volc = api.post("/assets/upload", json={"url": "https://example.com/b.mp4", "type": "VIDEO"}).json()
    with vendor_client(server, "powertokens", powertokens["api_key"]) as api:
        job = api.post("/v1/asset/upload", files={"file": ("pt.png", png(), "image/png")}).json()["data"]["task_id"]
    with vendor_client(server, "genray", genray["api_key"]) as api:
        upload = api.post("/api/v1/upload", files={"file": ("person.png", png(), "image/png")})
        assert upload.status_code == 200, upload.text
    server.advance(600)  # every review and asset job is over
    with server.control() as control:
        listed = {a["account_id"]: a for a in control.get("/assets").json()}
        only_genray = control.get("/assets", params={"account_id": genray["account_id"]}).json()
    sg, pt, gr = (listed[a["account_id"]] for a in (seegen, powertokens, genray))
    assert (sg["vendor"], sg["id"], sg["kind"], sg["status"]) == ("seegen", volc["volcAssetId"], "VIDEO", "ACTIVE")
    assert (pt["vendor"], pt["job_id"], pt["kind"], pt["status"], pt["name"]) == (
        "powertokens", job, "image", "succeeded", "pt.png")
    assert pt["id"].startswith("asset-")
    assert (gr["vendor"], gr["kind"], gr["status"], gr["name"]) == ("genray", "image", "uploaded", "person.png")
    assert gr["url"] == upload.json()["url"]
    assert only_genray == [gr]
