"""The drift checker on hand-built exchanges, against the real openapi/<vendor>.yaml of every vendor:
what each kind of drift is called, where it points, redaction, and recording round trips."""

from __future__ import annotations

import copy
import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from emulator.drift.check import UNDOCUMENTED, VIOLATION, Checker, Finding
from emulator.drift.exchange import REDACTED, Exchange, RunInfo, load_exchanges, load_run, save
from emulator.drift.report import Report, SuiteOutcome

GENRAY_ACCOUNT = {"plan": "advanced", "plan_name": "Advanced", "plan_expires_at": "2026-12-21T10:00:00",
                  "credits_remaining": 9900, "credits_per_month": 9900, "api_rpm": 30, "api_concurrent": 5,
                  "max_api_keys": 5}
GENRAY_COMPLETED = {"id": "8f7d9a4e-7a7f-4a57-9b1e-1b2c3d4e5f60", "generation_id": 7, "status": "completed",
                    "model": "seedance-2.0-pro", "duration": 5, "aspect_ratio": "16:9",
                    "created_at": "2026-11-21T10:00:00", "credits_spent": 130,
                    "video_url": "https://cdn.genray.ai/v/7.mp4", "width": 1280, "height": 720,
                    "duration_ms": 5000, "cover_url": "https://cdn.genray.ai/v/7.jpg"}
GENRAY_KEY = {"id": "key_1", "name": "ci", "key_prefix": "sk_live_ab12", "webhook_url": None,
              "created_at": "2026-11-21T10:00:00", "revoked_at": None, "key": "sk_live_ab12cd34ef56",
              "webhook_secret": "whsec_0123456789"}
PERSEWORKS_MODELS = {"object": "list", "data": [
    {"id": "seedance-2.0", "object": "model", "created": 1760000000, "owned_by": "bytedance", "type": "video",
     "resolutions": ["720p", "1080p"],
     "pricing": {"unit": "output_second", "currency": "USD", "credits_per_second": {"720p": 15},
                 "usd_per_second": {"720p": 0.15}}}]}

# One documented answer per vendor: (vendor, base path on an emulator, method, path, status, body).
VALID = {
    "perseworks": ("/perseworks/v1", "GET", "/models", 200, PERSEWORKS_MODELS),
    "seegen": ("/seegen/api/v1", "GET", "/account/credits", 200, {"credits": 120.5, "availableCredits": 100}),
    "powertokens": ("/powertokens", "GET", "/v1/videos/cgt-123", 404, {"error": {
        "code": "ResourceNotFound", "message": "The specified task is not found.", "param": "", "type": "NotFound"}}),
    "genray": ("/genray", "GET", "/api/v1/account", 200, GENRAY_ACCOUNT),
}


def exchange(vendor: str, method: str, path: str, status: int, body: Any, *, base_path: str | None = None,
             headers: dict[str, str] | None = None, content_type: str = "application/json",
             request_body: bytes = b"", request_headers: dict[str, str] | None = None) -> Exchange:
    base = VALID[vendor][0] if base_path is None else base_path
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response_headers = {"content-type": content_type, **(headers or {})}
    return Exchange.capture(vendor=vendor, method=method, url_path=base + path, base_path=base, query="",
                            request_headers=list((request_headers or {}).items()), request_body=request_body,
                            status=status, response_headers=list(response_headers.items()), response_body=raw,
                            started_at="2026-11-21T10:00:00+00:00", duration_ms=1.0)


def check(ex: Exchange) -> list[Finding]:
    return Checker().check(ex)


def brief(findings: list[Finding]) -> set[tuple[str | None, str, str, str]]:
    return {(f.operation, f.classification, f.rule, f.pointer) for f in findings}


@pytest.mark.parametrize("vendor", sorted(VALID))
def test_a_documented_answer_of_each_vendor_yields_nothing(vendor: str) -> None:
    _, method, path, status, body = VALID[vendor]
    ex = exchange(vendor, method, path, status, body)
    assert check(ex) == []
    assert ex.operation is not None


def test_genray_completed_video_with_oneof_branches_yields_nothing() -> None:
    assert check(exchange("genray", "GET", "/api/v1/videos/abc", 200, GENRAY_COMPLETED)) == []


def test_genray_documented_base_url_and_spec_server_url_are_both_accepted() -> None:
    from emulator.drift.command import normalize_base_url

    assert normalize_base_url("genray", "https://genray.ai/api/v1/") == "https://genray.ai"
    assert normalize_base_url("genray", "https://genray.ai") == "https://genray.ai"
    assert normalize_base_url("perseworks", "https://api.perseworks.hk/v1") == "https://api.perseworks.hk/v1"


