"""PowerTokens over raw HTTP: the Ark-compatible task API, /v1/videos (2.0 and 1.x), the asset
library, billing, lifecycle, callbacks and every refusal. Every response is validated against
openapi/powertokens.yaml."""

from __future__ import annotations

import io
import pathlib
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from PIL import Image

from emulator.core import media_render
from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck, WebhookReceiver, serve_in_thread

V2 = "dreamina-seedance-2-0-260128"
V2_FAST = "dreamina-seedance-2-0-fast-260128"
PRO_15, PRO_10, PRO_FAST_10 = "seedance-1-5-pro-251215", "seedance-1-0-pro-250528", "seedance-1-0-pro-fast-251015"
TASKS = "/byteplus/api/v3/contents/generations/tasks"
# Ark's price assumption of the emulator (emulator/vendors/powertokens/pricing.py): USD per 1M tokens.
USD_PER_M = {V2: Decimal("7.00"), V2_FAST: Decimal("5.60"), PRO_15: Decimal("2.40")}


# -- media to upload -----------------------------------------------------------------------


def png(width: int = 1280, height: int = 720) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def _rendered(suffix: str, write: Any) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / f"clip{suffix}"
        write(path)
        return path.read_bytes()


def mp4(seconds: float) -> bytes:
    return _rendered(".mp4", lambda p: media_render.render_video(p, width=320, height=240, seconds=seconds, fps=8))


def m4a(seconds: float) -> bytes:
    return _rendered(".m4a", lambda p: media_render.render_audio(p, seconds=seconds))


# -- fixtures ------------------------------------------------------------------------------


def _client(base: str, key: str | None, bearer: bool = False) -> httpx.Client:
    headers = {} if key is None else {"Authorization": f"Bearer {key}" if bearer else key}
    return httpx.Client(base_url=base, headers=headers, timeout=30,
                        event_hooks={"response": [SpecCheck.for_vendors("powertokens")]})


@pytest.fixture
def pt(emu: RunningEmulator) -> dict[str, Any]:
    return emu.create_account("powertokens", credits=10_000)


@pytest.fixture
def api(emu: RunningEmulator, pt: dict[str, Any]) -> Iterator[httpx.Client]:
    """Raw `Authorization: <key>`, as the guide shows."""
    with _client(emu.vendor_url("powertokens"), pt["api_key"]) as client:
        yield client


def ledger(emu: RunningEmulator, account: dict[str, Any], ref: str | None = None) -> list[tuple[str, Decimal]]:
    with emu.control() as c:
        entries = c.get(f"/accounts/{account['account_id']}").json()["ledger"]
    return [(e["kind"], Decimal(str(e["amount"]))) for e in entries if ref is None or e["ref"] == ref]


def balance(emu: RunningEmulator, account: dict[str, Any]) -> tuple[Decimal, Decimal]:
    with emu.control() as c:
        state = c.get(f"/accounts/{account['account_id']}").json()
    return Decimal(str(state["credits"])), Decimal(str(state["held"]))


def upload(emu: RunningEmulator, api: httpx.Client, data: bytes, filename: str = "a.png") -> str:
    response = api.post("/v1/asset/upload", files={"file": (filename, data)})
    assert response.status_code == 200, response.text
    job = response.json()["data"]["task_id"]
    emu.advance(5)
    got = httpx.get(api.base_url.join("/powertokens/v1/asset/jobs/get-asset-id"), params={"task_id": job}).json()
    assert got["code"] == 200 and got["data"]["asset_id"], got
    return str(got["data"]["asset_id"])


def text(prompt: str = "a kitten on grass") -> dict[str, Any]:
    return {"type": "text", "text": prompt}


