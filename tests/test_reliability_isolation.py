"""Tenants never see each other: for every vendor, account B's keys cannot poll, list, cancel, delete,
upscale or reference account A's tasks, assets and uploads, nor read A's balance or keys; each try
gets the vendor's documented answer for "not yours" (404 not found, except SeeGen, whose document
says "403 Access denied (can only query own tasks)"), and a second key of A sees all of A's work, so
the boundary is the account, not the key. Every response is validated against the vendor's spec.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image

from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck, serve_in_thread
from emulator.vendors import NAMES

pytestmark = pytest.mark.emulator_only

PT_TASKS = "/byteplus/api/v3/contents/generations/tasks"
PT_MODEL = "dreamina-seedance-2-0-260128"
EXTERNAL_VIDEO = "https://cdn.example.com/clip.mp4#duration=5&width=1280&height=720"


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with serve_in_thread(Settings(vendors=NAMES, clock="manual", seed=41)) as running:
        yield running


def png(width: int = 640, height: int = 640) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Tenant:
    account: dict[str, Any]
    api: httpx.Client  # the account's first key
    spare: httpx.Client  # a second key of the same account


@dataclass(frozen=True)
class Probe:
    """One thing B tries with A's resources: a method and a path with {placeholders} from A's ids."""

    what: str
    method: str
    path: str


@dataclass(frozen=True)
class VendorCase:
    name: str
    account: dict[str, Any]
    make: Callable[[RunningEmulator, Tenant], dict[str, str]]  # A's resources (ids by name)
    refused: tuple[int, str]  # what "not yours" is
    code: Callable[[dict[str, Any]], str]
    probes: list[Probe]
    # (path, what must be absent from B's answer and present in A's) for each listing.
    listings: list[tuple[str, Callable[[dict[str, Any]], set[str]], str]]
    balance: tuple[str, Callable[[dict[str, Any]], Any]] | None  # the balance endpoint, and its figure


def perseworks(emu: RunningEmulator, a: Tenant) -> dict[str, str]:
    body = {"model": "seedance-2.0", "prompt": "a kite", "resolution": "720p", "durationSec": 5}
    return {"task": a.api.post("/video/generations", json=body).json()["id"]}


def seegen(emu: RunningEmulator, a: Tenant) -> dict[str, str]:
    task = a.api.post("/jobs/createTask", json={"model": "sd2-fast", "inputs": {"prompt": "a kite"}}).json()
    upscale = a.api.post("/upscale/create", json={"source": {"type": "url", "url": EXTERNAL_VIDEO},
                                                  "targetResolution": "1080p"}).json()
    asset = a.api.post("/assets/upload", json={"url": "https://cdn.example.com/face.jpg", "type": "IMAGE"}).json()
    emu.advance(60)  # the asset passes review
    return {"task": task["taskId"], "upscale": upscale["taskId"], "asset": asset["volcAssetId"],
            "asset_number": str(asset["assetId"])}


def powertokens(emu: RunningEmulator, a: Tenant) -> dict[str, str]:
    job = a.api.post("/v1/asset/upload", files={"file": ("a.png", png())}).json()["data"]["task_id"]
    emu.advance(30)
    asset = httpx.get(emu.vendor_url("powertokens") + "/v1/asset/jobs/get-asset-id", params={"task_id": job})
    ark = a.api.post(PT_TASKS, json={"model": PT_MODEL, "content": [{"type": "text", "text": "a kite"}]}).json()
    video = a.api.post("/v1/videos", json={"model": PT_MODEL, "media": [{"type": "text", "text": "a kite"}]}).json()
    return {"task": ark["id"], "video": video["id"], "asset": asset.json()["data"]["asset_id"]}


def genray(emu: RunningEmulator, a: Tenant) -> dict[str, str]:
    job = a.api.post("/api/v1/videos", json={"prompt": "a kite"}).json()
    emu.advance(600)  # completed: upscalable by its owner
    keys = a.api.get("/api/keys").json()["keys"]
    return {"task": job["id"], "generation": str(job["generation_id"]), "key": keys[0]["id"]}


VENDORS = [
    VendorCase("perseworks", {}, perseworks, (404, "not_found"), lambda b: b["error"]["code"],
           [Probe("poll", "GET", "/video/generations/{task}")], [], None),
    VendorCase("seegen", {}, seegen, (403, "ACCESS_DENIED"), lambda b: b["error"],
           [Probe("poll a task", "GET", "/jobs/queryTask?taskId={task}"),
            Probe("poll an upscale", "GET", "/upscale/query?taskId={upscale}"),
            Probe("read an asset", "GET", "/assets/status?assetId={asset}"),
            Probe("read an asset by number", "GET", "/assets/status?assetId={asset_number}")],
           [("/assets/list", lambda b: {i["volcAssetId"] for i in b["items"]}, "asset")],
           ("/account/credits", lambda b: b["credits"])),
    VendorCase("powertokens", {}, powertokens, (404, "ResourceNotFound"), lambda b: b["error"]["code"],
           [Probe("poll", "GET", PT_TASKS + "/{task}"),
            Probe("cancel", "DELETE", PT_TASKS + "/{task}"),
            Probe("poll through /v1/videos", "GET", "/v1/videos/{video}")],
           [(PT_TASKS, lambda b: {i["id"] for i in b["items"]}, "task"),
            (PT_TASKS + "?filter.task_ids={task}", lambda b: {i["id"] for i in b["items"]}, "task")],
           None),
    VendorCase("genray", {"plan": "advanced"}, genray, (404, "not_found"), lambda b: b["detail"]["error"],
           [Probe("poll", "GET", "/api/v1/videos/{task}"),
            Probe("upscale", "POST", "/api/v1/videos/{generation}/upscale"),
            Probe("revoke a key", "DELETE", "/api/keys/{key}")],
           [("/api/keys", lambda b: {k["id"] for k in b["keys"]}, "key")],
           ("/api/v1/account", lambda b: b["credits_remaining"])),
]


@pytest.fixture
def tenants(emu: RunningEmulator, request: pytest.FixtureRequest) -> Iterator[tuple[Tenant, Tenant]]:
    vendor: VendorCase = request.param
    made = []
    clients: list[httpx.Client] = []
    for credits in (50_000, 7_000):
        account = emu.create_account(vendor.name, credits=credits, rate_limit_rpm=0, **vendor.account)
        with emu.control() as c:
            spare = c.post(f"/accounts/{account['account_id']}/keys", json={"rate_limit_rpm": 0}).json()
        pair = [httpx.Client(base_url=emu.vendor_url(vendor.name), headers={"Authorization": f"Bearer {key}"},
                             event_hooks={"response": [SpecCheck.for_vendors(vendor.name)]})
                for key in (account["api_key"], spare["api_key"])]
        clients += pair
        made.append(Tenant(account, *pair))
    try:
        yield made[0], made[1]
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize(("vendor", "tenants"), [(v, v) for v in VENDORS], ids=[v.name for v in VENDORS],
                         indirect=["tenants"])
def test_a_tenant_never_reaches_another_tenants_work(emu: RunningEmulator, vendor: VendorCase,
                                                     tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    ids = vendor.make(emu, a)
    views = [p.path.format(**ids) for p in vendor.probes if p.method == "GET"]
    views += [path.format(**ids) for path, _, _ in vendor.listings]
    before = {path: a.spare.get(path).json() for path in views}
    for probe in vendor.probes:
        path = probe.path.format(**ids)
        answer = b.api.request(probe.method, path)
        assert (answer.status_code, vendor.code(answer.json())) == vendor.refused, (probe.what, answer.text)
        # B's second key is no different; A's own second key does reach it (reads only: nothing changes).
        answer = b.spare.request(probe.method, path)
        assert answer.status_code == vendor.refused[0], probe.what
        if probe.method == "GET":
            assert a.spare.get(path).status_code == 200, probe.what
    # Nothing B tried (a cancel, an upscale, a key revocation) changed anything A sees.
    assert {path: a.spare.get(path).json() for path in views} == before
    for path, items, name in vendor.listings:
        path = path.format(**ids)
        assert ids[name] in items(a.spare.get(path).json())
        assert ids[name] not in items(b.api.get(path).json())
    if vendor.balance is not None:
        path, figure = vendor.balance
        assert figure(b.api.get(path).json()) == 7_000  # B's own, untouched by A's spending


def test_seegen_assets_of_another_account_cannot_be_referenced(emu: RunningEmulator) -> None:
    """seegen.md: reference an uploaded asset "with the asset:// protocol" — one's own library only."""
    a, b = (emu.create_account("seegen", credits=5_000) for _ in range(2))
    check = SpecCheck.for_vendors("seegen")
    with httpx.Client(base_url=emu.vendor_url("seegen"), headers={"Authorization": f"Bearer {a['api_key']}"},
                      event_hooks={"response": [check]}) as api_a, \
            httpx.Client(base_url=emu.vendor_url("seegen"), headers={"Authorization": f"Bearer {b['api_key']}"},
                         event_hooks={"response": [check]}) as api_b:
        asset = api_a.post("/assets/upload", json={"url": "https://cdn.example.com/face.jpg", "type": "IMAGE"}).json()
        emu.advance(60)
        body = {"model": "sd2", "inputs": {"prompt": "the woman turns", "urls": [f"asset://{asset['volcAssetId']}"]}}
        refused = api_b.post("/jobs/createTask", json=body)
        assert refused.status_code == 400 and refused.json()["param"] == "inputs.urls[0]", refused.text
        assert api_a.post("/jobs/createTask", json=body).status_code == 200


