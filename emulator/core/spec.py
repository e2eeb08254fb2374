"""OpenAPI documents as the single source of truth for shapes.

Loads `openapi/<vendor>.yaml`, compiles a JSON Schema (2020-12) validator for every
request body and response, coerces query and path parameters by their declared schema,
and matches concrete paths back to operations (for response validation in tests and in
drift checks).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def _spec_dir() -> Path:
    """openapi/ of the source tree (a checkout or an editable install), else where a wheel puts
    it (`<prefix>/share/seedance-emulator/openapi`, see pyproject's data-files), unless
    SEEDANCE_SPEC_DIR says otherwise."""
    if os.environ.get("SEEDANCE_SPEC_DIR"):
        return Path(os.environ["SEEDANCE_SPEC_DIR"])
    source = Path(__file__).resolve().parents[2] / "openapi"
    if source.is_dir():
        return source
    return Path(sys.prefix) / "share" / "seedance-emulator" / "openapi"


SPEC_DIR = _spec_dir()
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

_formats = FormatChecker()


@_formats.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc or parts.scheme in ("data", "asset"))


@dataclass(slots=True)
class Parameter:
    name: str
    location: str  # path | query | header
    required: bool
    schema: dict[str, Any]
    validator: Draft202012Validator
    # An exact stand-in for `validator.is_valid` when the schema is that simple (see `_fast_check`).
    fast_check: Callable[[Any], bool] | None = None


def _fast_check(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """A plain predicate for a string parameter with at most length bounds (a path id), so a
    valid value skips the general validator on every request; None for any other schema."""
    if schema.get("type") != "string" or set(schema) - {"type", "minLength", "maxLength", "description"}:
        return None
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if high is None:
        return lambda value: isinstance(value, str) and len(value) >= low
    return lambda value: isinstance(value, str) and low <= len(value) <= high


@dataclass(slots=True)
class Operation:
    id: str
    method: str
    path: str
    parameters: list[Parameter]
    body_required: bool
    body_validator: Draft202012Validator | None
    body_media_types: tuple[str, ...]
    secured: bool
    responses: dict[str, dict[str, Any]]
    path_regex: re.Pattern[str] = field(repr=False, default=re.compile(""))
    # Form bodies (multipart/form-data, application/x-www-form-urlencoded) by media type: the
    # validator, the properties' schemas (to coerce text fields) and the names of file fields.
    form_bodies: dict[str, FormBody] = field(default_factory=dict)


FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@dataclass(slots=True)
class FormBody:
    validator: Draft202012Validator
    properties: dict[str, dict[str, Any]]
    file_fields: frozenset[str]


class SchemaError(Exception):
    """A value does not match its schema: `param` names where, `message` says what."""

    def __init__(self, param: str | None, message: str):
        super().__init__(message)
        self.param = param
        self.message = message


def _param_name(error: ValidationError, root: str | None) -> str | None:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.message, str):
        match = re.match(r"'([^']+)' is a required property", error.message)
        if match:
            path.append(match.group(1))
    elif error.validator == "additionalProperties":
        match = re.search(r"\('([^']+)'", error.message)
        if match:
            path.append(match.group(1))
    if root:
        path.insert(0, root)
    return ".".join(path) or None


def _message(error: ValidationError, param: str | None) -> str:
    where = f"'{param}'" if param else "the request body"
    if error.validator == "required":
        return f"missing required parameter {where}"
    if error.validator == "additionalProperties":
        return f"unknown parameter {where}"
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"invalid value for {where}: must be one of {allowed}"
    if error.validator == "type":
        return f"invalid type for {where}: expected {error.validator_value}"
    return f"invalid value for {where}: {error.message}"


def check(validator: Draft202012Validator, value: Any, root: str | None = None) -> None:
    """Raise SchemaError naming the most relevant problem, if any."""
    error = best_match(validator.iter_errors(value))
    if error is not None:
        param = _param_name(error, root)
        raise SchemaError(param, _message(error, param))


class Spec:
    def __init__(self, path: Path):
        self.path = path
        self.doc: dict[str, Any] = yaml.safe_load(path.read_text())
        self.uri = f"urn:seedance-emulator:{path.stem}"
        self.registry: Registry = Registry().with_resource(
            self.uri, Resource.from_contents(self.doc, default_specification=DRAFT202012)
        )
        server = (self.doc.get("servers") or [{"url": "/"}])[0]["url"]
        self.base_path = urlsplit(server).path.rstrip("/")
        # A vendor whose document names a base URL deeper than the spec's server (Genray's /api/v1)
        # says so with `x-documented-base-url`; `server_url` maps either form to the server's.
        documented = urlsplit(self.doc.get("x-documented-base-url") or server).path.rstrip("/")
        self.documented_suffix = documented[len(self.base_path):] if documented.startswith(self.base_path) else ""
        self.operations: dict[str, Operation] = {}
        self._response_validators: dict[tuple[str, int, str], Draft202012Validator] = {}
        self._named_validators: dict[str, Draft202012Validator] = {}
        self._load_operations()

    def server_url(self, base_url: str) -> str:
        """`base_url` as the spec's server URL, whether it was given as the server's or as the
        vendor's documented base URL."""
        url = base_url.rstrip("/")
        if self.documented_suffix and url.endswith(self.documented_suffix):
            url = url[: -len(self.documented_suffix)]
        return url

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator(schema, registry=self.registry, format_checker=_formats)

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"].removeprefix("#/").split("/")
            target: Any = self.doc
            for part in pointer:
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _load_operations(self) -> None:
        default_security = self.doc.get("security", [])
        for path, item in self.doc.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                op = item.get(method)
                if op is None:
                    continue
                op_id = op.get("operationId")
                if not op_id:
                    raise ValueError(f"{self.path.name}: {method.upper()} {path} has no operationId")
                params = []
                for raw in [*shared, *op.get("parameters", [])]:
                    p = self.resolve(raw)
                    schema = self.absolutize(p.get("schema", {}))
                    params.append(Parameter(p["name"], p["in"], bool(p.get("required")), schema,
                                            self.validator(schema), _fast_check(schema)))
                body = self.resolve(op.get("requestBody", {})) if "requestBody" in op else None
                body_validator = None
                media_types: tuple[str, ...] = ()
                if body:
                    content = body.get("content", {})
                    media_types = tuple(content)
                    json_schema = content.get("application/json", {}).get("schema")
                    if json_schema is not None:
                        body_validator = self.validator(self.absolutize(json_schema))
                form_bodies = {media: self._form_body(content[media]["schema"])
                               for media in FORM_MEDIA_TYPES if body and media in body.get("content", {})}
                security = op.get("security", default_security)
                regex = "^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
                self.operations[op_id] = Operation(
                    id=op_id, method=method.upper(), path=path, parameters=params,
                    body_required=bool(body and body.get("required")),
                    body_validator=body_validator, body_media_types=media_types,
                    secured=bool(security) and security != [{}],
                    responses=op.get("responses", {}), path_regex=re.compile(regex),
                    form_bodies=form_bodies,
                )

    def _form_body(self, schema: dict[str, Any]) -> FormBody:
        resolved = self.resolve(schema)
        properties = {name: self.resolve(prop) for name, prop in resolved.get("properties", {}).items()}
        def is_file(prop: dict[str, Any]) -> bool:
            if prop.get("type") == "array":
                return is_file(self.resolve(prop.get("items", {})))
            return prop.get("format") == "binary" or bool(prop.get("contentMediaType"))

        files = frozenset(name for name, prop in properties.items()
                          if is_file(prop))
        return FormBody(self.validator(self.absolutize(schema)), properties, files)

    def absolutize(self, schema: Any) -> Any:
        """Rewrite local `#/...` refs to the registered document's URI."""
        if isinstance(schema, dict):
            return {k: (self.uri + v if k == "$ref" and isinstance(v, str) and v.startswith("#")
                        else self.absolutize(v)) for k, v in schema.items()}
        if isinstance(schema, list):
            return [self.absolutize(v) for v in schema]
        return schema

    # -- responses (tests, drift checks) -------------------------------------------------

    def match(self, method: str, path: str) -> Operation | None:
        """The operation for a concrete path relative to the server's base path."""
        for op in self.operations.values():
            if op.method == method.upper() and op.path_regex.match(path):
                return op
        return None

    def response_schema(self, op: Operation, status: int, media_type: str) -> dict[str, Any] | None:
        responses = op.responses
        spec_response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if spec_response is None:
            raise SchemaError(None, f"{op.id}: status {status} is not documented")
        spec_response = self.resolve(spec_response)
        content = spec_response.get("content")
        if not content:
            return None
        entry = content.get(media_type)
        if entry is None:
            raise SchemaError(None, f"{op.id}: {status} with content type {media_type!r} is not documented")
        schema = entry.get("schema")
        return None if schema is None else self.absolutize(schema)

    def validate_response(self, op: Operation, status: int, media_type: str, body: Any) -> None:
        """Raise SchemaError if (status, media type, body) is not what the spec documents."""
        key = (op.id, status, media_type)
        validator = self._response_validators.get(key)
        if validator is None:
            schema = self.response_schema(op, status, media_type)
            if schema is None or media_type != "application/json":
                return
            validator = self._response_validators[key] = self.validator(schema)
        check(validator, body)

    def validate_schema(self, name: str, value: Any) -> None:
        """Validate `value` against `#/components/schemas/<name>`."""
        validator = self._named_validators.get(name)
        if validator is None:
            ref = {"$ref": f"{self.uri}#/components/schemas/{name}"}
            validator = self._named_validators[name] = self.validator(ref)
        check(validator, value)


@cache
def load(name: str) -> Spec:
    return Spec(SPEC_DIR / f"{name}.yaml")


def coerce(raw: str | list[str], schema: dict[str, Any]) -> Any:
    """A query/path string as the type its schema declares (so it can be validated)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "array":
        items = raw if isinstance(raw, list) else [raw]
        return [coerce(v, schema.get("items", {})) for v in items]
    if isinstance(raw, list):
        raw = raw[-1]
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    return raw
