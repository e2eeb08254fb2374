"""The official `openai` Python SDK against the emulator's Perseworks, changing nothing but
`base_url` and `api_key` ("Point the OpenAI SDK's `base_url` at us and change nothing else",
perseworks.md).

Every client but one is given an `httpx.Client` whose response hook validates each response
against openapi/perseworks.yaml (`SpecCheck`); `test_plain_client_without_http_client` shows
the SDK needs nothing of the kind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest

from emulator.testing import RunningEmulator, SpecCheck

pytestmark = pytest.mark.emulator_only

# perseworks.md, "Models"
DOCUMENTED_MODELS = [
    ("seedance-2.0", "video"),
    ("seedance-2.0-fast", "video"),
    ("seedance-2.0-mini", "video"),
    ("doubao-seed-2-0-pro", "chat"),
    ("seed-2.1-pro", "chat"),
    ("seed-2.0-mini", "chat"),
]
CHAT_MODEL = "seed-2.0-mini"
HELLO = [{"role": "user", "content": "Hello"}]


@pytest.fixture
def sdk_account(emu: RunningEmulator) -> dict[str, Any]:
    """A fresh account with no rate limit, so tests never trip over each other."""
    return emu.create_account("perseworks", credits=10_000, rate_limit_rpm=0)


def _client(emu: RunningEmulator, api_key: str, spec_check: SpecCheck, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.vendor_url("perseworks"), api_key=api_key,
                         http_client=httpx.Client(event_hooks={"response": [spec_check]}), **kwargs)


@pytest.fixture
def client(emu: RunningEmulator, sdk_account: dict[str, Any], spec_check: SpecCheck) -> Iterator[openai.OpenAI]:
    with _client(emu, sdk_account["api_key"], spec_check) as c:
        yield c


@pytest.fixture
def no_retry(emu: RunningEmulator, sdk_account: dict[str, Any], spec_check: SpecCheck) -> Iterator[openai.OpenAI]:
    """For the errors the SDK would otherwise retry (429, 5xx)."""
    with _client(emu, sdk_account["api_key"], spec_check, max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(emu: RunningEmulator, sdk_account: dict[str, Any],
                  spec_check: SpecCheck) -> AsyncIterator[openai.AsyncOpenAI]:
    async def check(response: httpx.Response) -> None:
        await response.aread()  # SpecCheck reads synchronously; give it the body already read
        spec_check(response)

    async with openai.AsyncOpenAI(base_url=emu.vendor_url("perseworks"), api_key=sdk_account["api_key"],
                                  http_client=httpx.AsyncClient(event_hooks={"response": [check]})) as c:
        yield c


def _text(chunks: list[Any], index: int = 0) -> str:
    return "".join(ch.choices[0].delta.content or "" for ch in chunks
                   if ch.choices and ch.choices[0].index == index)


# -- models ------------------------------------------------------------------------------


def test_models_list_is_the_six_documented_models(client: openai.OpenAI, spec_check: SpecCheck) -> None:
    models = list(client.models.list())
    assert [m.id for m in models] == [mid for mid, _ in DOCUMENTED_MODELS]
    for model, (_, kind) in zip(models, DOCUMENTED_MODELS, strict=True):
        assert model.object == "model"
        assert isinstance(model.created, int)
        assert model.owned_by == "perseworks"
        extra = model.model_extra or {}
        assert extra["type"] == kind  # Perseworks adds its own fields; the SDK keeps them
        assert extra["pricing"]["currency"] == "USD"
    assert spec_check.checked == 1


def test_plain_client_without_http_client(emu: RunningEmulator, sdk_account: dict[str, Any]) -> None:
    """Exactly what a user writes: only `base_url` and `api_key` differ from OpenAI's defaults."""
    with openai.OpenAI(base_url=emu.vendor_url("perseworks"), api_key=sdk_account["api_key"]) as plain:
        assert len(list(plain.models.list())) == 6
        completion = plain.chat.completions.create(model=CHAT_MODEL, messages=HELLO)
        assert completion.choices[0].message.content
        streamed = list(plain.chat.completions.create(model=CHAT_MODEL, messages=HELLO, stream=True))
    assert _text(streamed) == completion.choices[0].message.content


# -- chat, non-streaming --------------------------------------------------------------------


def test_chat_completion(client: openai.OpenAI, spec_check: SpecCheck) -> None:
    completion = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    assert completion.object == "chat.completion"
    assert completion.model == CHAT_MODEL
    assert completion.id.startswith("chatcmpl-")
    [choice] = completion.choices
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content.strip()
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert spec_check.checked == 1


def test_chat_completion_is_deterministic(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    second = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.id != second.id


@pytest.mark.parametrize("limit", [{"max_tokens": 3}, {"max_completion_tokens": 3}])
def test_max_tokens_cuts_the_reply_with_finish_reason_length(client: openai.OpenAI, limit: dict[str, int]) -> None:
    full = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    cut = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, **limit)
    assert full.usage is not None and full.usage.completion_tokens > 3
    assert cut.choices[0].finish_reason == "length"
    assert cut.usage is not None and cut.usage.completion_tokens <= 3
    assert full.choices[0].message.content.startswith(cut.choices[0].message.content)


