"""Shapes are written once: openapi/perseworks.yaml is the source, and the reference client's
models and request parameters must follow it.

For every client model mapped below, each spec property exists as a field (by alias), every
field exists in the spec, spec-required ⇔ model-required, a required property accepts null
in the model exactly when the spec allows null, the model's type admits every JSON type the
spec allows, and nested schemas map to the nested models. Adding a property (required or
not) to a mapped schema, or a new schema to a 2xx response, fails these tests until the
client follows.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union

import httpx
import pytest
from pydantic import BaseModel

from client import perseworks as pw
from client._base import ServerSentEvent
from emulator.core import spec as spec_module

# The mapping, model → schema: a components/schemas name, or a path below one for an inline
# object. A oneOf schema maps to one model holding the union of its variants' properties.
SCHEMAS: dict[type[BaseModel], str] = {
    pw.ModelList: "ModelList",
    pw.Model: "Model",
    pw.VideoPricing: "VideoPricing",
    pw.ChatPricing: "ChatPricing",
    pw.VideoTask: "VideoTaskAccepted",
    pw.VideoGeneration: "VideoGeneration",
    pw.VideoError: "VideoGenerationFailed/properties/error",
    pw.ChatCompletion: "ChatCompletion",
    pw.Choice: "ChatCompletion/properties/choices/items",
    pw.ChatCompletionMessage: "ChatCompletion/properties/choices/items/properties/message",
    pw.ChatCompletionChunk: "ChatCompletionChunk",
    pw.ChunkChoice: "ChatCompletionChunk/properties/choices/items",
    pw.ChunkDelta: "ChatCompletionChunk/properties/choices/items/properties/delta",
    pw.Usage: "ChatUsage",
}
# Response schemas with no model of their own, and why.
UNMODELLED = {
    "Error": "raised as APIStatusError (message, type, param, code): test_error_body_maps_to_the_exception",
    "ChatServerSentEvent": "one event on the wire, decoded as client._base.ServerSentEvent: test_sse_event_shape",
    "ChatStreamEvent": "a chunk (ChatCompletionChunk) or an Error, which the stream raises",
    "VideoGenerationPending": "a variant of VideoGeneration",
    "VideoGenerationSucceeded": "a variant of VideoGeneration",
    "VideoGenerationFailed": "a variant of VideoGeneration",
}
# Request bodies → the client method that builds them, and spec name → parameter name
# where the client uses Python's spelling.
REQUESTS: dict[str, tuple[Callable[..., Any], Callable[..., Any], dict[str, str]]] = {
    "VideoGenerationRequest": (pw.Videos.create, pw.AsyncVideos.create,
                               {"durationSec": "duration_sec", "aspectRatio": "aspect_ratio"}),
    "ChatCompletionRequest": (pw.Completions.create, pw.AsyncCompletions.create, {}),
}

SPEC = spec_module.load("perseworks")
JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object",
              type(None): "null"}


# -- reading the spec ---------------------------------------------------------------------


def resolve(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def schema_at(doc: dict[str, Any], where: str) -> dict[str, Any]:
    name, *path = where.split("/")
    node: Any = resolve(doc, doc["components"]["schemas"][name])
    for part in path:
        node = resolve(doc, node[part])
    return node


def variants(doc: dict[str, Any], schema: dict[str, Any], where: str) -> list[tuple[str, dict[str, Any]]]:
    """A schema's alternatives (itself if it has none), each with the path that names it."""
    options = schema.get("oneOf") or schema.get("anyOf")
    if not options:
        return [(where, schema)]
    return [(option["$ref"].rsplit("/", 1)[-1], resolve(doc, option)) if "$ref" in option
            else (f"{where}/oneOf/{index}", option) for index, option in enumerate(options)]


def json_types(doc: dict[str, Any], schema: Any) -> set[str]:
    """Every JSON type a value of `schema` may have."""
    schema = resolve(doc, schema)
    if not isinstance(schema, dict) or not schema:
        return {"string", "integer", "number", "boolean", "array", "object", "null"}
    if "oneOf" in schema or "anyOf" in schema:
        return set().union(*(json_types(doc, v) for _, v in variants(doc, schema, "")))
    if "const" in schema:
        return {JSON_TYPES[type(schema["const"])]}
    if "type" in schema:
        kind = schema["type"]
        return set(kind) if isinstance(kind, list) else {kind}
    if "enum" in schema:
        return {JSON_TYPES[type(v)] for v in schema["enum"]}
    return {"object"} if "properties" in schema else json_types(doc, {})