def test_powertokens_assets_of_another_account_cannot_be_referenced(emu: RunningEmulator) -> None:
    """Assets are "uploaded through the Asset Library" of one's own account (fidelity note PTC17)."""
    a, b = (emu.create_account("powertokens", credits=5_000) for _ in range(2))
    check = SpecCheck.for_vendors("powertokens")
    with httpx.Client(base_url=emu.vendor_url("powertokens"), headers={"Authorization": a["api_key"]},
                      event_hooks={"response": [check]}) as api_a, \
            httpx.Client(base_url=emu.vendor_url("powertokens"), headers={"Authorization": b["api_key"]},
                         event_hooks={"response": [check]}) as api_b:
        job = api_a.post("/v1/asset/upload", files={"file": ("a.png", png())}).json()["data"]["task_id"]
        emu.advance(30)
        asset = httpx.get(emu.vendor_url("powertokens") + "/v1/asset/jobs/get-asset-id", params={"task_id": job})
        url = "asset://" + asset.json()["data"]["asset_id"]
        body = {"model": PT_MODEL, "content": [{"type": "text", "text": "a kite"},
                                               {"type": "image_url", "image_url": {"url": url}}]}
        refused = api_b.post(PT_TASKS, json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["param"] == "content[1].image_url.url"
        assert api_a.post(PT_TASKS, json=body).status_code == 200
