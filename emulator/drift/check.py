"""The drift checker: every recorded exchange against the vendor's OpenAPI document.

Each finding is classified:

- `violation`: the response breaks the documented contract, and a client written from the
  document can break on it: an undocumented status (`undocumented-status`), an undocumented
  content type (`undocumented-content-type`), a body that is not JSON where JSON is documented
  (`invalid-json`), a missing required field (`missing-required`), a value of the wrong type,
  enum, const, format, pattern, length or range (`schema-<keyword>`), a missing required header
  (`missing-header`), and a contract test that failed (`contract-test-failed`, added by the command);
- `undocumented`: the response has something the document does not mention: a field no schema
  declares (`unknown-field`; reported once, as undocumented, even where the schema says
  `additionalProperties: false`), or a documented-looking answer from an operation the
  document does not have (`unknown-operation`; not for 404/405, which the suites provoke on purpose).

Findings are deduplicated per (vendor, operation, status, rule, pointer with array indices
generalized); `count` says how many times one was seen, `exchange` names the first exchange.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..core import spec as spec_module
from .exchange import Exchange, escape_pointer, is_json_type

VIOLATION = "violation"
UNDOCUMENTED = "undocumented"
# Statuses a suite provokes on purpose at paths or methods the document does not have.
_PROBE_STATUSES = frozenset({404, 405})
# Keywords that judge a value rather than its presence or type: not judged on a redacted field.
_VALUE_KEYWORDS = frozenset({"pattern", "format", "minLength", "maxLength", "enum", "const", "contentEncoding"})
# Keywords reported as `unknown-field` by the schema walk instead.
_EXTRA_KEYWORDS = frozenset({"additionalProperties", "unevaluatedProperties"})
_INDEX = re.compile(r"/\d+(?=/|$)")


@dataclass
class Finding:
    vendor: str
    operation: str | None
    method: str
    path: str  # the operation's path template; the concrete path for an unknown operation
    status: int | None
    classification: str
    rule: str
    pointer: str
    message: str
    exchange: str | None  # the first exchange it was seen in (a recording's file, or "#n" in a run)
    count: int = 1
    test: str | None = None  # the contract test's node id (contract-test-failed)

    @property
    def key(self) -> tuple[Any, ...]:
        where = self.operation or f"{self.method} {self.path}"
        return (self.vendor, where, self.status, self.rule, _INDEX.sub("/*", self.pointer), self.test)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)


@dataclass
class OperationSeen:
    exchanges: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    # vendor → operationId → what was seen
    operations: dict[str, dict[str, OperationSeen]] = field(default_factory=dict)
    outside_spec: dict[str, int] = field(default_factory=dict)  # per vendor: /_emulator, media, …
    checked: int = 0

    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.classification == VIOLATION]

    def undocumented(self) -> list[Finding]:
        return [f for f in self.findings if f.classification == UNDOCUMENTED]

    def confirmed_operations(self) -> dict[str, list[str]]:
        """Per vendor, the operations seen at least once with no violation."""
        broken = {(f.vendor, f.operation) for f in self.violations()}
        return {vendor: sorted(op for op in ops if (vendor, op) not in broken)
                for vendor, ops in self.operations.items()}


# (classification, rule, pointer, message) → a Finding about the exchange being checked
MakeFinding = Callable[[str, str, str, str], Finding]
IsValid = Callable[[spec_module.Spec, dict[str, Any], Any], bool]


def pointer_of(path: Iterable[Any]) -> str:
    return "".join(f"/{escape_pointer(str(part))}" for part in path)


def _generalize(findings: Iterable[Finding]) -> list[Finding]:
    merged: dict[tuple[Any, ...], Finding] = {}
    for finding in findings:
        seen = merged.get(finding.key)
        if seen is None:
            merged[finding.key] = finding
        else:
            seen.count += finding.count
    return list(merged.values())


class Checker:
    """Checks exchanges of any of the four vendors against their specs (loaded once)."""

    def __init__(self) -> None:
        self._validators: dict[tuple[str, int], Draft202012Validator] = {}

    def _validator(self, spec: spec_module.Spec, schema: dict[str, Any]) -> Draft202012Validator:
        key = (spec.uri, id(schema))
        validator = self._validators.get(key)
        if validator is None:
            validator = self._validators[key] = spec.validator(spec.absolutize(schema))
        return validator

    # -- one exchange -----------------------------------------------------------------------

    def match(self, exchange: Exchange) -> spec_module.Operation | None:
        """The exchange's operation (and set `exchange.operation`), None outside the spec or unknown."""
        path = exchange.path
        op = None if path is None else spec_module.load(exchange.vendor).match(exchange.method, path or "/")
        exchange.operation = op.id if op else None
        return op

    def check(self, exchange: Exchange) -> list[Finding]:
        spec = spec_module.load(exchange.vendor)
        op = self.match(exchange)
        path = exchange.path
        if path is None:
            return []

        def finding(classification: str, rule: str, pointer: str, message: str) -> Finding:
            return Finding(exchange.vendor, op.id if op else None, exchange.method, op.path if op else path,
                           exchange.status, classification, rule, pointer, message, exchange.file)

        if op is None:
            if exchange.status in _PROBE_STATUSES:
                return []
            return [finding(UNDOCUMENTED, "unknown-operation", "",
                            f"{exchange.method} {path or '/'} is not in openapi/{exchange.vendor}.yaml "
                            f"but answered {exchange.status}")]
        responses = {str(code): response for code, response in op.responses.items()}  # YAML may give ints
        status = str(exchange.status)
        declared = responses.get(status) or responses.get(f"{status[0]}XX") or responses.get("default")
        if declared is None:
            documented = ", ".join(sorted(responses))
            return [finding(VIOLATION, "undocumented-status", "",
                            f"status {exchange.status} is not documented for {op.id} (documented: {documented})")]
        declared = spec.resolve(declared)
        found = [finding(VIOLATION, "missing-header", f"/headers/{name.lower()}",
                         f"required response header {name} is missing")
                 for name, header in (declared.get("headers") or {}).items()
                 if spec.resolve(header).get("required") and name.lower() not in exchange.response_headers]
        content = declared.get("content") or {}
        kind = exchange.media_type
        if not content:
            if exchange.body_bytes or exchange.response_body.get("digest"):
                found.append(finding(VIOLATION, "undocumented-content-type", "",
                                     f"a {kind or 'untyped'} body, but {op.id} {status} documents none"))
            return found
        entry = content.get(kind) or content.get(kind.split("/")[0] + "/*") or content.get("*/*")
        if entry is None:
            found.append(finding(VIOLATION, "undocumented-content-type", "",
                                 f"content type {kind or '(none)'} is not documented for {op.id} {status} "
                                 f"(documented: {', '.join(content)})"))
            return found
        if kind == "text/event-stream":
            item = entry.get("x-item-schema")
            if item is not None:
                found.extend(self._check_stream(spec, item, exchange, finding))
            return found
        schema = entry.get("schema")
        if schema is None or not is_json_type(kind):
            return found
        try:
            body = exchange.body_json
        except ValueError as err:
            found.append(finding(VIOLATION, "invalid-json", "", f"the body is not JSON: {err}"))
            return found
        found.extend(self._check_value(spec, schema, body, "", set(exchange.redacted), finding))
        return found

    def _check_stream(self, spec: spec_module.Spec, item: dict[str, Any], exchange: Exchange,
                      finding: MakeFinding) -> Iterator[Finding]:
        text = (exchange.body_bytes or b"").decode("utf-8", "replace")
        index = 0
        for line in text.splitlines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                continue
            where = f"/events/{index}"
            index += 1
            try:
                event = json.loads(data)
            except ValueError as err:
                yield finding(VIOLATION, "invalid-json", where, f"an event's data is not JSON: {err}")
                continue
            yield from self._check_value(spec, item, event, where, set(), finding)

    def _check_value(self, spec: spec_module.Spec, schema: dict[str, Any], value: Any, root: str,
                     redacted: set[str], finding: MakeFinding) -> Iterator[Finding]:
        validator = self._validator(spec, schema)
        for error in validator.iter_errors(value):
            for leaf in _leaves(spec, error):
                pointer = root + pointer_of(leaf.absolute_path)
                if leaf.validator == "required":
                    missing = _required_name(leaf)
                    yield finding(VIOLATION, "missing-required", f"{pointer}/{escape_pointer(missing)}",
                                  f"required field '{missing}' is missing")
                    continue
                if leaf.validator in _VALUE_KEYWORDS and pointer in redacted:
                    continue
                yield finding(VIOLATION, f"schema-{leaf.validator}", pointer, _short(leaf.message))
        for pointer, name in undeclared_fields(spec, schema, value, root, self._is_valid):
            yield finding(UNDOCUMENTED, "unknown-field", pointer, f"field '{name}' is not in the schema")

    def _is_valid(self, spec: spec_module.Spec, schema: dict[str, Any], value: Any) -> bool:
        return self._validator(spec, schema).is_valid(value)

    # -- many --------------------------------------------------------------------------------

    def check_all(self, exchanges: Iterable[Exchange]) -> CheckResult:
        result = CheckResult()
        raw: list[Finding] = []
        for exchange in exchanges:
            raw.extend(self.check(exchange))
            if exchange.path is None:
                result.outside_spec[exchange.vendor] = result.outside_spec.get(exchange.vendor, 0) + 1
                continue
            result.checked += 1
            if exchange.operation is not None:
                seen = result.operations.setdefault(exchange.vendor, {}).setdefault(exchange.operation,
                                                                                    OperationSeen())
                seen.exchanges += 1
                seen.statuses[str(exchange.status)] = seen.statuses.get(str(exchange.status), 0) + 1
        result.findings = _generalize(raw)
        return result


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[:limit] + "…"


