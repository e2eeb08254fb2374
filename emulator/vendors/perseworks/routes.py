"""One handler per operationId of openapi/perseworks.yaml."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from starlette.responses import Response

from ...core.ledger import InsufficientCredits
from ...core.lifecycle import Task
from ...core.media import MediaSpec
from ...core.text import count_tokens, reply
from ...core.vendor import JSON, Call, EventStream, Handlers
from . import pricing, render, rules
from .render import error

handlers = Handlers()


def _insufficient(exc: InsufficientCredits) -> Exception:
    return error("insufficient_credits",
                 f"insufficient credits: this request needs {exc.required}, "
                 f"{exc.available} available; top up your balance")


@handlers.operation("listModels")
async def list_models(call: Call) -> Response:
    return JSON(render.catalog(call.emulator.prices[call.vendor.name]))


@handlers.operation("createVideoGeneration")
async def create_video_generation(call: Call) -> Response:
    emulator = call.emulator
    name = rules.scenario(call, rules.VIDEO_SCENARIOS, call.body["prompt"])
    plan = rules.check_video(call)
    rules.raise_submit_scenario(name)
    assert call.account is not None and call.key is not None
    now = call.now
    task_id = f"vid_{emulator.ids.token(24)}"
    try:
        emulator.ledger.hold(call.account.id, task_id, plan.hold, now,
                             note=f"{plan.model.id} {plan.resolution} {plan.seconds}s")
    except InsufficientCredits as exc:
        raise _insufficient(exc) from None
    steps, outcome = rules.video_steps(now, plan, name)
    data = {"width": plan.width, "height": plan.height, "resolution": plan.resolution}
    if "seconds" in outcome.output:
        data["media"] = emulator.media.register(MediaSpec(
            "video", "mp4", plan.width, plan.height, outcome.output["seconds"],
            seed=emulator.ids.randint(0, 2**31 - 1), audio=plan.model.id == "seedance-2.0"))
    task = Task(id=task_id, vendor="perseworks", kind="video", account_id=call.account.id,
                key_id=call.key.id, created_at=now, steps=steps, outcome=outcome,
                params=call.body, scenario=name, data=data)
    emulator.lifecycle.start(task)
    return JSON(render.accepted(task), status_code=202)


@handlers.operation("getVideoGeneration")
async def get_video_generation(call: Call) -> Response:
    assert call.account is not None
    task = call.emulator.lifecycle.get(call.params["id"], call.account.id)
    if task is None or task.vendor != "perseworks":
        raise error("not_found", f"no video generation {call.params['id']!r} for this account")
    return JSON(render.video_generation(task, call.now, call.origin))


@handlers.operation("createChatCompletion")
async def create_chat_completion(call: Call) -> Response:
    emulator, body = call.emulator, call.body
    messages = body["messages"]
    texts = [rules.message_text(m) for m in messages]
    name = rules.scenario(call, rules.CHAT_SCENARIOS, *texts)
    model = rules.chat_model(call)
    stream = bool(body.get("stream"))
    if body.get("stream_options") is not None and not stream:
        # As OpenAI answers: the option only means something for a stream.
        raise error("invalid", "'stream_options' is only allowed when 'stream' is true", param="stream_options")
    # A plain completion cannot fail midway, so `fail` refuses it as the upstream would.
    rules.raise_submit_scenario("upstream_error" if name == "fail" and not stream else name)
    prompt_tokens = sum(count_tokens(t) + 4 for t in texts) + 3
    limit = rules.max_completion_tokens(body)
    rules.require_context(model, prompt_tokens, limit)
    material = orjson.dumps([model.id, messages, body.get("seed"), emulator.settings.seed]).decode()
    choices = [reply(f"{material}#{i}", limit) for i in range(int(body.get("n") or 1))]
    if name == "fail":
        # The stream breaks halfway through the first choice; only what was sent is billed.
        choices = [(choices[0][0][: len(choices[0][0]) // 2], False)]
    completion_tokens = sum(count_tokens("".join(pieces)) for pieces, _ in choices)
    assert call.account is not None
    cid = f"chatcmpl-{emulator.ids.token(24)}"
    try:
        emulator.ledger.charge(call.account.id, cid,
                               pricing.chat_credits(emulator.prices[call.vendor.name], model, prompt_tokens,
                                                    completion_tokens),
                               call.now, note=f"{model.id} {prompt_tokens}+{completion_tokens} tokens")
    except InsufficientCredits as exc:
        raise _insufficient(exc) from None
    created = int(call.now)
    if not stream:
        return JSON(render.completion(cid, created, model.id,
                                      [("".join(p), cut) for p, cut in choices],
                                      prompt_tokens, completion_tokens))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    events = _stream(cid, created, model.id, choices, include_usage, prompt_tokens,
                     completion_tokens, fail=name == "fail")
    return EventStream(events, headers={"Cache-Control": "no-cache"})


def _stream(cid: str, created: int, model: str, choices: list[tuple[list[str], bool]],
            include_usage: bool, prompt_tokens: int, completion_tokens: int, fail: bool) -> Iterator[bytes]:
    for index, (pieces, cut) in enumerate(choices):
        yield render.chunk(cid, created, model,
                           [{"index": index, "delta": {"role": "assistant", "content": ""},
                             "finish_reason": None}], include_usage)
        for piece in pieces:
            yield render.chunk(cid, created, model,
                               [{"index": index, "delta": {"content": piece}, "finish_reason": None}],
                               include_usage)
        if fail:
            # An `error` event is how an OpenAI-compatible stream fails midway.
            yield render.stream_error("the upstream model failed mid-stream", "upstream_error")
            return
        yield render.chunk(cid, created, model,
                           [{"index": index, "delta": {}, "finish_reason": "length" if cut else "stop"}],
                           include_usage)
    if include_usage:
        yield render.chunk(cid, created, model, [], True, render.usage(prompt_tokens, completion_tokens))
    yield render.DONE