def test_n_choices(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, n=2)
    assert [c.index for c in completion.choices] == [0, 1]
    assert all(c.finish_reason == "stop" for c in completion.choices)


def test_message_content_parts_and_system_prompt(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="seed-2.1-pro",
        messages=[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
        temperature=0.2, top_p=0.9, seed=42, stop=["\n\n"], user="u-1")
    assert completion.model == "seed-2.1-pro"
    assert completion.choices[0].message.content


# -- chat, streaming ------------------------------------------------------------------------


def test_stream_joins_to_the_non_streaming_text(client: openai.OpenAI, spec_check: SpecCheck) -> None:
    expected = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO).choices[0].message.content
    stream = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, stream=True)
    assert isinstance(stream, openai.Stream)
    chunks = list(stream)
    assert len(chunks) > 3
    assert all(ch.object == "chat.completion.chunk" and ch.model == CHAT_MODEL for ch in chunks)
    assert len({ch.id for ch in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [ch.choices[0].finish_reason for ch in chunks][-1] == "stop"
    assert all(ch.choices[0].finish_reason is None for ch in chunks[:-1])
    assert all(ch.usage is None for ch in chunks)
    assert _text(chunks) == expected
    assert spec_check.checked == 2


def test_stream_include_usage_ends_with_a_usage_chunk(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    chunks = list(client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, stream=True,
                                                 stream_options={"include_usage": True}))
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.model_dump() == plain.usage.model_dump()  # type: ignore[union-attr]
    assert all(ch.usage is None for ch in chunks[:-1])
    assert _text(chunks) == plain.choices[0].message.content


def test_stream_with_max_tokens_finishes_with_length(client: openai.OpenAI) -> None:
    cut = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=3)
    chunks = list(client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=3, stream=True))
    assert chunks[-1].choices[0].finish_reason == "length"
    assert _text(chunks) == cut.choices[0].message.content


def test_stream_with_n_choices(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, n=2)
    chunks = list(client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, n=2, stream=True))
    assert [_text(chunks, i) for i in (0, 1)] == [c.message.content for c in plain.choices]


# -- errors, as the SDK's typed exceptions ---------------------------------------------------


def test_bad_key_is_authentication_error(emu: RunningEmulator, spec_check: SpecCheck) -> None:
    with _client(emu, "sk-not-a-real-key", spec_check) as bad:
        with pytest.raises(openai.AuthenticationError) as excinfo:
            bad.models.list()
        with pytest.raises(openai.AuthenticationError):
            bad.chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    assert excinfo.value.status_code == 401
    assert excinfo.value.code == "invalid_api_key"
    assert spec_check.checked == 2


def test_revoked_key_is_authentication_error(emu: RunningEmulator, sdk_account: dict[str, Any],
                                             control: httpx.Client, client: openai.OpenAI) -> None:
    client.models.list()
    control.delete(f"/accounts/{sdk_account['account_id']}/keys/{sdk_account['key_id']}").raise_for_status()
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


@pytest.mark.parametrize("model", ["gpt-4o", "seedance-2.0"])  # unknown; a video model
def test_unknown_or_video_model_is_bad_request(client: openai.OpenAI, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(model=model, messages=HELLO)
    assert excinfo.value.status_code == 400
    assert excinfo.value.code == "model_not_found"
    assert excinfo.value.param == "model"


@pytest.mark.parametrize(("params", "param"), [
    ({"temperature": 5}, "temperature"),
    ({"top_p": 1.5}, "top_p"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"n": 9}, "n"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
])
def test_bad_params_are_bad_request(client: openai.OpenAI, params: dict[str, Any], param: str) -> None:
    kwargs: dict[str, Any] = {"model": CHAT_MODEL, "messages": HELLO, **params}
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(**kwargs)
    assert excinfo.value.code == "invalid_request"
    assert excinfo.value.param == param


def test_bad_params_in_a_stream_request_fail_before_streaming(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, temperature=-1, stream=True)


@pytest.mark.parametrize("how", ["header", "prompt"])
def test_rate_limited_scenario_is_rate_limit_error(no_retry: openai.OpenAI, how: str) -> None:
    if how == "header":
        call: dict[str, Any] = {"messages": HELLO, "extra_headers": {"X-Emulator-Scenario": "rate_limited"}}
    else:
        call = {"messages": [{"role": "user", "content": "Hello #emulator:rate_limited"}]}
    with pytest.raises(openai.RateLimitError) as excinfo:
        no_retry.chat.completions.create(model=CHAT_MODEL, **call)
    assert excinfo.value.status_code == 429
    assert excinfo.value.code == "rate_limited"
    assert int(excinfo.value.response.headers["retry-after"]) >= 1


def test_key_rate_limit_is_rate_limit_error(emu: RunningEmulator, spec_check: SpecCheck) -> None:
    limited = emu.create_account("perseworks", credits=100, rate_limit_rpm=1)
    with _client(emu, limited["api_key"], spec_check, max_retries=0) as c:
        c.models.list()
        with pytest.raises(openai.RateLimitError) as excinfo:
            c.models.list()
    assert excinfo.value.response.headers["retry-after"]


def test_fail_scenario_raises_api_error_while_iterating(no_retry: openai.OpenAI, spec_check: SpecCheck) -> None:
    stream = no_retry.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "Hello #emulator:fail"}], stream=True)
    received: list[Any] = []  # the response starts as a 200; the failure arrives mid-stream
    with pytest.raises(openai.APIError) as excinfo:
        for chunk in stream:
            received.append(chunk)
    assert not isinstance(excinfo.value, openai.APIStatusError)
    assert received and _text(received)
    assert excinfo.value.code == "upstream_error"
    assert excinfo.value.message == "the upstream model failed mid-stream"
    assert spec_check.checked == 1  # the error event itself is in the spec's ChatStreamEvent