def _required_name(error: ValidationError) -> str:
    match = re.match(r"'([^']+)' is a required property", str(error.message))
    return match.group(1) if match else str(error.message)


def _leaves(spec: spec_module.Spec, error: ValidationError) -> list[ValidationError]:
    """The errors to report for one validation error: itself, or for a failed oneOf/anyOf the
    errors of the branch the value most likely meant. None when the only trouble is an
    undeclared field (reported by the schema walk)."""
    if error.validator in _EXTRA_KEYWORDS:
        return []
    if not error.context or error.validator not in ("oneOf", "anyOf"):
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    depth = len(error.absolute_path)
    members = set(error.instance) if isinstance(error.instance, dict) else set()
    best: list[ValidationError] | None = None
    best_rank: tuple[int, int, int] | None = None
    for index, errors in branches.items():
        leaves = [leaf for sub in errors for leaf in _leaves(spec, sub)]
        if not leaves:
            return []  # a branch fits but for an undeclared field
        # The meant branch declares most of the object's members, and its discriminating values
        # (a const or enum of a member, the value's own type) match.
        explained = len(members & _declared_names(spec, error.validator_value[index]))
        mismatched = sum(1 for leaf in leaves
                         if (leaf.validator in ("const", "enum") and len(leaf.absolute_path) <= depth + 1)
                         or (leaf.validator == "type" and len(leaf.absolute_path) == depth))
        rank = (-explained, mismatched, len(leaves))
        if best_rank is None or rank < best_rank:
            best, best_rank = leaves, rank
    return best or [error]