def properties(doc: dict[str, Any], where: str) -> tuple[dict[str, tuple[Any, str]], set[str]]:
    """name → (property schema, its path) over all variants, and the names every variant requires."""
    props: dict[str, tuple[Any, str]] = {}
    required: set[str] | None = None
    for base, variant in variants(doc, schema_at(doc, where), where):
        for name, prop in variant.get("properties", {}).items():
            props.setdefault(name, (prop, f"{base}/properties/{name}"))
        needed = set(variant.get("required", ()))
        required = needed if required is None else required & needed
    return props, required or set()


def referenced_models(doc: dict[str, Any], prop: Any, path: str) -> set[type[BaseModel]]:
    """The client models a property's value should hold: the mapped schemas it reaches
    by $ref, through array items and through alternatives."""
    by_path = {where: model for model, where in SCHEMAS.items()}
    found: set[type[BaseModel]] = set()

    def walk(node: Any, where: str) -> None:
        if where in by_path:
            found.add(by_path[where])
        elif isinstance(node, dict) and "$ref" in node:
            walk(resolve(doc, node), node["$ref"].rsplit("/", 1)[-1])
        elif isinstance(node, dict):
            if "oneOf" in node or "anyOf" in node:
                for sub, option in variants(doc, node, where):
                    walk(option, sub)
            if "items" in node:
                walk(node["items"], f"{where}/items")

    walk(prop, path)
    return found


# -- reading the models ---------------------------------------------------------------------


