"""client/genray.py follows openapi/genray.yaml (shapes are written once), maps the documented
error body to typed errors, and its signature helpers agree with the document's `verify_webhook`."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from client import genray as gr
from client._base import AuthenticationError
from contracts.genray._support import document_verify_webhook
from emulator.core import spec as spec_module

SPEC = spec_module.load("genray")

MODELS: dict[type[BaseModel], str] = {
    gr.VideoJob: "VideoAccepted|FromPersonAccepted|UpscaleAccepted",
    gr.Video: "Video",
    gr.Upload: "UploadResult",
    gr.AccountInfo: "AccountInfo",
    gr.ApiKey: "KeyInfo",
    gr.CreatedApiKey: "CreatedKey",
    gr.KeyList: "KeyList",
    gr.RevokedApiKey: "RevokedKey",
    gr.WebhookEvent: "WebhookEvent",
}
REQUESTS: dict[str, list[Callable[..., Any]]] = {
    "CreateVideoRequest": [gr.Videos.create, gr.AsyncVideos.create],
    "CreateFromPersonRequest": [gr.Videos.from_person, gr.AsyncVideos.from_person],
    "CreateKeyRequest": [gr.Keys.create, gr.AsyncKeys.create],
}


def flatten(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(properties, required) of an object schema, through $ref, allOf and oneOf (a oneOf's
    properties are the union of its variants', its required those every variant requires)."""
    schema = SPEC.resolve(schema)
    props, required = set(schema.get("properties", {})), set(schema.get("required", []))
    for part in schema.get("allOf", []):
        p, r = flatten(part)
        props |= p
        required |= r
    variants = [flatten(v) for v in schema.get("oneOf", []) if SPEC.resolve(v).get("type") != "null"]
    if variants:
        props |= set().union(*(p for p, _ in variants))
        required |= set.intersection(*(r for _, r in variants))
    return props, required


def schema_of(names: str) -> tuple[set[str], set[str]]:
    """Several `|`-separated schemas: one model for all of them (properties union, required intersection)."""
    flat = [flatten({"$ref": f"#/components/schemas/{n}"}) for n in names.split("|")]
    return set().union(*(p for p, _ in flat)), set.intersection(*(r for _, r in flat))


@pytest.mark.parametrize("model", list(MODELS), ids=lambda m: m.__name__)
def test_models_follow_their_schemas(model: type[BaseModel]) -> None:
    props, required = schema_of(MODELS[model])
    fields = model.model_fields
    assert set(fields) == props
    assert {n for n, f in fields.items() if f.is_required()} == required


@pytest.mark.parametrize("schema", list(REQUESTS))
def test_request_methods_take_every_documented_field(schema: str) -> None:
    props, required = flatten({"$ref": f"#/components/schemas/{schema}"})
    for method in REQUESTS[schema]:
        params = {n: p for n, p in inspect.signature(method).parameters.items()
                  if n not in ("self", "extra_headers", "extra_body")}
        assert set(params) == props, method.__qualname__
        assert {n for n, p in params.items() if p.default is inspect.Parameter.empty} == required


def test_every_2xx_response_has_a_model() -> None:
    modelled = {name for names in MODELS.values() for name in names.split("|")}
    for op in SPEC.operations.values():
        for status, response in op.responses.items():
            if not status.startswith("2"):
                continue
            content = SPEC.resolve(response).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is not None:
                assert schema["$ref"].rsplit("/", 1)[-1] in modelled, op.id


def test_the_error_body_becomes_a_typed_error() -> None:
    client = gr.Genray(api_key="sk_live_x", base_url="http://genray.invalid")
    body = {"detail": {"error": "insufficient_credits", "message": "Not enough credits. Need 170, have 50.",
                       "credits_required": 170, "credits_available": 50}}
    err = client._make_status_error(httpx.Response(402, json=body, request=httpx.Request("GET", "http://x")), body)
    assert isinstance(err, gr.GenrayInsufficientCreditsError)
    assert (err.code, err.message, err.credits_required, err.credits_available) == \
        ("insufficient_credits", "Not enough credits. Need 170, have 50.", 170, 50)
    limited = {"detail": {"error": "rate_limit_exceeded", "message": "slow down", "retry_after": 12}}
    err = client._make_status_error(httpx.Response(429, json=limited, request=httpx.Request("GET", "http://x")),
                                    limited)
    assert isinstance(err, gr.GenrayRateLimitError) and err.retry_after == 12
    for code, cls in [("unauthorized", AuthenticationError), ("plan_required", gr.PlanRequiredError),
                      ("generation_failed", gr.GenerationFailedError), ("validation_error", gr.ValidationError)]:
        e = client._make_status_error(httpx.Response(400, request=httpx.Request("GET", "http://x")),
                                      {"detail": {"error": code, "message": "m", "field": "prompt"}})
        assert isinstance(e, cls) and e.param == "prompt"
    client.close()


@pytest.mark.parametrize("body", [b"{}", b'{"event":"video.completed","data":{"id":"x","status":"completed"},'
                                  b'"timestamp":"2026-04-02T12:05:00"}', "ünïcode".encode()])
def test_signature_helpers_agree_with_the_document(body: bytes) -> None:
    signature = gr.sign_webhook(body, "whsec_abc")
    assert document_verify_webhook(body, signature, "whsec_abc")
    assert gr.verify_webhook(body, signature, "whsec_abc") and gr.Genray.verify_webhook(body, signature, "whsec_abc")
    assert not gr.verify_webhook(body + b" ", signature, "whsec_abc")
    assert not gr.verify_webhook(body, None, "whsec_abc")


def test_parse_webhook_types_the_event_and_refuses_a_bad_signature() -> None:
    raw = json.dumps({"event": "video.completed", "timestamp": "2026-04-02T12:05:00",
                      "data": {"id": "a1", "status": "completed", "video_url": "https://genray.ai/v.mp4",
                               "width": 1280, "height": 720, "duration_ms": 5040}}).encode()
    event = gr.parse_webhook(raw, gr.sign_webhook(raw, "s"), "s")
    assert (event.event, event.data.width, event.data.duration_ms) == ("video.completed", 1280, 5040)
    with pytest.raises(gr.InvalidSignatureError):
        gr.parse_webhook(raw, gr.sign_webhook(raw, "other"), "s")


def test_upload_bodies_are_multipart_or_json_base64() -> None:
    content, headers = gr._upload_request(b"\x89PNG-bytes", "a.png", "image/png", "multipart")
    assert headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="a.png"' in content and b"\x89PNG-bytes" in content
    content, headers = gr._upload_request(b"\x89PNG-bytes", "a.png", None, "base64")
    assert headers == {"Content-Type": "application/json"}
    assert json.loads(content) == {"file": "iVBORy1ieXRlcw==", "filename": "a.png"}
    SPEC.validate_schema("UploadJson", json.loads(content))