def image(url: str, role: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    if role:
        item["role"] = role
    return item


def ark(api: httpx.Client, **body: Any) -> httpx.Response:
    body.setdefault("model", V2)
    body.setdefault("content", [text()])
    return api.post(TASKS, json=body)


def created(api: httpx.Client, **body: Any) -> str:
    response = ark(api, **body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def tokens(w: int, h: int, seconds: float) -> int:
    return int(w * h * (24 * seconds + 1) // 1024)


def cost(model: str, token_count: int) -> Decimal:
    return Decimal(token_count) * USD_PER_M[model] / Decimal(1_000_000) * 100


# -- auth ----------------------------------------------------------------------------------


def test_raw_and_bearer_keys_both_authenticate(emu: RunningEmulator, pt: dict[str, Any]) -> None:
    base = emu.vendor_url("powertokens")
    for bearer in (False, True):
        with _client(base, pt["api_key"], bearer) as c:
            assert c.get(TASKS).status_code == 200


@pytest.mark.parametrize("header", [None, "nope", "Bearer nope", "Basic abc"])
def test_a_missing_or_unknown_key_is_401_authentication_error(emu: RunningEmulator, header: str | None) -> None:
    with _client(emu.vendor_url("powertokens"), header) as c:
        for response in (c.get(TASKS), c.post("/v1/videos", json={}), c.get("/v1/videos/x"),
                         c.post("/v1/asset/upload", files={"file": ("a.png", png(8, 8))})):
            assert response.status_code == 401
            assert response.json()["error"] == {"code": "AuthenticationError", "message": response.json()[
                "error"]["message"], "param": "", "type": "Unauthorized"}


def test_get_asset_id_needs_no_key(emu: RunningEmulator, api: httpx.Client) -> None:
    job = api.post("/v1/asset/upload", files={"file": ("a.png", png())}).json()["data"]["task_id"]
    with _client(emu.vendor_url("powertokens"), None) as anonymous:
        got = anonymous.get("/v1/asset/jobs/get-asset-id", params={"task_id": job})
    assert got.status_code == 200 and got.json()["data"]["status"] == "processing"


def test_another_vendors_key_is_401(emu: RunningEmulator) -> None:
    other = emu.create_account("perseworks", credits=10)
    with _client(emu.vendor_url("powertokens"), other["api_key"]) as c:
        assert c.get(TASKS).status_code == 401


# -- the Ark task lifecycle ------------------------------------------------------------------


def test_a_task_goes_queued_running_succeeded_with_ark_usage(emu: RunningEmulator, api: httpx.Client,
                                                             pt: dict[str, Any]) -> None:
    created_body = ark(api, ratio="16:9", duration=5, return_last_frame=True, seed=78674).json()
    task_id = created_body["id"]
    assert task_id.startswith("cgt-") and set(created_body) == {"id"}
    states = []
    for step in (0, 6, 600):
        emu.advance(step)
        body = api.get(f"{TASKS}/{task_id}").json()
        states.append(body["status"])
    assert states == ["queued", "running", "succeeded"]
    # The documented example: 720p 16:9 5 s → 108900 tokens.
    assert body["usage"] == {"completion_tokens": 108900, "total_tokens": 108900}
    assert (body["resolution"], body["ratio"], body["duration"], body["framespersecond"], body["seed"]) == (
        "720p", "16:9", 5, 24, 78674)
    assert body["model"] == V2 and body["generate_audio"] is True and body["draft"] is False
    assert body["service_tier"] == "default" and body["execution_expires_after"] == 172800
    assert body["updated_at"] > body["created_at"]
    video = httpx.get(body["content"]["video_url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    frame = Image.open(io.BytesIO(httpx.get(body["content"]["last_frame_url"]).content))
    assert frame.size == (1280, 720)
    # Held at submit, settled to the usage on success.
    assert ledger(emu, pt, task_id) == [("hold", cost(V2, 108900)), ("settle", cost(V2, 108900))]


def test_last_frame_url_only_when_asked(emu: RunningEmulator, api: httpx.Client) -> None:
    task_id = created(api)
    emu.advance(600)
    assert "last_frame_url" not in api.get(f"{TASKS}/{task_id}").json()["content"]


def test_the_downloaded_video_has_the_promised_size_and_length(emu: RunningEmulator, api: httpx.Client,
                                                                tmp_path: pathlib.Path) -> None:
    task_id = created(api, ratio="9:16", resolution="480p", duration=4)
    emu.advance(600)
    url = api.get(f"{TASKS}/{task_id}").json()["content"]["video_url"]
    path = tmp_path / "out.mp4"
    path.write_bytes(httpx.get(url).content)
    info = media_render.probe(path)
    assert (info["width"], info["height"]) == (496, 864) and round(info["duration"]) == 4


def test_auto_duration_holds_the_longest_and_settles_what_was_made(emu: RunningEmulator, api: httpx.Client,
                                                                    pt: dict[str, Any]) -> None:
    task_id = created(api, duration=-1, ratio="16:9")
    emu.advance(600)
    body = api.get(f"{TASKS}/{task_id}").json()
    assert 4 <= body["duration"] <= 15
    assert ledger(emu, pt, task_id)[0] == ("hold", cost(V2, tokens(1280, 720, 15)))
    assert ("settle", cost(V2, tokens(1280, 720, body["duration"]))) in ledger(emu, pt, task_id)


@pytest.mark.parametrize(("scenario", "code"), [("fail", "InternalServiceError"),
                                                 ("output_moderation", "OutputVideoSensitiveContentDetected")])
def test_a_failed_task_carries_an_ark_error_and_is_refunded(emu: RunningEmulator, api: httpx.Client,
                                                            pt: dict[str, Any], scenario: str, code: str) -> None:
    task_id = created(api, content=[text(f"a cat #emulator:{scenario}")])
    emu.advance(600)
    body = api.get(f"{TASKS}/{task_id}").json()
    assert body["status"] == "failed" and body["error"]["code"] == code and "content" not in body
    kinds = [k for k, _ in ledger(emu, pt, task_id)]
    assert kinds == ["hold", "refund"] and balance(emu, pt) == (Decimal(10_000), Decimal(0))


def test_a_task_past_execution_expires_after_is_expired_and_refunded(emu: RunningEmulator, api: httpx.Client,
                                                                     pt: dict[str, Any]) -> None:
    task_id = api.post(TASKS, headers={"X-Emulator-Scenario": "expire"},
                       json={"model": V2, "content": [text()], "execution_expires_after": 3600}).json()["id"]
    emu.advance(3599)
    assert api.get(f"{TASKS}/{task_id}").json()["status"] == "queued"
    emu.advance(1)
    assert api.get(f"{TASKS}/{task_id}").json()["status"] == "expired"
    assert [k for k, _ in ledger(emu, pt, task_id)] == ["hold", "refund"]


def test_a_submit_refused_by_moderation_holds_nothing(emu: RunningEmulator, api: httpx.Client,
                                                      pt: dict[str, Any]) -> None:
    response = ark(api, content=[text("x #emulator:moderation_reject")])
    assert response.status_code == 400 and response.json()["error"]["code"] == "InputTextSensitiveContentDetected"
    assert ledger(emu, pt) == [("topup", Decimal(10_000))]


def test_not_enough_credits_is_403_account_overdue(emu: RunningEmulator) -> None:
    poor = emu.create_account("powertokens", credits=1)
    with _client(emu.vendor_url("powertokens"), poor["api_key"]) as c:
        response = ark(c, duration=15)
    assert response.status_code == 403 and response.json()["error"]["code"] == "AccountOverdueError"
    assert ledger(emu, poor) == [("topup", Decimal(1))]


def test_at_most_120_queued_tasks_per_account(emu: RunningEmulator, api: httpx.Client) -> None:
    for _ in range(120):
        assert ark(api, resolution="480p", duration=4).status_code == 200
    refused = ark(api, resolution="480p", duration=4)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "QuotaExceeded"
    emu.advance(6)  # they start running
    assert ark(api, resolution="480p", duration=4).status_code == 200


# -- Ark rules -----------------------------------------------------------------------------------

ARK_INVALID = [
    ({"model": None}, "InvalidParameter", "model"),
    ({"content": []}, "InvalidParameter", "content"),
    ({"content": [{"type": "text"}]}, "MissingParameter", "content[0].text"),
    ({"content": [{"type": "video"}]}, "InvalidParameter", "content[0].type"),
    ({"content": [text(), text()]}, "InvalidParameter", "content[1]"),
    ({"content": [text(), {"type": "image_url"}]}, "MissingParameter", "content[1].image_url"),
    ({"duration": 3}, "InvalidParameter", "duration"),
    ({"duration": 16}, "InvalidParameter", "duration"),
    ({"duration": 0}, "InvalidParameter", "duration"),
    ({"resolution": "4k"}, "InvalidParameter", "resolution"),
    ({"resolution": "1080p"}, "InvalidParameter", "resolution"),  # text-to-video is 720p at most
    ({"model": V2_FAST, "resolution": "1080p"}, "InvalidParameter", "resolution"),
    ({"ratio": "2:1"}, "InvalidParameter", "ratio"),
    ({"seed": -2}, "InvalidParameter", "seed"),
    ({"seed": 4294967296}, "InvalidParameter", "seed"),
    ({"execution_expires_after": 3599}, "InvalidParameter", "execution_expires_after"),
    ({"execution_expires_after": 259201}, "InvalidParameter", "execution_expires_after"),
    ({"priority": 10}, "InvalidParameter", "priority"),
    ({"service_tier": "flex"}, "InvalidParameter", "service_tier"),
    ({"draft": True}, "InvalidParameter", "draft"),
    ({"safety_identifier": "x" * 65}, "InvalidParameter", "safety_identifier"),
    ({"callback_url": "ftp://example.com/hook"}, "InvalidParameter", "callback_url"),
    ({"frames": 121}, "InvalidParameter", "frames"),
    ({"temperature": 1}, "InvalidParameter", "temperature"),
    ({"content": [text(), image("https://example.com/a.png")]}, "InvalidParameter", "content[1].image_url.url"),
    ({"content": [text(), image("data:image/png;base64,iVBORw0KGgo=")]}, "InvalidParameter",
     "content[1].image_url.url"),
    ({"content": [text(), image("asset://nope")]}, "InvalidParameter", "content[1].image_url.url"),
    ({"content": [text(), image("asset://a", role="reference_video")]}, "InvalidParameter", "content[1].role"),
]


@pytest.mark.parametrize(("patch", "code", "param"), ARK_INVALID)
def test_an_invalid_ark_request_is_400_naming_the_parameter(emu: RunningEmulator, api: httpx.Client,
                                                            pt: dict[str, Any], patch: dict[str, Any], code: str,
                                                            param: str) -> None:
    body = {"model": V2, "content": [text()], **patch}
    if body["model"] is None:
        del body["model"]
        code = "MissingParameter"
    response = api.post(TASKS, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"], error["type"]) == (code, param, "BadRequest") and error["message"]
    assert ledger(emu, pt) == [("topup", Decimal(10_000))]


def test_nulls_are_not_given_as_the_ark_sdk_sends_them(emu: RunningEmulator, api: httpx.Client) -> None:
    nulls = {k: None for k in ("callback_url", "return_last_frame", "service_tier", "execution_expires_after",
                               "generate_audio", "draft", "safety_identifier", "priority", "resolution", "ratio",
                               "duration", "seed", "camera_fixed", "watermark", "frames", "tools",
                               "output_format", "omni_reference_task_type")}
    task_id = created(api, **nulls)
    body = api.get(f"{TASKS}/{task_id}").json()
    assert (body["duration"], body["resolution"], body["ratio"]) == (5, "720p", "16:9")  # adaptive, text only


def test_an_unknown_model_is_404_and_a_json_error_body_is_400(api: httpx.Client) -> None:
    response = ark(api, model="seedance-9")
    assert response.status_code == 404 and response.json()["error"]["code"] == "InvalidEndpointOrModel.NotFound"
    for raw in (b"{", b"[]", b""):
        bad = api.post(TASKS, content=raw, headers={"Content-Type": "application/json"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] in ("InvalidParameter", "MissingParameter")


def test_image_to_video_from_an_asset_adapts_the_ratio_and_allows_1080p(emu: RunningEmulator,
                                                                        api: httpx.Client) -> None:
    asset = upload(emu, api, png(720, 1280))
    task_id = created(api, content=[text(), image(f"asset://{asset}", "first_frame")], resolution="1080p")
    emu.advance(600)
    body = api.get(f"{TASKS}/{task_id}").json()
    assert (body["status"], body["ratio"], body["resolution"]) == ("succeeded", "9:16", "1080p")
    assert body["usage"]["completion_tokens"] == tokens(1080, 1920, 5)


def test_frame_modes(emu: RunningEmulator, api: httpx.Client) -> None:
    a, b = upload(emu, api, png()), upload(emu, api, png())
    first, last = image(f"asset://{a}", "first_frame"), image(f"asset://{b}", "last_frame")
    assert ark(api, content=[text(), image(f"asset://{a}")]).status_code == 200  # role optional for one frame
    assert ark(api, content=[text(), first, last]).status_code == 200
    for content, param in [([text(), image(f"asset://{a}"), image(f"asset://{b}")], "content[2].image_url.url"),
                           ([text(), last], "content[1].image_url.url"),
                           ([text(), first, last, image(f"asset://{a}", "last_frame")], "content[3].image_url.url"),
                           ([text(), first, image(f"asset://{b}", "reference_image")], "content[1].image_url.url")]:
        response = ark(api, content=content)
        assert response.status_code == 400 and response.json()["error"]["param"] == param, response.text


def test_multimodal_reference_rules(emu: RunningEmulator, api: httpx.Client, pt: dict[str, Any]) -> None:
    img = image(f"asset://{upload(emu, api, png())}", "reference_image")
    vid8 = upload(emu, api, mp4(8), "v.mp4")
    aud = upload(emu, api, m4a(3), "a.m4a")
    long_vid = upload(emu, api, mp4(16), "long.mp4")

    def video(asset: str) -> dict[str, Any]:
        return {"type": "video_url", "video_url": {"url": f"asset://{asset}"}, "role": "reference_video"}

    audio = {"type": "audio_url", "audio_url": {"url": f"asset://{aud}"}, "role": "reference_audio"}
    ok = ark(api, content=[text(), img, video(vid8), audio], ratio="16:9")
    assert ok.status_code == 200
    # Input video seconds count in the tokens: (8 + 5) s at 720p 16:9.
    assert ledger(emu, pt, ok.json()["id"])[0] == ("hold", cost(V2, tokens(1280, 720, 13)))
    for content in ([text(), audio],  # audio never alone
                    [text(), video(long_vid)],  # 2–15 s each
                    [text(), video(vid8), video(vid8)],  # 15 s in total
                    [text(), *[img] * 10],  # 1–9 images
                    [text(), {**audio, "role": "reference_video"}]):
        response = ark(api, content=content)
        assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidParameter", content
    assert ark(api, model=PRO_15, content=[text(), img]).status_code == 400  # 2.0 only
    wrong_kind = ark(api, content=[text(), {"type": "video_url", "video_url": {"url": img["image_url"]["url"]}}])
    assert wrong_kind.status_code == 400 and "is a image" in wrong_kind.json()["error"]["message"]


def test_1x_models_on_the_ark_interface(api: httpx.Client) -> None:
    assert ark(api, model=PRO_10, duration=2).status_code == 200
    for patch, param in [({"model": PRO_10, "duration": -1}, "duration"),
                         ({"model": PRO_15, "duration": 13}, "duration"),
                         ({"model": PRO_10, "generate_audio": True}, "generate_audio"),
                         ({"model": PRO_15, "draft": True, "resolution": "720p"}, "resolution"),
                         ({"model": PRO_10, "priority": 3}, "priority"),
                         ({"model": PRO_10, "return_last_frame": True}, "return_last_frame")]:
        response = ark(api, **patch)
        assert response.status_code == 400 and response.json()["error"]["param"] == param, patch
    # 1.x takes plain URLs and base64 (the 1.x page: "URL or Base64-encoded input").
    assert ark(api, model=PRO_15, content=[text(), image("https://example.com/a.png")]).status_code == 200


# -- list and delete ---------------------------------------------------------------------------


def test_list_pages_filters_and_repeated_task_ids(emu: RunningEmulator, api: httpx.Client) -> None:
    ids = [created(api, model=V2 if i % 2 else V2_FAST) for i in range(5)]
    page = api.get(TASKS, params={"page_num": 1, "page_size": 2}).json()
    assert page["total"] == 5 and [t["id"] for t in page["items"]] == ids[::-1][:2]
    third = api.get(TASKS, params={"page_num": 3, "page_size": 2}).json()
    assert [t["id"] for t in third["items"]] == [ids[0]]
    picked = api.get(f"{TASKS}?filter.task_ids={ids[0]}&filter.task_ids={ids[3]}").json()
    assert picked["total"] == 2 and {t["id"] for t in picked["items"]} == {ids[0], ids[3]}
    fast = api.get(TASKS, params={"filter.model": V2_FAST}).json()
    assert fast["total"] == 3 and all(t["model"] == V2_FAST for t in fast["items"])
    assert api.get(TASKS, params={"filter.status": "succeeded"}).json()["total"] == 0
    emu.advance(600)
    assert api.get(TASKS, params={"filter.status": "succeeded"}).json()["total"] == 5
    assert api.get(TASKS, params={"page_size": 501}).status_code == 400
    assert api.get(TASKS, params={"filter.status": "done"}).json()["error"]["param"] == "filter.status"


def test_only_the_last_7_days_are_found(emu: RunningEmulator, api: httpx.Client) -> None:
    task_id = created(api)
    emu.advance(7 * 86400 - 10)
    assert api.get(f"{TASKS}/{task_id}").status_code == 200
    emu.advance(11)
    assert api.get(f"{TASKS}/{task_id}").status_code == 404
    assert api.get(f"/v1/videos/{task_id}").status_code == 404
    assert api.get(TASKS).json()["total"] == 0


def test_delete_cancels_a_queued_task_and_refunds_it(emu: RunningEmulator, api: httpx.Client,
                                                     pt: dict[str, Any]) -> None:
    task_id = created(api)
    response = api.delete(f"{TASKS}/{task_id}")
    assert response.status_code == 200 and response.json() == {}
    assert api.get(f"{TASKS}/{task_id}").json()["status"] == "cancelled"
    assert [k for k, _ in ledger(emu, pt, task_id)] == ["hold", "refund"]
    again = api.delete(f"{TASKS}/{task_id}")  # cancelled: an error
    assert again.status_code == 400 and again.json()["error"]["code"] == "InvalidParameter"
    emu.advance(86400 + 1)  # "auto-deleted after 24h"
    assert api.get(f"{TASKS}/{task_id}").status_code == 404


def test_delete_refuses_a_running_task_and_removes_a_finished_one(emu: RunningEmulator, api: httpx.Client) -> None:
    task_id = created(api)
    emu.advance(6)
    assert api.delete(f"{TASKS}/{task_id}").status_code == 400
    emu.advance(600)
    assert api.delete(f"{TASKS}/{task_id}").status_code == 200
    gone = api.get(f"{TASKS}/{task_id}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ResourceNotFound"
    assert api.delete(f"{TASKS}/{task_id}").status_code == 404


def test_tenants_never_see_each_other(emu: RunningEmulator, api: httpx.Client) -> None:
    asset = upload(emu, api, png())
    task_id = created(api)
    other = emu.create_account("powertokens", credits=10_000)
    with _client(emu.vendor_url("powertokens"), other["api_key"]) as c:
        assert c.get(f"{TASKS}/{task_id}").status_code == 404
        assert c.get(f"/v1/videos/{task_id}").status_code == 404
        assert c.delete(f"{TASKS}/{task_id}").status_code == 404
        assert c.get(TASKS).json()["total"] == 0
        assert ark(c, content=[text(), image(f"asset://{asset}")]).status_code == 400


# -- callbacks ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    """A real HTTP endpoint that records what is posted to it."""
    with WebhookReceiver.running() as rec:
        yield rec, rec.url("/hook")


def test_callback_url_gets_the_task_body_on_each_status_change(emu: RunningEmulator, api: httpx.Client,
                                                               receiver: tuple[WebhookReceiver, str]) -> None:
    rec, url = receiver
    rec.clear()
    task_id = created(api, callback_url=url, ratio="16:9")
    emu.advance(6)
    emu.advance(600)
    bodies = [r.json() for r in rec.at("/hook")]
    assert [b["status"] for b in bodies] == ["queued", "running", "succeeded"]
    assert all(b["id"] == task_id for b in bodies)
    assert bodies[-1] == api.get(f"{TASKS}/{task_id}").json()  # the GET body
    with emu.control() as c:
        deliveries = [d for d in c.get("/webhooks").json() if d["ref"] == task_id]
    assert [d["state"] for d in deliveries] == ["delivered"] * 3


def test_a_cancelled_task_calls_back_too(emu: RunningEmulator, api: httpx.Client,
                                         receiver: tuple[WebhookReceiver, str]) -> None:
    rec, url = receiver
    rec.clear()
    task_id = created(api, callback_url=url)
    api.delete(f"{TASKS}/{task_id}")
    emu.advance(1)
    assert [r.json()["status"] for r in rec.at("/hook")] == ["queued", "cancelled"]


# -- /v1/videos ---------------------------------------------------------------------------------


def test_v1_videos_text_to_video_defaults(emu: RunningEmulator, api: httpx.Client) -> None:
    response = api.post("/v1/videos", json={"model": V2, "media": [text()]})
    assert response.status_code == 200
    task = response.json()
    assert task["object"] == "video" and task["id"] == task["task_id"] and task["status"] == "queued"
    assert task["progress"] == 0 and task["model"] == V2
    emu.advance(600)
    result = api.get(f"/v1/videos/{task['task_id']}").json()
    # seconds "5", size "720p", ratio 16:9 for text-to-video, generate_audio true
    assert (result["duration"], result["resolution"], result["ratio"], result["generate_audio"]) == (
        5, "720p", "16:9", True)
    assert result["status"] == "succeeded" and result["content"]["video_url"]


def test_v1_videos_image_to_video_defaults_to_adaptive_and_takes_asset_id(emu: RunningEmulator,
                                                                          api: httpx.Client) -> None:
    asset = upload(emu, api, png(1000, 1000))
    for item in ({"type": "first_frame", "url": f"asset://{asset}"}, {"type": "first_frame", "asset_id": asset}):
        task = api.post("/v1/videos", json={"model": V2, "media": [text(), item], "size": "1080p"}).json()
        emu.advance(600)
        result = api.get(f"/v1/videos/{task['id']}").json()
        assert (result["ratio"], result["resolution"]) == ("1:1", "1080p")


V1_INVALID = [
    ({"seconds": "3"}, "seconds"), ({"seconds": "16"}, "seconds"), ({"seconds": "five"}, "seconds"),
    ({"size": "1080p"}, "size"), ({"size": "4k"}, "size"), ({"model": V2_FAST, "size": "1080p"}, "size"),
    ({"ratio": "adaptive!"}, "ratio"), ({"seed": 4294967296}, "seed"), ({"safety_identifier": "x" * 65},
                                                                         "safety_identifier"),
    ({"prompt": "a fox"}, "prompt"), ({"media": []}, "media"), ({"media": [{"type": "first_frame"}]},
                                                                "media[0].asset_id"),
    ({"media": [text(), {"type": "first_frame", "url": "https://example.com/a.png"}]}, "media[1].url"),
    ({"media": [text(), {"type": "sticker", "url": "asset://x"}]}, "media[1].type"),
    ({"callback_url": "https://example.com"}, "callback_url"),
]


@pytest.mark.parametrize(("patch", "param"), V1_INVALID)
def test_v1_videos_2_0_refusals_name_the_parameter(api: httpx.Client, patch: dict[str, Any], param: str) -> None:
    response = api.post("/v1/videos", json={"model": V2, "media": [text()], **patch})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


@pytest.mark.parametrize(("model", "size", "seconds"), [(PRO_15, "720p", 5), (PRO_10, "1080p", 5),
                                                        (PRO_FAST_10, "1080p", 5)])
def test_v1_videos_1x_defaults(emu: RunningEmulator, api: httpx.Client, model: str, size: str, seconds: int) -> None:
    task = api.post("/v1/videos", json={"model": model, "prompt": "a kitten"}).json()
    emu.advance(600)
    result = api.get(f"/v1/videos/{task['id']}").json()
    assert (result["resolution"], result["duration"]) == (size, seconds)
    assert result["ratio"] == "16:9"  # text-to-video; 1.5 pro's adaptive renders 16:9 for text
    assert result["generate_audio"] is (model == PRO_15)


V1X_INVALID = [
    ({"model": PRO_15, "seconds": "2"}, "seconds"), ({"model": PRO_15, "seconds": "13"}, "seconds"),
    ({"model": PRO_10, "seconds": "-1"}, "seconds"), ({"model": PRO_10, "seconds": "1"}, "seconds"),
    ({"model": PRO_10, "draft": True}, "draft"), ({"model": PRO_15, "draft": True, "size": "720p"}, "size"),
    ({"model": PRO_FAST_10, "generate_audio": True}, "generate_audio"),
    ({"model": PRO_15, "prompt": ...}, "prompt"), ({"model": PRO_15, "media": [text()]}, "media"),
    ({"model": PRO_15, "image": "ftp://x"}, "image"),
]


@pytest.mark.parametrize(("patch", "param"), V1X_INVALID)
def test_v1_videos_1x_refusals_name_the_parameter(api: httpx.Client, patch: dict[str, Any], param: str) -> None:
    body = {"prompt": "a kitten", **patch}
    body = {k: v for k, v in body.items() if v is not ...}
    response = api.post("/v1/videos", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_v1_videos_1x_draft_is_480p_and_image_may_be_a_url(emu: RunningEmulator, api: httpx.Client) -> None:
    draft = api.post("/v1/videos", json={"model": PRO_15, "prompt": "a kitten", "draft": True}).json()
    i2v = api.post("/v1/videos", json={"model": PRO_10, "prompt": "a kitten", "seconds": "2",
                                       "image": "https://example.com/first.png"}).json()
    emu.advance(600)
    assert api.get(f"/v1/videos/{draft['id']}").json()["resolution"] == "480p"
    result = api.get(f"/v1/videos/{i2v['id']}").json()
    assert (result["status"], result["duration"], result["ratio"]) == ("succeeded", 2, "16:9")


# -- the asset library ---------------------------------------------------------------------------


def test_an_upload_becomes_an_asset_after_processing(emu: RunningEmulator, api: httpx.Client,
                                                     pt: dict[str, Any]) -> None:
    response = api.post("/v1/asset/upload", files={"file": ("frame.jpg", png())}, data={"group_id": "g-1"})
    body = response.json()
    assert body["code"] == 200 and body["data"]["group_id"] == "g-1"
    job = body["data"]["task_id"]
    poll = api.get("/v1/asset/jobs/get-asset-id", params={"task_id": job}).json()
    assert poll["data"]["asset_id"] is None and poll["data"]["status"] == "processing"
    emu.advance(3)
    done = api.get("/v1/asset/jobs/get-asset-id", params={"task_id": job}).json()
    assert done["code"] == 200 and done["data"]["status"] == "succeeded" and done["data"]["asset_id"]
    stored = emu.emulator.uploads.of_account("powertokens", pt["account_id"])
    assert [u.format for u in stored] == ["png"]  # sniffed, not the client's .jpg


def test_an_asset_that_fails_review_never_gets_an_id(emu: RunningEmulator, api: httpx.Client) -> None:
    job = api.post("/v1/asset/upload", files={"file": ("a #emulator:review_fail.png", png())}).json()["data"]
    emu.advance(10)
    poll = api.get("/v1/asset/jobs/get-asset-id", params={"task_id": job["task_id"]}).json()
    assert poll["data"]["status"] == "failed" and poll["data"]["asset_id"] is None


def test_an_asset_is_unusable_until_processed(emu: RunningEmulator, api: httpx.Client) -> None:
    job = api.post("/v1/asset/upload", files={"file": ("a.png", png())}).json()["data"]["task_id"]
    asset_id = "asset-" + job.removeprefix("asset-job-")
    assert ark(api, content=[text(), image(f"asset://{asset_id}")]).status_code == 400
    emu.advance(3)
    assert ark(api, content=[text(), image(f"asset://{asset_id}")]).status_code == 200


BAD_UPLOADS = [
    pytest.param({"files": {"group_id": (None, "g")}}, "MissingParameter", id="no-file"),
    pytest.param({"files": {"file": (None, "just text")}}, "InvalidParameter", id="file-is-text"),
    pytest.param({"data": {"group_id": "g"}}, "InvalidParameter", id="urlencoded"),
    pytest.param({"files": {"file": ("a.png", b"")}}, "InvalidParameter", id="empty"),
    pytest.param({"files": {"file": ("a.png", b"hello, not an image")}}, "InvalidParameter", id="text"),
    pytest.param({"files": {"file": ("a.png", b"\x89PNG\r\n\x1a\nbroken")}}, "InvalidParameter", id="corrupt"),
    pytest.param({"files": {"file": ("big.png", png(64, 64) + b"\0" * (30 * 1024 * 1024))}}, "InvalidParameter",
                 id="image-over-30MB"),
    pytest.param({"files": {"file": ("huge.bin", b"\0" * (50 * 1024 * 1024 + 1))}}, "InvalidParameter",
                 id="over-50MB"),
    pytest.param({"json": {"file": "a.png"}}, "InvalidParameter", id="not-multipart"),
]


@pytest.mark.parametrize(("kwargs", "code"), BAD_UPLOADS)
def test_a_bad_upload_is_400_and_nothing_is_stored(emu: RunningEmulator, api: httpx.Client, pt: dict[str, Any],
                                                   kwargs: dict[str, Any], code: str) -> None:
    response = api.post("/v1/asset/upload", **kwargs)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code
    assert emu.emulator.uploads.of_account("powertokens", pt["account_id"]) == []
    assert not [t for t in emu.emulator.lifecycle.of_account(pt["account_id"]) if t.kind == "asset"]


def test_an_unknown_asset_job_is_404_in_the_envelope(api: httpx.Client) -> None:
    response = api.get("/v1/asset/jobs/get-asset-id", params={"task_id": "asset-job-nope"})
    assert response.status_code == 404 and response.json() == {
        "code": 404, "message": "no asset upload job 'asset-job-nope'", "data": None}


# -- the media-URL setting and the root mount --------------------------------------------------


@pytest.mark.parametrize("allowed", [False, True])
def test_plain_urls_for_seedance_2_follow_the_setting(allowed: bool) -> None:
    settings = Settings(vendors=("powertokens",), clock="manual", extra={"powertokens.media_urls": allowed})
    with serve_in_thread(settings) as running:
        key = running.create_account("powertokens", credits=1000)["api_key"]
        # A single vendor is also served at its documented paths.
        with httpx.Client(base_url=running.base_url, headers={"Authorization": key},
                          event_hooks={"response": [SpecCheck({"": "powertokens"})]}) as c:
            for url in ("https://example.com/a.png", "data:image/png;base64,iVBORw0KGgo="):
                response = ark(c, content=[text(), image(url)])
                assert response.status_code == (200 if allowed else 400), response.text
            video = c.post("/v1/videos", json={"model": V2, "media": [
                text(), {"type": "reference_video", "url": "https://example.com/v.mp4#emulator:duration=20"}]})
            assert video.status_code == 400  # 20 s is over 15 s either way (refused as URL or as length)


# -- key scopes and rate limits (core stages, PowerTokens' Ark codes) ------------------------------


def test_key_scopes_are_403_access_denied(emu: RunningEmulator) -> None:
    limited = emu.create_account("powertokens", credits=1000, allowed_models=[V2_FAST])
    with _client(emu.vendor_url("powertokens"), limited["api_key"]) as c:
        assert ark(c, model=V2_FAST).status_code == 200
        refused = ark(c, model=V2)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "AccessDenied"
        assert refused.json()["error"]["param"] == "model"
    elsewhere = emu.create_account("powertokens", credits=1000, allowed_ips=["10.1.2.0/24"])
    with _client(emu.vendor_url("powertokens"), elsewhere["api_key"]) as c:
        denied = c.get(TASKS)
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "AccessDenied"


def test_a_key_over_its_rpm_is_429_with_retry_after(emu: RunningEmulator) -> None:
    slow = emu.create_account("powertokens", credits=1000, rate_limit_rpm=2)
    with _client(emu.vendor_url("powertokens"), slow["api_key"]) as c:
        assert [c.get(TASKS).status_code for _ in range(2)] == [200, 200]
        limited = c.get(TASKS)
        assert limited.status_code == 429 and "Retry-After" in limited.headers
        assert limited.json()["error"] == {"code": "RateLimitExceeded.EndpointRPMExceeded",
                                           "message": limited.json()["error"]["message"], "param": "",
                                           "type": "TooManyRequests"}
        emu.advance(60)
        assert c.get(TASKS).status_code == 200


def test_safety_identifier_is_echoed(api: httpx.Client) -> None:
    response = ark(api, safety_identifier="user-42")
    assert response.json()["safety_identifier"] == "user-42"
    assert api.get(f"{TASKS}/{response.json()['id']}").json()["safety_identifier"] == "user-42"
