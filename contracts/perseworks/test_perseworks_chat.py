"""perseworks.md, "Chat completions": OpenAI-compatible, `stream: true` over SSE, billed per
input/output token; "Point the OpenAI SDK's base_url at us and change nothing else"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from client import (
    AsyncPerseworks,
    BadRequestError,
    ChatCompletion,
    ChatCompletionChunk,
    ChatPricing,
    InsufficientCreditsError,
    Perseworks,
    UpstreamError,
    Usage,
)
from emulator.testing import SpecCheck

from ._support import CHAT_CALL_CREDITS, CHAT_MODELS, CREDITS_PER_USD, Account, Control, MakeClient, Target

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello"}]


def token_credits(client: Perseworks, model: str, usage: Usage) -> Decimal:
    """What `usage` costs in credits at the catalog's advertised per-token prices."""
    pricing = client.models.list().get(model)
    assert pricing is not None and isinstance(pricing.pricing, ChatPricing)
    usd = (usage.prompt_tokens * Decimal(str(pricing.pricing.input_usd_per_million))
           + usage.completion_tokens * Decimal(str(pricing.pricing.output_usd_per_million))) / 1_000_000
    return usd * CREDITS_PER_USD


def assert_charged(account: Account, ref: str, credits: Decimal) -> None:
    if account.observable:
        assert [kind for kind, _ in account.ledger(ref)] == ["charge"]
        assert account.ledger(ref)[0][1] == pytest.approx(float(credits), rel=1e-9, abs=1e-12)


