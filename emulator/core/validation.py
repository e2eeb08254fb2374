"""A fast first look at request bodies and parameters, before the reference validator.

The `jsonschema` validators of `spec.py` are the reference: their errors are what a client
reads. They are also slow (100–300 µs for a submit body, most of a submit's cost), so each is
paired with a `jsonschema_rs` validator compiled from the same schema, with the same document
for its `$ref`s and the same format checks (the reference's own `FormatChecker` functions, called
back from Rust). A value the fast validator accepts is taken as it is; anything it rejects, or
cannot judge, goes to the reference validator, which decides and words the error. So the fast
path can only ever make an accepted request cheaper, never change an error message.

Without `jsonschema_rs` installed every value goes to the reference validator, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from jsonschema import Draft202012Validator

from .spec import Spec, _formats

try:
    import jsonschema_rs
except ImportError:  # pragma: no cover - the dependency is declared; this keeps a partial install working
    jsonschema_rs = None


def _format_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        fmt = node.get("format")
        if isinstance(fmt, str):
            yield fmt
        for value in node.values():
            yield from _format_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _format_names(value)


def _conforms(name: str) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        return _formats.conforms(value, name)

    return check


class Accelerated:
    """`is_valid(validator, value)`: True only when the reference validator would accept `value`."""

    def __init__(self, spec: Spec):
        self._spec = spec
        self._compiled: dict[int, Callable[[Any], bool] | None] = {}
        self._registry: Any = None
        self._formats: dict[str, Callable[[str], bool]] = {}
        if jsonschema_rs is not None:
            self._registry = jsonschema_rs.Registry([(spec.uri, spec.doc)], draft=jsonschema_rs.Draft202012)
            self._formats = {name: _conforms(name) for name in set(_format_names(spec.doc))}

    def _compile(self, validator: Draft202012Validator) -> Callable[[Any], bool] | None:
        if jsonschema_rs is None:
            return None
        try:
            compiled = jsonschema_rs.validator_for(validator.schema, registry=self._registry, validate_formats=True,
                                                   formats=self._formats, ignore_unknown_formats=True)
        except Exception:  # a schema it cannot compile: the reference validator does all the work
            return None
        return compiled.is_valid

    def is_valid(self, validator: Draft202012Validator, value: Any) -> bool:
        key = id(validator)
        try:
            fast = self._compiled[key]
        except KeyError:
            fast = self._compiled[key] = self._compile(validator)
        if fast is None:
            return False
        try:
            return fast(value)
        except Exception:  # e.g. an integer too large for it: let the reference validator judge
            return False