def _resolve(spec: spec_module.Spec, schema: Any) -> Any:
    """`schema` with its $ref followed (absolutized refs too, as validators carry them)."""
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        schema = spec.resolve({"$ref": "#" + schema["$ref"].split("#", 1)[1]})
    return schema


def _declared_names(spec: spec_module.Spec, schema: Any) -> set[str]:
    """The member names a schema declares itself or through allOf."""
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict):
        return set()
    names = set(schema.get("properties") or {})
    for part in schema.get("allOf", []):
        names |= _declared_names(spec, part)
    return names


def undeclared_fields(spec: spec_module.Spec, schema: dict[str, Any], value: Any, root: str,
                      is_valid: IsValid) -> list[tuple[str, str]]:
    """(pointer, name) of each object member in `value` that no applicable schema declares.

    Walks the schema alongside the value through $ref, allOf, oneOf/anyOf (the branches the
    value is valid against, else every branch), properties, patternProperties, items and
    prefixItems. An object schema with `additionalProperties` given as a schema or `true`
    declares every member; a schema that says nothing of an object's members (no properties,
    patternProperties or additionalProperties anywhere) is not judged.
    """
    found: list[tuple[str, str]] = []
    _walk(spec, [schema], value, root, is_valid, found)
    return found


def _applicable(spec: spec_module.Spec, schemas: list[Any], value: Any, is_valid: IsValid) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    pending = list(schemas)
    while pending:
        schema = pending.pop(0)
        if not isinstance(schema, dict):
            continue
        schema = spec.resolve(schema)
        result.append(schema)
        pending.extend(schema.get("allOf", []))
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if branches:
                fitting = [b for b in branches if is_valid(spec, b, value)]
                pending.extend(fitting or branches)
        for keyword in ("then", "else"):
            if keyword in schema:
                pending.append(schema[keyword])
    return result


def _walk(spec: spec_module.Spec, schemas: list[Any], value: Any, pointer: str, is_valid: IsValid,
          found: list[tuple[str, str]]) -> None:
    if not isinstance(value, dict | list):
        return
    applicable = _applicable(spec, schemas, value, is_valid)
    if isinstance(value, list):
        for index, item in enumerate(value):
            item_schemas: list[Any] = []
            for schema in applicable:
                prefix = schema.get("prefixItems") or []
                if index < len(prefix):
                    item_schemas.append(prefix[index])
                elif isinstance(schema.get("items"), dict):
                    item_schemas.append(schema["items"])
            if item_schemas:
                _walk(spec, item_schemas, item, f"{pointer}/{index}", is_valid, found)
        return
    shaped = any(k in s for s in applicable for k in ("properties", "patternProperties", "additionalProperties"))
    if not shaped:
        return
    open_schemas = [s["additionalProperties"] for s in applicable
                    if s.get("additionalProperties") is True or isinstance(s.get("additionalProperties"), dict)]
    for name, member in value.items():
        member_schemas = [s["properties"][name] for s in applicable if name in (s.get("properties") or {})]
        member_schemas += [sub for s in applicable for pattern, sub in (s.get("patternProperties") or {}).items()
                           if re.search(pattern, name)]
        where = f"{pointer}/{escape_pointer(str(name))}"
        if not member_schemas:
            member_schemas = [s for s in open_schemas if isinstance(s, dict)]
            if not open_schemas:
                found.append((where, str(name)))
                continue
        _walk(spec, member_schemas, member, where, is_valid, found)