def test_missing_required_field_is_a_violation_pointing_at_the_field() -> None:
    body = dict(GENRAY_COMPLETED)
    del body["video_url"]
    found = check(exchange("genray", "GET", "/api/v1/videos/abc", 200, body))
    assert brief(found) == {("getVideo", VIOLATION, "missing-required", "/video_url")}
    assert found[0].path == "/api/v1/videos/{job_id}" and found[0].status == 200


def test_missing_required_field_in_an_array_item() -> None:
    body = copy.deepcopy(PERSEWORKS_MODELS)
    del body["data"][0]["owned_by"]
    found = check(exchange("perseworks", "GET", "/models", 200, body))
    assert brief(found) == {("listModels", VIOLATION, "missing-required", "/data/0/owned_by")}


@pytest.mark.parametrize(("field", "value", "rule"), [
    ("credits_remaining", "9900", "schema-type"),
    ("plan", "enterprise", "schema-enum"),
    ("api_rpm", 0, "schema-minimum"),
    ("plan_expires_at", "21/12/2026", "schema-pattern"),
])
def test_wrong_values_are_violations_named_by_keyword(field: str, value: Any, rule: str) -> None:
    found = check(exchange("genray", "GET", "/api/v1/account", 200, {**GENRAY_ACCOUNT, field: value}))
    assert brief(found) == {("getAccount", VIOLATION, rule, f"/{field}")}


def test_format_and_const_violations() -> None:
    found = check(exchange("genray", "GET", "/api/v1/videos/abc", 200, {**GENRAY_COMPLETED, "video_url": "not a url"}))
    assert brief(found) == {("getVideo", VIOLATION, "schema-format", "/video_url")}
    found = check(exchange("perseworks", "GET", "/models", 200, {**PERSEWORKS_MODELS, "object": "catalog"}))
    assert brief(found) == {("listModels", VIOLATION, "schema-const", "/object")}


def test_unknown_field_is_undocumented_also_where_the_schema_forbids_extras() -> None:
    found = check(exchange("genray", "GET", "/api/v1/account", 200, {**GENRAY_ACCOUNT, "region": "eu"}))
    assert brief(found) == {("getAccount", UNDOCUMENTED, "unknown-field", "/region")}
    # Deep in allOf + oneOf: a field of no branch.
    found = check(exchange("genray", "GET", "/api/v1/videos/abc", 200, {**GENRAY_COMPLETED, "fps": 24}))
    assert brief(found) == {("getVideo", UNDOCUMENTED, "unknown-field", "/fps")}
    # A field of an array item, and one under a map whose values are declared (not unknown).
    body = copy.deepcopy(PERSEWORKS_MODELS)
    body["data"][0]["tier"] = "pro"
    body["data"][0]["pricing"]["credits_per_second"]["4k"] = 40
    found = check(exchange("perseworks", "GET", "/models", 200, body))
    assert brief(found) == {("listModels", UNDOCUMENTED, "unknown-field", "/data/0/tier")}


def test_renamed_field_is_a_missing_field_and_an_unknown_one() -> None:
    body = dict(GENRAY_ACCOUNT)
    body["credits"] = body.pop("credits_remaining")
    found = check(exchange("genray", "GET", "/api/v1/account", 200, body))
    assert brief(found) == {("getAccount", VIOLATION, "missing-required", "/credits_remaining"),
                            ("getAccount", UNDOCUMENTED, "unknown-field", "/credits")}


def test_undocumented_status_is_a_violation() -> None:
    found = check(exchange("genray", "GET", "/api/v1/account", 201, GENRAY_ACCOUNT))
    assert brief(found) == {("getAccount", VIOLATION, "undocumented-status", "")}


def test_undocumented_content_type_is_a_violation() -> None:
    found = check(exchange("seegen", "GET", "/account/credits", 200, b"<html>ok</html>", content_type="text/html"))
    assert brief(found) == {("getCredits", VIOLATION, "undocumented-content-type", "")}


def test_error_bodies_are_checked_against_the_declared_error() -> None:
    _, method, path, status, _ = VALID["powertokens"]
    wrong = {"error": {"code": "NoSuchTask", "message": "x", "param": "", "type": "NotFound"}}
    found = check(exchange("powertokens", method, path, status, wrong))
    assert brief(found) == {("getVideo", VIOLATION, "schema-enum", "/error/code")}
    found = check(exchange("powertokens", method, path, status, {"message": "not found"}))
    assert brief(found) == {("getVideo", VIOLATION, "missing-required", "/error"),
                            ("getVideo", UNDOCUMENTED, "unknown-field", "/message")}