def test_fail_scenario_without_stream_is_502(no_retry: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as excinfo:
        no_retry.chat.completions.create(model=CHAT_MODEL, messages=HELLO,
                                         extra_headers={"X-Emulator-Scenario": "fail"})
    assert excinfo.value.status_code == 502


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_error_is_internal_server_error_502(no_retry: openai.OpenAI, stream: bool) -> None:
    with pytest.raises(openai.InternalServerError) as excinfo:
        no_retry.chat.completions.create(model=CHAT_MODEL, stream=stream,
                                         messages=[{"role": "user", "content": "Hi #emulator:upstream_error"}])
    assert isinstance(excinfo.value, openai.APIStatusError)
    assert excinfo.value.status_code == 502
    assert excinfo.value.code == "upstream_error"


def test_the_sdk_retries_a_502(client: openai.OpenAI, sdk_account: dict[str, Any],
                               control: httpx.Client, spec_check: SpecCheck) -> None:
    """With its default retries the SDK tries three times, then raises; each try is refused
    before any charge."""
    with pytest.raises(openai.InternalServerError):
        client.with_options(timeout=30).chat.completions.create(
            model=CHAT_MODEL, messages=HELLO, extra_headers={"X-Emulator-Scenario": "upstream_error"})
    assert spec_check.checked == 3  # the first try and the SDK's two default retries
    ledger = control.get(f"/accounts/{sdk_account['account_id']}").json()["ledger"]
    assert [e["kind"] for e in ledger] == ["topup"]


def test_moderation_reject_is_unprocessable_entity(client: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as excinfo:
        client.chat.completions.create(model=CHAT_MODEL, messages=HELLO,
                                       extra_headers={"X-Emulator-Scenario": "moderation_reject"})
    assert excinfo.value.code == "content_rejected"


def test_insufficient_credits_is_a_402_status_error(emu: RunningEmulator, spec_check: SpecCheck) -> None:
    broke = emu.create_account("perseworks", credits=0, rate_limit_rpm=0)
    with _client(emu, broke["api_key"], spec_check) as c, pytest.raises(openai.APIStatusError) as excinfo:
        c.chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    assert excinfo.value.status_code == 402
    assert excinfo.value.code == "insufficient_credits"


def test_model_scope_is_permission_denied(emu: RunningEmulator, spec_check: SpecCheck) -> None:
    scoped = emu.create_account("perseworks", credits=100, rate_limit_rpm=0, allowed_models=["seed-2.1-pro"])
    with _client(emu, scoped["api_key"], spec_check) as c:
        assert c.chat.completions.create(model="seed-2.1-pro", messages=HELLO).choices
        with pytest.raises(openai.PermissionDeniedError) as excinfo:
            c.chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    assert excinfo.value.code == "model_not_allowed"


# -- the async client -------------------------------------------------------------------------


async def test_async_models_list(aclient: openai.AsyncOpenAI, spec_check: SpecCheck) -> None:
    ids = [m.id async for m in aclient.models.list()]
    assert ids == [mid for mid, _ in DOCUMENTED_MODELS]
    assert spec_check.checked == 1


async def test_async_stream(aclient: openai.AsyncOpenAI, spec_check: SpecCheck) -> None:
    expected = (await aclient.chat.completions.create(model=CHAT_MODEL, messages=HELLO)).choices[0].message.content
    stream = await aclient.chat.completions.create(model=CHAT_MODEL, messages=HELLO, stream=True,
                                                   stream_options={"include_usage": True})
    assert isinstance(stream, openai.AsyncStream)
    chunks = [chunk async for chunk in stream]
    assert _text(chunks) == expected
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert spec_check.checked == 2


async def test_async_stream_failure_raises_api_error(aclient: openai.AsyncOpenAI) -> None:
    stream = await aclient.chat.completions.create(model=CHAT_MODEL, messages=HELLO, stream=True,
                                                   extra_headers={"X-Emulator-Scenario": "fail"})
    with pytest.raises(openai.APIError) as excinfo:
        async for _ in stream:
            pass
    assert excinfo.value.code == "upstream_error"


async def test_async_bad_key(emu: RunningEmulator) -> None:
    async with openai.AsyncOpenAI(base_url=emu.vendor_url("perseworks"), api_key="sk-nope") as bad:
        with pytest.raises(openai.AuthenticationError):
            await bad.models.list()