def flatten(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return [leaf for arg in typing.get_args(annotation) for leaf in flatten(arg)]
    return [annotation]


def accepted_types(annotation: Any) -> set[str]:
    out: set[str] = set()
    for leaf in flatten(annotation):
        origin = typing.get_origin(leaf) or leaf
        if origin is Literal:
            out |= {JSON_TYPES[type(v)] for v in typing.get_args(leaf)}
        elif origin is Any:
            out |= set(JSON_TYPES.values())
        elif isinstance(origin, type) and issubclass(origin, BaseModel):
            out.add("object")
        elif origin in JSON_TYPES:
            out.add(JSON_TYPES[origin])
            if origin is float:
                out.add("integer")
    return out


def model_classes(annotation: Any) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    for leaf in flatten(annotation):
        if isinstance(leaf, type) and issubclass(leaf, BaseModel):
            found.add(leaf)
        for arg in typing.get_args(leaf):
            found |= model_classes(arg)
    return found


# -- the check --------------------------------------------------------------------------------


def problems(model: type[BaseModel], where: str, doc: dict[str, Any]) -> list[str]:
    props, required = properties(doc, where)
    fields = {(info.alias or name): info for name, info in model.model_fields.items()}
    out: list[str] = []
    for name in sorted(props.keys() - fields.keys()):
        out.append(f"{model.__name__}: no field for spec property {where}.{name}")
    for name in sorted(fields.keys() - props.keys()):
        out.append(f"{model.__name__}.{name} is not a property of {where}")
    for name in sorted(props.keys() & fields.keys()):
        prop, path = props[name]
        info = fields[name]
        spec_types = json_types(doc, prop)
        model_types = accepted_types(info.annotation)
        label = f"{model.__name__}.{name} ({where})"
        if (name in required) != info.is_required():
            out.append(f"{label}: spec {'requires' if name in required else 'does not require'} it, "
                       f"the model {'requires' if info.is_required() else 'does not'}")
        if name in required and ("null" in spec_types) != ("null" in model_types):
            out.append(f"{label}: spec {'allows' if 'null' in spec_types else 'forbids'} null, the model disagrees")
        if not spec_types - {"null"} <= model_types:
            out.append(f"{label}: spec allows {sorted(spec_types)}, the model accepts {sorted(model_types)}")
        expected = referenced_models(doc, prop, path)
        if not expected <= model_classes(info.annotation):
            out.append(f"{label}: should hold {sorted(m.__name__ for m in expected)}")
    return out


@pytest.mark.parametrize("model", SCHEMAS, ids=lambda m: m.__name__)
def test_model_follows_its_schema(model: type[BaseModel]) -> None:
    assert problems(model, SCHEMAS[model], SPEC.doc) == []


def response_schemas(doc: dict[str, Any]) -> set[str]:
    """Every components/schemas name reachable from a 2xx response."""
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    walk(doc["components"]["schemas"][name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for item in doc["paths"].values():
        for op in item.values():
            for status, response in op.get("responses", {}).items():
                if str(status).startswith("2"):
                    walk(resolve(doc, response))
    return seen


def test_every_response_schema_has_a_model() -> None:
    mapped = {where.split("/")[0] for where in SCHEMAS.values()}
    assert response_schemas(SPEC.doc) - mapped - UNMODELLED.keys() == set()


def test_error_body_maps_to_the_exception() -> None:
    inner = schema_at(SPEC.doc, "Error/properties/error")
    response = httpx.Response(400, request=httpx.Request("GET", "https://api.perseworks.hk/v1/models"))
    err = pw.APIStatusError("m", response=response, body={}, code="c", param="p", type="t")
    assert all(hasattr(err, name) for name in inner["properties"])
    assert set(pw.ERROR_CODES) <= set(inner["properties"]["code"]["enum"]), "the client maps codes the spec lacks"


def test_sse_event_shape() -> None:
    props, required = properties(SPEC.doc, "ChatServerSentEvent")
    fields = {f.name: f for f in dataclasses.fields(ServerSentEvent)}
    assert set(props) == set(fields)
    assert required == {n for n, f in fields.items() if f.default is dataclasses.MISSING}


@pytest.mark.parametrize("body", REQUESTS)
def test_request_parameters_follow_the_request_schema(body: str) -> None:
    sync_method, async_method, renamed = REQUESTS[body]
    props, required = properties(SPEC.doc, body)
    params = inspect.signature(sync_method).parameters
    for name in props:
        param = params.get(renamed.get(name, name))
        assert param is not None, f"{sync_method.__qualname__} has no parameter for {body}.{name}"
        assert (name in required) == (param.default is inspect.Parameter.empty), f"{body}.{name}: required?"
    async_params = inspect.signature(async_method).parameters
    assert [(p.name, p.default) for p in async_params.values()] == [(p.name, p.default) for p in params.values()]


def test_the_client_builds_spec_valid_request_bodies() -> None:
    video = pw._video_body("seedance-2.0", "a fox", "1080p", 5, "9:16", "https://example.com/fox.png", None)
    SPEC.validate_schema("VideoGenerationRequest", video)
    chat = pw._chat_body("seed-2.0-mini", [{"role": "user", "content": "hi"}], True, None,
                         stream_options={"include_usage": True}, max_tokens=5, temperature=0.5, stop=["\n"])
    SPEC.validate_schema("ChatCompletionRequest", chat)


# -- the check itself catches drift --------------------------------------------------------------


def _mutated(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(SPEC.doc)
    edit(doc["components"]["schemas"])
    return doc


@pytest.mark.parametrize(("model", "edit", "expected"), [
    pytest.param(pw.Usage, lambda s: (s["ChatUsage"]["properties"].update(cached_tokens={"type": "integer"}),
                                      s["ChatUsage"]["required"].append("cached_tokens")),
                 "no field for spec property ChatUsage.cached_tokens", id="new-required-property"),
    pytest.param(pw.Model, lambda s: s["Model"]["required"].append("description"),
                 "Model.description (Model): spec requires it", id="optional-becomes-required"),
    pytest.param(pw.VideoGeneration,
                 lambda s: s["VideoGenerationSucceeded"]["properties"].update(cover_url={"type": "string"}),
                 "no field for spec property VideoGeneration.cover_url", id="new-property-in-a-variant"),
    pytest.param(pw.VideoGeneration,
                 lambda s: s["VideoGenerationSucceeded"]["properties"].update(duration={"type": "number"}),
                 "VideoGeneration.duration (VideoGeneration): spec allows ['number']", id="type-widens"),
    pytest.param(pw.ChunkChoice,
                 lambda s: s["ChatCompletionChunk"]["properties"]["choices"]["items"]["properties"].update(
                     finish_reason={"type": "string"}),
                 "spec forbids null", id="nullable-becomes-non-null"),
])
def test_the_check_catches_a_spec_change_the_client_missed(model: type[BaseModel],
                                                           edit: Callable[[dict[str, Any]], None],
                                                           expected: str) -> None:
    assert problems(model, SCHEMAS[model], SPEC.doc) == []
    found = problems(model, SCHEMAS[model], _mutated(edit))
    assert any(expected in p for p in found), found
