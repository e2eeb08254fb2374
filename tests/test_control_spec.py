"""openapi/control.yaml describes the control API (`/_emulator`) exactly: one operation per route
and a route per operation, a valid OpenAPI 3.1 document, served by the API itself, and every
answer of every operation (each documented status, the errors too) matches the document."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
import yaml
from jsonschema import Draft202012Validator
from PIL import Image
from starlette.routing import Mount
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.control.api import PREFIX
from emulator.core import spec as spec_module
from emulator.core.runtime import Settings
from emulator.testing import WebhookReceiver
from emulator.vendors import NAMES

pytestmark = pytest.mark.emulator_only

SPEC = spec_module.load("control")


def control_routes(app: Any) -> Counter[tuple[str, str]]:
    """(method, path) of every route the control API's mount serves; HEAD is Starlette's own
    companion of every GET, not a route of the API."""
    mount = next(r for r in app.router.routes if isinstance(r, Mount) and r.path == PREFIX)
    return Counter((method, route.path) for route in mount.routes for method in route.methods if method != "HEAD")


def test_every_route_has_exactly_one_operation_and_every_operation_a_route() -> None:
    routes = control_routes(create_app(Settings(vendors=NAMES, clock="manual")))
    operations = Counter((op.method, op.path) for op in SPEC.operations.values())
    assert [pair for pair, n in routes.items() if n > 1] == []
    assert sorted(set(routes) - set(operations)) == [], "routes the document does not describe"
    assert sorted(set(operations) - set(routes)) == [], "operations no route serves"


def test_the_document_is_valid_openapi_3_1() -> None:
    try:
        from openapi_spec_validator import OpenAPIV31SpecValidator
    except ImportError as exc:  # imported here, so that the other tests of this file still run without it
        pytest.fail(f"the 'openapi-spec-validator' package is not installed ({exc}): pip install -e '.[test]'")
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in OpenAPIV31SpecValidator(SPEC.doc).iter_errors()]
    assert errors == []
    assert SPEC.doc["openapi"].startswith("3.1.") and SPEC.base_path == PREFIX
    ids = [op["operationId"] for item in SPEC.doc["paths"].values() for method, op in item.items()
           if method in spec_module.HTTP_METHODS]
    assert len(ids) == len(set(ids))
    for schema in SPEC.doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises, naming the keyword, on a schema 2020-12 refuses


@dataclass
class ControlCheck:
    """An httpx response hook: every answer under `/_emulator` must be an operation of the document,
    with a documented status and media type, and a body its schema accepts. Of the requests a test
    sends, one the server took (2xx) must be one the document's request schemas accept, and one it
    refused with 400 one they refuse too: the document is no stricter and no looser than the server
    on any of them."""

    seen: set[tuple[str, int]] = field(default_factory=set)

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        path = urlsplit(str(request.url)).path
        if not path.startswith(PREFIX + "/"):
            return  # a vendor call that sets the scene
        op = SPEC.match(request.method, path[len(PREFIX):])
        assert op is not None, f"{request.method} {path} is not in openapi/control.yaml"
        response.read()
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        body: Any = orjson.loads(response.content) if media_type == "application/json" else response.text
        try:
            SPEC.validate_response(op, response.status_code, media_type, body)
        except spec_module.SchemaError as err:
            raise AssertionError(f"{op.id} {response.status_code}: {err.param or ''} {err.message}\n"
                                 f"body: {response.text[:2000]}") from None
        if response.status_code != 403:  # refused before the request is read at all
            self._check_request(op, request, response.status_code)
        self.seen.add((op.id, response.status_code))

    @staticmethod
    def _check_request(op: spec_module.Operation, request: httpx.Request, status: int) -> None:
        problems = []
        query = httpx.QueryParams(request.url.query)
        for param in op.parameters:
            if param.location == "query" and param.name in query:
                value = spec_module.coerce(query[param.name], param.schema)
                problems += [e.message for e in param.validator.iter_errors(value)]
        if request.content and op.body_validator is not None:
            try:
                sent = orjson.loads(request.content)
            except orjson.JSONDecodeError:
                return  # not JSON at all: no schema has a say
            problems += [e.message for e in op.body_validator.iter_errors(sent)]
        if 200 <= status < 300:
            assert problems == [], f"{op.id} took a request its document refuses: {problems}"
        elif status == 400:
            assert problems, f"{op.id} refused with 400 a request its document accepts: {request.content!r}"

    def documented(self) -> set[tuple[str, int]]:
        return {(op.id, int(status)) for op in SPEC.operations.values() for status in op.responses}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver.running() as rec:
        yield rec


@pytest.fixture
def check() -> ControlCheck:
    return ControlCheck()


@pytest.fixture
def app() -> Any:
    # Plain-HTTP callbacks to loopback, so the receiver above can take Genray's signed webhooks.
    return create_app(Settings(vendors=NAMES, clock="manual", seed=5, allow_http_callbacks=True))


@pytest.fixture
def control(app: Any, check: ControlCheck) -> Iterator[TestClient]:
    """A loopback client of a private emulator (its own state: the tour resets it), every answer checked."""
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        client.event_hooks = {"request": [], "response": [check]}
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def tour_accounts_and_keys(control: TestClient, hook_url: str) -> dict[str, dict[str, Any]]:
    accounts = {
        "genray": control.post(f"{PREFIX}/accounts", json={"vendor": "genray", "plan": "standard", "rate_limit_rpm": 0,
                                                           "webhook_url": hook_url}),
        "perseworks": control.post(f"{PREFIX}/accounts", json={"vendor": "perseworks", "credits": 1_000,
                                                               "allowed_models": ["seedance-2.0"], "name": "ci"}),
        "seegen": control.post(f"{PREFIX}/accounts", json={"vendor": "seegen", "credits": 2_000,
                                                           "allowed_ips": ["127.0.0.0/8"]}),
        "powertokens": control.post(f"{PREFIX}/accounts", json={"vendor": "powertokens",
                                                                "api_key": "pt-pinned-for-the-spec-test"}),
    }
    assert {v: r.status_code for v, r in accounts.items()} == dict.fromkeys(accounts, 201)
    created = {v: r.json() for v, r in accounts.items()}
    assert created["genray"]["webhook_secret"].startswith("whsec_")
    assert created["powertokens"]["api_key"] == "pt-pinned-for-the-spec-test"

    for bad in ({"vendor": "nobody"}, {"vendor": "perseworks", "credits": -1},
                {"vendor": "perseworks", "allowed_models": "seedance-2.0"}, {"credits": 5}):
        assert control.post(f"{PREFIX}/accounts", json=bad).status_code == 400, bad
    assert control.post(f"{PREFIX}/accounts", content=b"{not json").status_code == 400
    assert control.post(f"{PREFIX}/accounts", json=["perseworks"]).status_code == 400

    assert [a["account_id"] for a in control.get(f"{PREFIX}/accounts").json()] == [
        created[v]["account_id"] for v in accounts]
    assert control.get(f"{PREFIX}/accounts", params={"vendor": "seegen"}).json()[0]["keys"][0]["allowed_ips"] == [
        "127.0.0.0/8"]
    assert control.get(f"{PREFIX}/accounts/acct_missing").status_code == 404

    genray = created["genray"]["account_id"]
    second = control.post(f"{PREFIX}/accounts/{genray}/keys", json={"name": "second", "rate_limit_rpm": 0})
    assert second.status_code == 201 and second.json()["api_key"].startswith("sk_live_")
    assert control.post(f"{PREFIX}/accounts/{genray}/keys").status_code == 409  # Standard: 2 keys
    assert control.post(f"{PREFIX}/accounts/{genray}/keys", json={"allowed_models": "x"}).status_code == 400
    assert control.post(f"{PREFIX}/accounts/acct_missing/keys", json={}).status_code == 404
    revoked = control.delete(f"{PREFIX}/accounts/{genray}/keys/{second.json()['key_id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert control.delete(f"{PREFIX}/accounts/{genray}/keys/key_missing").status_code == 404

    perseworks = created["perseworks"]["account_id"]
    assert control.post(f"{PREFIX}/accounts/{perseworks}/topups", json={"usd": 50}).json()["added"] == 5_250
    assert control.post(f"{PREFIX}/accounts/{perseworks}/topups", json={"credits": 12.5}).status_code == 201
    assert control.post(f"{PREFIX}/accounts/{perseworks}/topups", json={"usd": 5, "credits": 5}).status_code == 400
    assert control.post(f"{PREFIX}/accounts/acct_missing/topups", json={"credits": 5}).status_code == 404
    detail = control.get(f"{PREFIX}/accounts/{perseworks}").json()
    assert detail["credits"] == 6_262.5 and [e["kind"] for e in detail["ledger"]] == ["topup"] * 4
    return created


def tour_tasks_webhooks_and_assets(control: TestClient, accounts: dict[str, dict[str, Any]],
                                   receiver: WebhookReceiver) -> None:
    receiver.answer("/hook", 500)  # Genray's first delivery fails, its retry succeeds
    video = control.post("/genray/api/v1/videos", json={"prompt": "a kite over the sea"},
                         headers=bearer(accounts["genray"]["api_key"]))
    assert video.status_code == 202, video.text
    failing = control.post("/perseworks/v1/video/generations", headers=bearer(accounts["perseworks"]["api_key"]),
                           json={"model": "seedance-2.0", "prompt": "a storm #emulator:fail", "resolution": "720p",
                                 "durationSec": 5})
    assert failing.status_code == 202, failing.text
    asset = control.post("/seegen/api/v1/assets/upload", headers=bearer(accounts["seegen"]["api_key"]),
                         json={"url": "https://example.com/a.jpg", "type": "IMAGE", "name": "kite"})
    assert asset.status_code == 200, asset.text
    job = control.post("/powertokens/v1/asset/upload", headers=bearer(accounts["powertokens"]["api_key"]),
                       files={"file": ("pt.png", png(), "image/png")})
    assert job.status_code == 200, job.text
    upload = control.post("/genray/api/v1/upload", headers=bearer(accounts["genray"]["api_key"]),
                          files={"file": ("me.png", png(), "image/png")})
    assert upload.status_code == 200, upload.text

    running = control.get(f"{PREFIX}/tasks").json()
    assert {t["vendor"] for t in running} == set(NAMES) and any(t["state"] == "queued" for t in running)
    state = control.get(f"{PREFIX}/ui/state").json()  # mid-run: pending steps, no ledger selected
    assert state["ledger"] is None and state["tasks"]["total"] == len(running)

    assert control.post(f"{PREFIX}/clock/advance", json={}).status_code == 400
    assert control.post(f"{PREFIX}/clock/advance", json={"seconds": -1}).status_code == 400
    before = control.get(f"{PREFIX}/clock").json()["now"]
    assert control.post(f"{PREFIX}/clock/advance", json={"seconds": 60}).json()["now"] == before + 60
    delivery = control.get(f"{PREFIX}/webhooks").json()[0]
    assert (delivery["state"], [a["status"] for a in delivery["attempts"]]) == ("pending", [500])
    retrying = control.get(f"{PREFIX}/ui/state", params={"account": accounts["genray"]["account_id"]}).json()
    assert retrying["webhooks"]["items"][0]["next_attempt_at"] is not None
    assert retrying["webhooks"]["items"][0]["signature"]["header"] == "X-Genray-Signature"
    assert retrying["ledger"]["account_id"] == accounts["genray"]["account_id"]
    control.post(f"{PREFIX}/clock/advance", json={"seconds": 600})

    assert control.get(f"{PREFIX}/webhooks").json()[0]["state"] == "delivered"
    tasks = control.get(f"{PREFIX}/tasks", params={"vendor": "perseworks"}).json()
    assert [(t["state"], t["outcome"]["error_code"] is not None) for t in tasks] == [("failed", True)]
    mine = control.get(f"{PREFIX}/tasks", params={"account_id": accounts["genray"]["account_id"]}).json()
    assert [t["state"] for t in mine] == ["succeeded"]
    assets = control.get(f"{PREFIX}/assets").json()
    assert sorted(a["vendor"] for a in assets) == ["genray", "powertokens", "seegen"]
    only = control.get(f"{PREFIX}/assets", params={"vendor": "seegen", "account_id": accounts["seegen"]["account_id"]})
    assert [a["vendor"] for a in only.json()] == ["seegen"]
    control.get(f"{PREFIX}/ui/state", params={"account": accounts["perseworks"]["account_id"]})


def tour_faults_and_journal(control: TestClient, accounts: dict[str, dict[str, Any]]) -> None:
    rule = control.post(f"{PREFIX}/faults", json={"vendor": "perseworks", "operation": "listModels",
                                                  "status": 503, "times": 1})
    assert rule.status_code == 201
    spread = control.post(f"{PREFIX}/faults", json={"latency_distribution": {"type": "uniform", "lower": 0, "upper": 1},
                                                    "probability": 0.5, "key_id": "key_nobody"})
    assert spread.status_code == 201
    for bad in ({"vendor": "perseworks", "bogus": 1}, {"status": 200}, {"probability": 2, "latency_ms": 5},
                {"latency_distribution": {"type": "normal"}}):
        assert control.post(f"{PREFIX}/faults", json=bad).status_code == 400, bad
    answer = control.get("/perseworks/v1/models", headers=bearer(accounts["perseworks"]["api_key"]))
    assert answer.status_code == 503
    assert [f["id"] for f in control.get(f"{PREFIX}/faults").json()] == [spread.json()["id"]]  # the first fired out
    journal = control.get(f"{PREFIX}/requests", params={"limit": 5, "vendor": "perseworks"}).json()
    assert journal[-1]["faults"] == [rule.json()["id"]] and journal[-1]["status"] == 503
    assert control.get(f"{PREFIX}/requests").status_code == 200
    for limit in ("0", "many"):
        assert control.get(f"{PREFIX}/requests", params={"limit": limit}).status_code == 400
    assert f'seedance_faults_fired_total{{fault="{rule.json()["id"]}"}} 1' in control.get(f"{PREFIX}/metrics").text
    assert control.delete(f"{PREFIX}/faults/{spread.json()['id']}").json()["probability"] == 0.5
    assert control.delete(f"{PREFIX}/faults/{spread.json()['id']}").status_code == 404
    control.post(f"{PREFIX}/faults", json={"rate_limit_burst": 2})
    assert control.delete(f"{PREFIX}/faults").json() == {"removed": 1}


def tour_pages_and_documents(control: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert control.get(f"{PREFIX}/health").json()["vendors"] == list(NAMES)
    assert "fail" in control.get(f"{PREFIX}/scenarios").json()
    for page in ("ui", "ui/inspector.js", "ui/inspector.css"):
        assert control.get(f"{PREFIX}/{page}").status_code == 200
    served = control.get(f"{PREFIX}/openapi.yaml")
    assert served.content == (spec_module.SPEC_DIR / "control.yaml").read_bytes()
    assert yaml.safe_load(served.content) == control.get(f"{PREFIX}/openapi.json").json() == SPEC.doc
    monkeypatch.setattr(spec_module, "SPEC_DIR", tmp_path)  # SEEDANCE_SPEC_DIR naming a folder without it
    for name in ("openapi.yaml", "openapi.json"):
        missing = control.get(f"{PREFIX}/{name}")
        assert missing.status_code == 404 and "control.yaml" in missing.json()["error"]
    monkeypatch.undo()
    reset = control.post(f"{PREFIX}/reset").json()
    assert reset["status"] == "reset" and control.get(f"{PREFIX}/accounts").json() == []


def tour_refusals(app: Any, check: ControlCheck) -> None:
    remote = TestClient(app, client=("203.0.113.9", 4000))
    remote.event_hooks = {"request": [], "response": [check]}
    for op in SPEC.operations.values():
        path = re.sub(r"\{[^}]+\}", "x", op.path)
        response = remote.request(op.method, PREFIX + path, json={})
        assert response.status_code == 403 and "loopback" in response.json()["error"], op.id


def test_every_operation_and_every_documented_answer_matches_the_document(
        app: Any, control: TestClient, check: ControlCheck, receiver: WebhookReceiver,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    accounts = tour_accounts_and_keys(control, receiver.url("/hook"))
    tour_tasks_webhooks_and_assets(control, accounts, receiver)
    tour_faults_and_journal(control, accounts)
    tour_pages_and_documents(control, monkeypatch, tmp_path)
    tour_refusals(app, check)
    assert sorted(check.documented() - check.seen) == []  # each documented answer was produced and checked
    assert sorted(check.seen - check.documented()) == []