def collect(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


# -- non-streaming ----------------------------------------------------------------------


@pytest.mark.spends(credits=CHAT_CALL_CREDITS)
@pytest.mark.parametrize("model", CHAT_MODELS)
def test_a_completion_is_openai_shaped_and_billed_per_token(client: Perseworks, account: Account,
                                                            model: str) -> None:
    completion = client.chat.completions.create(model=model, messages=MESSAGES)
    assert isinstance(completion, ChatCompletion)
    assert (completion.object, completion.model) == ("chat.completion", model)
    [choice] = completion.choices
    assert (choice.index, choice.message.role, choice.finish_reason) == (0, "assistant", "stop")
    assert choice.message.content
    usage = completion.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert_charged(account, completion.id, token_credits(client, model, usage))


@pytest.mark.spends(credits=CHAT_CALL_CREDITS)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_max_tokens_cuts_the_reply_with_finish_reason_length(client: Perseworks, account: Account,
                                                             stream: bool) -> None:
    if not stream:
        completion = client.chat.completions.create(model="seed-2.0-mini", messages=MESSAGES, max_tokens=2)
        assert completion.choices[0].finish_reason == "length"
        assert completion.usage.completion_tokens <= 2
        assert_charged(account, completion.id, token_credits(client, "seed-2.0-mini", completion.usage))
        return
    chunks = list(client.chat.completions.create(model="seed-2.0-mini", messages=MESSAGES, max_tokens=2,
                                                 stream=True, stream_options={"include_usage": True}))
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens <= 2


# -- streaming ----------------------------------------------------------------------------


@pytest.mark.spends(credits=CHAT_CALL_CREDITS)
def test_a_stream_with_include_usage_ends_with_a_usage_chunk(client: Perseworks, account: Account) -> None:
    with client.chat.completions.create(model="seed-2.0-mini", messages=MESSAGES, stream=True,
                                        stream_options={"include_usage": True}) as stream:
        chunks = list(stream)
    assert len(chunks) >= 3
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    *body, last = chunks
    assert last.choices == [] and last.usage is not None
    assert all(c.usage is None for c in body)
    assert [c.choices[0].finish_reason for c in body if c.choices[0].finish_reason] == ["stop"]
    assert body[-1].choices[0].finish_reason == "stop"
    assert collect(body)
    usage = last.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert_charged(account, last.id, token_credits(client, "seed-2.0-mini", usage))


@pytest.mark.spends(credits=CHAT_CALL_CREDITS)
def test_a_stream_without_include_usage_has_no_usage(client: Perseworks) -> None:
    chunks = list(client.chat.completions.create(model="seed-2.0-mini", messages=MESSAGES, stream=True))
    assert chunks and all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.spends(credits=CHAT_CALL_CREDITS)
def test_the_stream_on_the_wire_is_sse_ending_with_done(raw: httpx.Client) -> None:
    payload = {"model": "seed-2.0-mini", "messages": MESSAGES, "stream": True,
               "stream_options": {"include_usage": True}}
    with raw.stream("POST", "chat/completions", json=payload) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line[len("data: "):] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    usage_chunk = ChatCompletionChunk.model_validate_json(events[-2])
    assert usage_chunk.choices == [] and usage_chunk.usage is not None


@pytest.mark.spends(credits=CHAT_CALL_CREDITS)
async def test_the_async_client_streams_typed_chunks(aclient: AsyncPerseworks) -> None:
    stream = await aclient.chat.completions.create(model="seed-2.0-mini", messages=MESSAGES, stream=True,
                                                   stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    assert collect(chunks) and chunks[-1].usage is not None


# -- failures ------------------------------------------------------------------------------


@pytest.mark.emulator_only
def test_a_stream_that_fails_midway_raises_the_typed_error(client: Perseworks) -> None:
    received: list[ChatCompletionChunk] = []
    stream = client.chat.completions.create(model="seed-2.0-mini", stream=True,
                                            messages=[{"role": "user", "content": "Hello #emulator:fail"}])
    with pytest.raises(UpstreamError) as caught:
        for chunk in stream:
            received.append(chunk)
    assert received, "the failure comes midway, after some chunks"
    assert caught.value.code == "upstream_error" and caught.value.message


@pytest.mark.emulator_only
async def test_an_async_stream_that_fails_midway_raises_the_typed_error(aclient: AsyncPerseworks) -> None:
    stream = await aclient.chat.completions.create(model="seed-2.0-mini", stream=True, messages=MESSAGES,
                                                   extra_headers={"X-Emulator-Scenario": "fail"})
    received: list[ChatCompletionChunk] = []
    with pytest.raises(UpstreamError):
        async for chunk in stream:
            received.append(chunk)
    assert received


@pytest.mark.emulator_only
def test_a_failed_plain_completion_is_502(client: Perseworks, account: Account) -> None:
    with account.unchanged(), pytest.raises(UpstreamError) as caught:
        client.chat.completions.create(model="seed-2.0-mini", messages=MESSAGES,
                                       extra_headers={"X-Emulator-Scenario": "fail"})
    assert (caught.value.status_code, caught.value.code) == (502, "upstream_error")


@pytest.mark.emulator_only
def test_chat_with_no_credits_is_402(control: Control, make_client: MakeClient) -> None:
    account = control.create_account(credits=0)
    with account.unchanged(), pytest.raises(InsufficientCreditsError) as caught:
        make_client(account.api_key).chat.completions.create(model="seed-2.0-mini", messages=MESSAGES)
    assert (caught.value.status_code, caught.value.code) == (402, "insufficient_credits")


INVALID_CHATS = [
    pytest.param({"messages": MESSAGES}, "invalid_request", "model", id="model-missing"),
    pytest.param({"model": "seed-2.0-mini"}, "invalid_request", "messages", id="messages-missing"),
    pytest.param({"model": "seed-2.0-mini", "messages": []}, "invalid_request", "messages", id="messages-empty"),
    pytest.param({"model": "seed-2.0-mini", "messages": [{"role": "robot", "content": "hi"}]}, "invalid_request",
                 "messages", id="role-unknown"),
    pytest.param({"model": "seed-2.0-mini", "messages": MESSAGES, "max_tokens": 0}, "invalid_request",
                 "max_tokens", id="max_tokens-0"),
    pytest.param({"model": "seed-2.0-mini", "messages": MESSAGES, "temperature": 3}, "invalid_request",
                 "temperature", id="temperature-3"),
    pytest.param({"model": "gpt-4o", "messages": MESSAGES}, "model_not_found", "model", id="model-unknown"),
    pytest.param({"model": "seedance-2.0", "messages": MESSAGES}, "model_not_found", "model", id="video-model"),
]


@pytest.mark.parametrize(("payload", "code", "param"), INVALID_CHATS)
def test_an_invalid_chat_request_is_400(client: Perseworks, account: Account, payload: dict[str, Any], code: str,
                                        param: str) -> None:
    with account.unchanged(), pytest.raises(BadRequestError) as caught:
        client.post("/chat/completions", cast_to=ChatCompletion, body=payload)
    assert (caught.value.status_code, caught.value.code) == (400, code)
    assert (caught.value.param or "").startswith(param)


# -- the official OpenAI SDK, base_url changed and nothing else -----------------------------


@pytest.mark.spends(credits=2 * CHAT_CALL_CREDITS)
def test_the_openai_sdk_works_unchanged(target: Target, account: Account, spec_check: SpecCheck) -> None:
    with httpx.Client(event_hooks={"response": [spec_check]}) as http:
        sdk = openai.OpenAI(api_key=account.api_key, base_url=target.base_url, http_client=http, max_retries=0)
        assert {"seedance-2.0", "seed-2.0-mini"} <= {m.id for m in sdk.models.list()}
        completion = sdk.chat.completions.create(model="seed-2.0-mini", messages=MESSAGES)  # type: ignore[arg-type]
        assert completion.choices[0].message.content and completion.usage is not None
        chunks = list(sdk.chat.completions.create(model="seed-2.0-mini", messages=MESSAGES,  # type: ignore[arg-type]
                                                  stream=True, stream_options={"include_usage": True}))
        assert chunks[-1].usage is not None
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(api_key="sk-wrong", base_url=target.base_url, http_client=http,
                          max_retries=0).models.list()
