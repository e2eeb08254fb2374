"""Fault rules through the control API, observed from the reference client over real HTTP; the
request journal, the Prometheus counters and structured request logs."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from client import APIConnectionError, Perseworks, RateLimitError, UpstreamError
from emulator.core.faults import Faults
from emulator.core.journal import Entry, Journal
from emulator.testing import RunningEmulator, SpecCheck

BODY = {"model": "seedance-2.0-fast", "prompt": "a fox", "resolution": "720p", "duration_sec": 4}


@pytest.fixture(autouse=True)
def no_faults_left(control: httpx.Client) -> Iterator[None]:
    control.delete("/faults")
    yield
    control.delete("/faults")


@pytest.fixture
def client(emu: RunningEmulator, account: dict[str, Any], spec_check: SpecCheck) -> Iterator[Perseworks]:
    http = httpx.Client(timeout=10, event_hooks={"response": [spec_check]})
    with Perseworks(api_key=account["api_key"], base_url=emu.vendor_url("perseworks"), max_retries=0,
                    http_client=http) as c:
        yield c
    http.close()


def add(control: httpx.Client, **rule: Any) -> dict[str, Any]:
    response = control.post("/faults", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def journal(control: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = control.get("/requests", params=params)
    assert response.status_code == 200
    return response.json()


def test_an_error_answer_has_the_vendors_body_and_changes_nothing(
        client: Perseworks, control: httpx.Client, account: dict[str, Any]) -> None:
    rule = add(control, vendor="perseworks", operation="createVideoGeneration", status=502,
               error="upstream_error", message="injected upstream failure")
    before = control.get(f"/accounts/{account['account_id']}").json()
    with pytest.raises(UpstreamError) as raised:
        client.videos.create(**BODY)
    assert raised.value.status_code == 502
    assert raised.value.body["error"]["code"] == "upstream_error"
    assert raised.value.body["error"]["message"] == "injected upstream failure"
    after = control.get(f"/accounts/{account['account_id']}").json()
    assert after["ledger"] == before["ledger"]  # nothing priced, held or stored
    assert client.models.list().data  # another operation is untouched
    entry = journal(control, limit=2)[0]
    assert (entry["operation"], entry["status"], entry["faults"]) == ("createVideoGeneration", 502, [rule["id"]])


def test_a_rate_limit_burst_answers_429_then_goes_away(client: Perseworks, control: httpx.Client) -> None:
    add(control, vendor="perseworks", rate_limit_burst=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(RateLimitError) as raised:
            client.models.list()
        assert raised.value.response.headers["Retry-After"] == "7"
    assert client.models.list().data
    assert control.get("/faults").json() == []  # a spent burst removes itself


def test_latency_delays_the_answer(client: Perseworks, control: httpx.Client) -> None:
    rule = add(control, operation="listModels", latency_ms=300)
    started = time.perf_counter()
    assert client.models.list().data
    assert time.perf_counter() - started >= 0.3
    entry = journal(control, limit=1)[0]
    assert entry["faults"] == [rule["id"]] and entry["duration_ms"] >= 300


def test_a_dropped_connection_reaches_the_client_as_a_connection_error(
        client: Perseworks, control: httpx.Client) -> None:
    add(control, operation="listModels", drop_connection=True, times=1)
    with pytest.raises(APIConnectionError):
        client.models.list()
    assert client.models.list().data  # `times: 1`: the next request is answered
    dropped = [e for e in journal(control) if e["dropped"]]
    assert len(dropped) == 1 and dropped[0]["operation"] == "listModels"


def test_rules_match_by_key(emu: RunningEmulator, client: Perseworks, control: httpx.Client,
                            account: dict[str, Any]) -> None:
    other = emu.create_account("perseworks", credits=100)
    add(control, key_id=other["key_id"], status=429)
    assert client.models.list().data
    with Perseworks(api_key=other["api_key"], base_url=emu.vendor_url("perseworks"), max_retries=0) as c2, \
            pytest.raises(RateLimitError):
        c2.models.list()


def test_probability_zero_matches_but_never_fires(client: Perseworks, control: httpx.Client) -> None:
    rule = add(control, operation="listModels", status=429, probability=0)
    for _ in range(3):
        assert client.models.list().data
    listed = control.get("/faults").json()
    assert [(r["id"], r["matched"], r["fired"]) for r in listed] == [(rule["id"], 3, 0)]


def test_a_seeded_probability_fires_some_of_the_time() -> None:
    def fired(seed: int) -> list[bool]:
        faults = Faults(seed)
        faults.add({"status": 500, "probability": 0.5}, 0, vendors={})
        return [faults.effect("v", "op", None) is not None for _ in range(200)]

    draws = fired(3)
    assert 60 < sum(draws) < 140
    assert draws == fired(3)  # the same seed, the same faults


@pytest.mark.parametrize("rule", [
    {},
    {"status": 200},
    {"status": 429, "drop_connection": True},
    {"vendor": "nope", "status": 500},
    {"operation": "noSuchOperation", "status": 500},
    {"latency_ms": -1},
    {"latency_distribution": {"type": "uniform", "lower": 5, "upper": 1}},
    {"latency_distribution": {"type": "pareto"}},
    {"probability": 2, "status": 500},
    {"status": 500, "colour": "red"},
    {"rate_limit_burst": 0},
    {"drop_connection": "yes"},
])
def test_malformed_rules_are_refused(control: httpx.Client, rule: dict[str, Any]) -> None:
    response = control.post("/faults", json=rule)
    assert response.status_code == 400, response.text
    assert control.get("/faults").json() == []


def test_rules_are_listed_removed_and_reset(control: httpx.Client) -> None:
    first = add(control, status=500)
    second = add(control, latency_distribution={"type": "lognormal", "median": 5, "sigma": 0.1})
    assert [r["id"] for r in control.get("/faults").json()] == [first["id"], second["id"]]
    assert control.delete(f"/faults/{first['id']}").json()["id"] == first["id"]
    assert control.delete(f"/faults/{first['id']}").status_code == 404
    assert control.post("/reset").status_code == 200
    assert control.get("/faults").json() == []


def test_metrics_count_requests_by_operation_and_status(client: Perseworks, control: httpx.Client) -> None:
    def count(text: str, line_start: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start))

    name = 'seedance_requests_total{vendor="perseworks",operation="listModels",status="200"}'
    before = count(control.get("/metrics").text, name)
    client.models.list()
    client.models.list()
    response = control.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert count(response.text, name) == before + 2
    assert "# TYPE seedance_requests_total counter" in response.text


def test_the_journal_is_bounded_and_newest_last() -> None:
    journal_ = Journal(size=3)
    for n in range(5):
        journal_.record(Entry(n, 0, "GET", f"/p{n}", 200, 1.0, "v", "op", None, (), False))
    assert [e["path"] for e in journal_.recent()] == ["/p2", "/p3", "/p4"]
    assert [e["path"] for e in journal_.recent(1)] == ["/p4"]
    assert journal_.requests["v", "op", 200] == 5  # counters are not bounded by the journal


def test_structured_logs_are_json_lines() -> None:
    stream = io.StringIO()
    journal_ = Journal(size=10)
    journal_.start_logging(stream)
    try:
        journal_.record(Entry(1.0, 2.0, "POST", "/x", 202, 3.5, "genray", "createVideo", "key_1", ("flt_1",), False))
    finally:
        journal_.stop_logging()  # flushes the queue
    line = orjson.loads(stream.getvalue().splitlines()[0])
    assert line == {"event": "request", "at": 1.0, "wall_time": 2.0, "method": "POST", "path": "/x", "status": 202,
                    "duration_ms": 3.5, "vendor": "genray", "operation": "createVideo", "key_id": "key_1",
                    "faults": ["flt_1"], "dropped": False}
