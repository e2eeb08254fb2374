"""Perseworks behaviours that rest on the emulator's own choices (docs/fidelity.md assumptions)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from emulator.core.text import count_tokens
from emulator.vendors.perseworks import pricing

MESSAGES = [{"role": "user", "content": "Tell me about cats."}]


def _ledger(control: httpx.Client, account: dict[str, Any], ref: str) -> list[tuple[str, float]]:
    entries = control.get(f"/accounts/{account['account_id']}").json()["ledger"]
    return [(e["kind"], e["amount"]) for e in entries if e["ref"] == ref]


def test_a_failed_stream_bills_the_prompt_and_what_was_sent(api: httpx.Client, control: httpx.Client,
                                                            account: dict[str, Any]) -> None:
    """PA18: a stream that breaks midway is billed for the prompt and the tokens it sent."""
    full = api.post("/chat/completions", json={"model": "seed-2.1-pro", "messages": MESSAGES}).json()
    response = api.post("/chat/completions", headers={"X-Emulator-Scenario": "fail"},
                        json={"model": "seed-2.1-pro", "messages": MESSAGES, "stream": True})
    events = [orjson.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
    assert "error" in events[-1] and "[DONE]" not in response.text
    chunks = events[:-1]
    sent = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert 0 < len(sent) < len(full["choices"][0]["message"]["content"])
    model = pricing.CHAT_MODELS["seed-2.1-pro"]
    expected = pricing.chat_credits(pricing.PRICES, model, full["usage"]["prompt_tokens"], count_tokens(sent))
    [(kind, amount)] = _ledger(control, account, chunks[0]["id"])
    assert kind == "charge" and Decimal(str(amount)) == pytest.approx(expected)


def test_stream_options_need_a_stream(api: httpx.Client, control: httpx.Client, account: dict[str, Any]) -> None:
    response = api.post("/chat/completions", json={"model": "seed-2.0-mini", "messages": MESSAGES,
                                                   "stream_options": {"include_usage": True}})
    assert response.status_code == 400 and response.json()["error"]["param"] == "stream_options"
    assert [e["kind"] for e in control.get(f"/accounts/{account['account_id']}").json()["ledger"]] == ["topup"]


def test_an_oversized_body_is_413_and_costs_nothing(api: httpx.Client, control: httpx.Client,
                                                    account: dict[str, Any]) -> None:
    """PA3: bodies over 1 MiB are refused before they are parsed."""
    huge = {"model": "seedance-2.0", "prompt": "x" * (1024 * 1024 + 1), "resolution": "720p", "durationSec": 4}
    response = api.post("/video/generations", json=huge)
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"
    assert control.get(f"/accounts/{account['account_id']}").json()["held"] == 0


@pytest.mark.parametrize("name", ["expire", "review_fail", "no_such_thing"])
def test_a_scenario_perseworks_cannot_act_out_is_400(api: httpx.Client, name: str) -> None:
    response = api.post("/video/generations", json={"model": "seedance-2.0", "prompt": f"p #emulator:{name}",
                                                     "resolution": "720p", "durationSec": 4})
    assert response.status_code == 400 and response.json()["error"]["param"] == "scenario"