def test_required_response_header_missing_is_a_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.core import spec as spec_module

    spec = spec_module.load("genray")
    rate_limited = spec.doc["components"]["responses"]["RateLimited"]
    monkeypatch.setitem(rate_limited["headers"]["Retry-After"], "required", True)
    body = {"detail": {"error": "rate_limit_exceeded", "message": "slow down", "retry_after": 5}}
    found = check(exchange("genray", "GET", "/api/v1/account", 429, body))
    assert brief(found) == {("getAccount", VIOLATION, "missing-header", "/headers/retry-after")}
    assert check(exchange("genray", "GET", "/api/v1/account", 429, body, headers={"Retry-After": "5"})) == []


def test_event_stream_items_are_checked_against_the_item_schema() -> None:
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1760000000, "model": "seed-2.0-mini",
             "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]}
    good = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
    request = {"model": "seed-2.0-mini", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    ex = exchange("perseworks", "POST", "/chat/completions", 200, good, content_type="text/event-stream",
                  request_body=json.dumps(request).encode())
    assert check(ex) == []
    bad = {**chunk, "object": 5, "mood": "cheerful"}
    body = f"data: {json.dumps(chunk)}\n\ndata: {json.dumps(bad)}\n\ndata: [DONE]\n\n".encode()
    found = check(exchange("perseworks", "POST", "/chat/completions", 200, body, content_type="text/event-stream"))
    assert brief(found) >= {("createChatCompletion", VIOLATION, "schema-const", "/events/1/object"),
                            ("createChatCompletion", UNDOCUMENTED, "unknown-field", "/events/1/mood")}


def test_unknown_operation_is_undocumented_unless_it_is_a_404_or_405() -> None:
    found = check(exchange("genray", "GET", "/api/v1/teams", 200, {"teams": []}))
    assert brief(found) == {(None, UNDOCUMENTED, "unknown-operation", "")}
    assert found[0].path == "/api/v1/teams"
    not_found = {"detail": {"error": "not_found", "message": "no"}}
    assert check(exchange("genray", "GET", "/api/v1/teams", 404, not_found)) == []
    assert check(exchange("genray", "PUT", "/api/v1/account", 405, not_found)) == []


def test_exchanges_outside_the_vendor_base_path_are_not_checked() -> None:
    control = exchange("genray", "POST", "/_emulator/accounts", 201, {"anything": True}, base_path="/genray")
    control.url_path = "/_emulator/accounts"
    media = exchange("genray", "GET", "/media/x.mp4", 200, b"\x00\x00\x00\x18ftypmp42", content_type="video/mp4")
    media.url_path = "/media/x.mp4"
    result = Checker().check_all([control, media])
    assert result.findings == [] and result.checked == 0 and result.outside_spec == {"genray": 2}
    assert control.operation is None


def test_identical_findings_are_deduplicated_with_a_count() -> None:
    body = {**GENRAY_ACCOUNT, "region": "eu"}
    result = Checker().check_all([exchange("genray", "GET", "/api/v1/account", 200, body) for _ in range(3)])
    assert [(f.rule, f.count) for f in result.findings] == [("unknown-field", 3)]


def test_redaction_removes_keys_and_secrets_but_keeps_counts() -> None:
    body = {**GENRAY_KEY, "usage": {"total_tokens": 12, "tokens": 3}}
    request = json.dumps({"api_key": "sk-request", "name": "ci"}).encode()
    ex = exchange("genray", "POST", "/api/keys", 201, body, request_body=request,
                  headers={"Set-Cookie": "session=abc", "X-Genray-Signature": "sha256=abc"},
                  request_headers={"Authorization": "Bearer sk_live_secret", "X-Api-Key": "k",
                                   "content-type": "application/json"})
    saved = json.dumps(ex.to_dict())
    for secret in ("sk_live_secret", "sk_live_ab12cd34ef56", "whsec_0123456789", "sk-request", "session=abc",
                   "sha256=abc"):
        assert secret not in saved
    assert ex.request_headers["authorization"] == REDACTED and ex.request_headers["x-api-key"] == REDACTED
    assert ex.response_body["json"]["usage"] == {"total_tokens": 12, "tokens": 3}
    assert ex.response_body["json"]["key_prefix"] == "sk_live_ab12"
    assert ex.request_body["json"] == {"api_key": REDACTED, "name": "ci"}
    assert sorted(ex.redacted) == ["/key", "/webhook_secret"]
    # The documented patterns of `key` and `webhook_secret` are not judged on "<redacted>" (only
    # the extra `usage` field is news).
    assert brief(check(ex)) == {("createApiKey", UNDOCUMENTED, "unknown-field", "/usage")}


def test_uploads_are_kept_as_size_and_digest() -> None:
    upload = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\x89PNG\r\n--b--\r\n"
    ex = exchange("genray", "POST", "/api/v1/upload", 200,
                  {"url": "/v1/files/a.png", "full_url": "https://genray.ai/v1/files/a.png", "size_bytes": 4},
                  request_body=upload, request_headers={"content-type": "multipart/form-data; boundary=b"})
    assert set(ex.request_body) == {"digest"} and ex.request_body["digest"]["size"] == len(upload)
    assert check(ex) == []
    big = json.dumps({"file": "A" * 100_000}).encode()
    ex = exchange("genray", "POST", "/api/v1/upload", 413, {"detail": {"error": "file_too_large", "message": "x"}},
                  request_body=big, request_headers={"content-type": "application/json"})
    assert ex.request_body == {"digest": {"size": len(big), "sha256": hashlib.sha256(big).hexdigest()}}
    assert check(ex) == []


def _altered_run() -> list[Exchange]:
    body = dict(GENRAY_ACCOUNT)
    body["credits"] = body.pop("credits_remaining")
    return [exchange("genray", "GET", "/api/v1/account", 200, body),
            exchange("genray", "GET", "/api/v1/videos/abc", 200, {**GENRAY_COMPLETED, "width": "1280"}),
            exchange("genray", "POST", "/api/keys", 201, GENRAY_KEY),
            exchange("seegen", "GET", "/account/credits", 202, {"credits": 1, "availableCredits": 1})]


def test_save_load_check_round_trips(tmp_path: Path) -> None:
    exchanges = _altered_run()
    live = Checker().check_all(exchanges)
    run = RunInfo("0.1.0", "2026-11-21T10:00:00+00:00", "2026-11-21T10:01:00+00:00", True,
                  {"genray": "https://genray.ai"}, confirmed_operations=live.confirmed_operations())
    save(tmp_path, run, exchanges)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")) == [
        "exchanges/genray/000001.json", "exchanges/genray/000002.json", "exchanges/genray/000003.json",
        "exchanges/seegen/000001.json", "run.json"]
    stored = json.loads((tmp_path / "exchanges/genray/000001.json").read_text())
    assert (stored["vendor"], stored["operation"], stored["path"]) == ("genray", "getAccount", "/api/v1/account")
    loaded = list(load_exchanges(tmp_path))
    replayed = Checker().check_all(loaded)
    assert [f.to_dict() | {"exchange": None} for f in replayed.findings] == \
        [f.to_dict() | {"exchange": None} for f in live.findings]
    assert {f.exchange for f in replayed.findings} == {"exchanges/genray/000001.json", "exchanges/genray/000002.json",
                                                       "exchanges/seegen/000001.json"}
    assert load_run(tmp_path).to_dict() == run.to_dict()
    # createApiKey had only documented answers: confirmed; the others had violations.
    assert run.confirmed_operations == {"genray": ["createApiKey"], "seegen": []}


