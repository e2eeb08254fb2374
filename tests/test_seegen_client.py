"""Shapes are written once: openapi/seegen.yaml is the source, and client/seegen.py's models and
request parameters must follow it (every property a field by its wire name, and back;
spec-required ⇔ model-required; nullable exactly where the spec allows null)."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from client import seegen as sg
from client._base import parse_error_body
from emulator.core import spec as spec_module

SPEC = spec_module.load("seegen")
SCHEMAS: dict[type[BaseModel], str] = {
    sg.TaskCreated: "TaskCreated", sg.Task: "Task", sg.TaskOutput: "TaskOutput", sg.TaskError: "TaskError",
    sg.Credits: "Credits", sg.UpscaleCreated: "UpscaleCreated", sg.UpscaleTask: "UpscaleTask",
    sg.UpscaleResult: "UpscaleResult", sg.UpscaleError: "UpscaleError", sg.Asset: "Asset",
    sg.AssetList: "AssetList",
}


def _schema(name: str) -> dict[str, Any]:
    return SPEC.resolve(SPEC.doc["components"]["schemas"][name])


def _nullable(schema: dict[str, Any]) -> bool:
    schema = SPEC.resolve(schema)
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_nullable(option) for option in schema.get("oneOf", []))


def _allows_none(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation) or (
        isinstance(annotation, types.UnionType) and type(None) in annotation.__args__)


@pytest.mark.parametrize("model", SCHEMAS, ids=lambda m: m.__name__)
def test_model_follows_its_schema(model: type[BaseModel]) -> None:
    schema = _schema(SCHEMAS[model])
    fields = {info.alias or name: info for name, info in model.model_fields.items()}
    assert set(fields) == set(schema["properties"])
    required = set(schema.get("required", ()))
    assert {alias for alias, info in fields.items() if info.is_required()} == required
    for alias, info in fields.items():
        assert _allows_none(info.annotation) == _nullable(schema["properties"][alias]), alias


def test_every_response_schema_has_a_model() -> None:
    responses = set()
    for op in SPEC.operations.values():
        for status, response in op.responses.items():
            content = SPEC.resolve(response).get("content", {}).get("application/json", {})
            ref = content.get("schema", {}).get("$ref", "")
            if status.startswith("2"):
                responses.add(ref.rsplit("/", 1)[-1])
    assert responses <= set(SCHEMAS.values())


def test_task_inputs_are_the_client_s_keyword_arguments() -> None:
    params = set(inspect.signature(sg.Jobs.create_task).parameters)
    async_params = set(inspect.signature(sg.AsyncJobs.create_task).parameters)
    inputs = set(_schema("TaskInputs")["properties"])
    snake = {"".join("_" + c.lower() if c.isupper() else c for c in name) for name in inputs}
    assert snake <= params and params == async_params


def test_the_client_builds_spec_valid_request_bodies() -> None:
    body = sg._task_body("sd2", call_back_url="https://e.com/h", extra_inputs=None, extra_body=None,
                         prompt="p", video_urls=("asset://asset-20260326-abc123",), video_input_mode="reference",
                         output_resolution="1080p")
    SPEC.validate_schema("CreateTaskRequest", body)
    assert body["inputs"]["videoUrls"] == ["asset://asset-20260326-abc123"]
    SPEC.validate_schema("UpscaleRequest", sg._upscale_body(None, "https://static.example/x.mp4", "4k", None, None))


def test_error_body_maps_to_the_exception() -> None:
    info = parse_error_body({"code": 400, "error": "INVALID_PARAMETERS", "message": "bad", "param": "inputs.x"}, "")
    assert (info.code, info.message, info.param) == ("INVALID_PARAMETERS", "bad", "inputs.x")
    assert set(sg.ERROR_CODES) == set(_schema("Error")["properties"]["error"]["enum"]) - {
        "METHOD_NOT_ALLOWED", "PAYLOAD_TOO_LARGE"}