def test_replay_needs_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save(tmp_path, RunInfo("0.1.0", "a", "b", True, {"genray": "https://genray.ai"}), _altered_run())

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("replay opened a socket")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    from emulator.cli import main

    report_dir = tmp_path / "report"
    assert main(["contracts", "--replay", str(tmp_path), "--report", str(report_dir)]) == 1
    report = json.loads((report_dir / "drift-report.json").read_text())
    assert report["mode"] == "replay" and report["counts"] == {"violation": 3, "undocumented": 1}
    assert {(f["operation"], f["rule"]) for f in report["findings"]} == {
        ("getAccount", "missing-required"), ("getAccount", "unknown-field"), ("getVideo", "schema-type"),
        ("getCredits", "undocumented-status")}
    assert json.loads((report_dir / "run.json").read_text())["live"] is True


def test_report_exit_code_and_failed_contract_tests(tmp_path: Path) -> None:
    run = RunInfo("0.1.0", "a", "b", False, {"genray": "http://127.0.0.1:1/genray"})
    news = Checker().check_all([exchange("genray", "GET", "/api/v1/account", 200, {**GENRAY_ACCOUNT, "x": 1})])
    assert Report(run, news, SuiteOutcome(passed=3, exit_status=0), "run").exit_code == 0
    failed = SuiteOutcome(passed=2, failed=1, exit_status=1,
                          failures=[("contracts/genray/test_genray_access.py::test_account", "assert 1 == 2")])
    report = Report(run, news, failed, "run")
    assert report.exit_code == 1
    data = report.to_dict()
    assert data["counts"] == {"violation": 1, "undocumented": 1}
    assert data["findings"][0]["rule"] == "contract-test-failed"
    assert data["findings"][0]["test"] == "contracts/genray/test_genray_access.py::test_account"
    assert data["findings"][0]["vendor"] == "genray"
    _, md_path = report.write(tmp_path)
    markdown = md_path.read_text()
    assert markdown.index("contract-test-failed") < markdown.index("unknown-field")
    assert markdown.splitlines()[2].startswith("**DRIFT: 1 violation")
