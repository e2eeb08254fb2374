"""One observed HTTP exchange, its redaction, and the on-disk format of a recorded run.

A recording is a directory:

    DIR/run.json                          the run (see `RunInfo`)
    DIR/exchanges/<vendor>/000001.json    one exchange each, numbered per vendor in the order seen

`run.json` (format 1):

    {"format": 1, "tool_version": "0.1.0",
     "started_at": "2026-11-21T10:00:00+00:00", "finished_at": "...",   # ISO 8601, UTC
     "live": true,                     # false when the target answered GET /_emulator/health
     "targets": {"genray": "https://genray.ai"},                         # base URL per vendor
     "spend": {...} | null,            # the contract suite's --spend-report, as it wrote it
     "confirmed_operations": {"genray": ["getAccount", ...]}}
     # an operation is confirmed when at least one exchange matched it and none of its
     # exchanges produced a violation

An exchange file (format 1):

    {"format": 1, "vendor": "genray", "operation": "getVideo" | null,
     "method": "GET", "url_path": "/genray/api/v1/videos/…",    # the path on the wire
     "base_path": "/genray",                                   # where the vendor's spec server URL is
     "path": "/api/v1/videos/…" | null,                         # relative to base_path; null: outside it
     "query": "a=1&b=2",
     "started_at": ISO, "duration_ms": 12.5,
     "request": {"headers": {...}, "body": BODY},
     "response": {"status": 200, "headers": {...}, "body": BODY},
     "redacted": ["/key", ...]}        # JSON pointers into the response body whose value was replaced

`operation` is the operationId the checker matched (null when the path is outside the vendor's
base path, e.g. the emulator's /media files, or is the emulator's /_emulator control API (the
suite probes /_emulator/health on every target, live ones too), or when no operation
of the spec has that method and path). Header names are lower case.

A BODY is one of `{"json": value}`, `{"text": "..."}`, `{"base64": "..."}`, `{"empty": true}`,
or `{"digest": {"size": n, "sha256": "..."}}` for bytes that are neither kept nor needed:
multipart request bodies (uploaded files), request bodies over 64 KiB, and binary responses
(images, videos), whose content type alone is checked.

Redaction (done when an exchange is captured, so a check of a recording sees what a live check
saw): the values of the headers Authorization, Proxy-Authorization, Cookie, Set-Cookie and of any
header whose name says api-key, token, secret or signature become "<redacted>"; so do string
values of JSON fields named `key`, `token`, `password`, `access_key`, `private_key`, or ending in
`api_key`/`apikey`, `secret` or `_token` (`tokens`, `total_tokens` are counts and stay), in request and
response bodies and in query parameters. The checker does not judge the value (pattern, format,
length, enum) of a response field listed in `redacted`, since it no longer has it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

FORMAT = 1
REDACTED = "<redacted>"
CONTROL_PREFIX = "/_emulator"
# The checker judges responses only; a request body is kept to read what was asked, and one this
# large (an over-limit upload, say) would only bloat a recording.
MAX_KEPT_REQUEST_BYTES = 64 * 1024

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_HEADER_WORDS = re.compile(r"api[-_]?key|token|secret|signature|password", re.IGNORECASE)
# Plural names (`tokens`, `total_tokens`, `keys`, `max_api_keys`) are counts or lists, not secrets.
_SECRET_FIELD = re.compile(r"^(.*api_?key|key|access_key|private_key|.*secret|token|.*_token|password)$",
                           re.IGNORECASE)
# Bodies kept as JSON / text; anything else is binary and kept only as a digest.
_TEXT_TYPES = re.compile(r"^(text/|application/(json|.*\+json|x-www-form-urlencoded|xml|x-ndjson))")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def media_type(headers: dict[str, str]) -> str:
    """The content type without parameters, lower case ("" when absent)."""
    return headers.get("content-type", "").split(";")[0].strip().lower()


def is_json_type(kind: str) -> bool:
    return kind == "application/json" or kind.endswith("+json")


def secret_field(name: str) -> bool:
    return bool(_SECRET_FIELD.match(name))


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names; secrets replaced. Repeated headers are joined with ", " (as HTTP allows)."""
    result: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        if name in _SECRET_HEADERS or _SECRET_HEADER_WORDS.search(name):
            value = REDACTED
        result[name] = f"{result[name]}, {value}" if name in result and value != REDACTED else value
    return result


def redact_json(value: Any, pointer: str = "", found: list[str] | None = None) -> tuple[Any, list[str]]:
    """A copy of `value` with secret string fields replaced, and the pointers replaced."""
    found = [] if found is None else found
    if isinstance(value, dict):
        copy = {}
        for name, item in value.items():
            where = f"{pointer}/{escape_pointer(str(name))}"
            if isinstance(item, str) and secret_field(str(name)):
                copy[name] = REDACTED
                found.append(where)
            else:
                copy[name] = redact_json(item, where, found)[0]
        return copy, found
    if isinstance(value, list):
        return [redact_json(item, f"{pointer}/{i}", found)[0] for i, item in enumerate(value)], found
    return value, found


def redact_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(secret_field(name) for name, _ in pairs):
        return query
    return urlencode([(name, REDACTED if secret_field(name) else value) for name, value in pairs])


def escape_pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _digest(data: bytes) -> dict[str, Any]:
    return {"digest": {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}}


def encode_body(data: bytes, kind: str, *, keep_binary: bool = False) -> tuple[dict[str, Any], list[str]]:
    """A BODY (see the module docstring) for `data` of content type `kind`, redacted; and the
    pointers redacted in it."""
    if not data:
        return {"empty": True}, []
    if kind.startswith("multipart/"):
        return _digest(data), []
    if is_json_type(kind) or (not kind and data[:1] in (b"{", b"[")):
        try:
            decoded = json.loads(data)
        except ValueError:
            pass
        else:
            value, redacted = redact_json(decoded)
            return {"json": value}, redacted
    if _TEXT_TYPES.match(kind) or not kind:
        try:
            return {"text": data.decode("utf-8")}, []
        except UnicodeDecodeError:
            pass
    if keep_binary:
        return {"base64": base64.b64encode(data).decode("ascii")}, []
    return _digest(data), []


def decode_body(body: dict[str, Any]) -> bytes | None:
    """The bytes of a BODY, or None when only a digest was kept."""
    if "json" in body:
        return json.dumps(body["json"], ensure_ascii=False).encode()
    if "text" in body:
        return body["text"].encode()
    if "base64" in body:
        return base64.b64decode(body["base64"])
    if body.get("empty"):
        return b""
    return None


@dataclass
class Exchange:
    """One request and its response, as recorded (already redacted)."""

    vendor: str
    method: str
    url_path: str
    base_path: str
    query: str
    status: int
    request_headers: dict[str, str]
    request_body: dict[str, Any]
    response_headers: dict[str, str]
    response_body: dict[str, Any]
    started_at: str
    duration_ms: float
    redacted: list[str] = field(default_factory=list)
    operation: str | None = None
    file: str | None = None  # where it was saved or loaded from, relative to the recording; or "#<n>"

    @classmethod
    def capture(cls, *, vendor: str, method: str, url_path: str, base_path: str, query: str,
                request_headers: Iterable[tuple[str, str]], request_body: bytes, status: int,
                response_headers: Iterable[tuple[str, str]], response_body: bytes, started_at: str,
                duration_ms: float) -> Exchange:
        """An exchange from what went over the wire, redacted."""
        request_headers = redact_headers(request_headers)
        response_headers = redact_headers(response_headers)
        if len(request_body) > MAX_KEPT_REQUEST_BYTES:
            request: dict[str, Any] = _digest(request_body)
        else:
            request, _ = encode_body(request_body, media_type(request_headers))
        response, redacted = encode_body(response_body, media_type(response_headers))
        return cls(vendor=vendor, method=method.upper(), url_path=url_path, base_path=base_path.rstrip("/"),
                   query=redact_query(query), status=status, request_headers=request_headers, request_body=request,
                   response_headers=response_headers, response_body=response, started_at=started_at,
                   duration_ms=round(duration_ms, 3), redacted=redacted)

    @property
    def path(self) -> str | None:
        """The path relative to the vendor's base path, or None when it lies outside it (the
        emulator's control API always does, even for a vendor whose base path is the root)."""
        if self.url_path == CONTROL_PREFIX or self.url_path.startswith(CONTROL_PREFIX + "/"):
            return None
        base = self.base_path
        if not base:
            return self.url_path or "/"
        if self.url_path == base:
            return ""
        if self.url_path.startswith(base + "/"):
            return self.url_path[len(base):]
        return None

    @property
    def media_type(self) -> str:
        return media_type(self.response_headers)

    @cached_property
    def body_bytes(self) -> bytes | None:
        return decode_body(self.response_body)

    @cached_property
    def body_json(self) -> Any:
        """The response body decoded as JSON (ValueError when it is not JSON)."""
        if "json" in self.response_body:
            return self.response_body["json"]
        data = self.body_bytes
        if data is None:
            raise ValueError("the body was not kept")
        return json.loads(data)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "vendor": self.vendor, "operation": self.operation, "method": self.method,
                "url_path": self.url_path, "base_path": self.base_path, "path": self.path, "query": self.query,
                "started_at": self.started_at, "duration_ms": self.duration_ms,
                "request": {"headers": self.request_headers, "body": self.request_body},
                "response": {"status": self.status, "headers": self.response_headers, "body": self.response_body},
                "redacted": self.redacted}

    @classmethod
    def from_dict(cls, data: dict[str, Any], file: str | None = None) -> Exchange:
        if data.get("format") != FORMAT:
            raise ValueError(f"{file or 'exchange'}: unknown format {data.get('format')!r}")
        return cls(vendor=data["vendor"], method=data["method"], url_path=data["url_path"],
                   base_path=data["base_path"], query=data.get("query", ""), status=data["response"]["status"],
                   request_headers=data["request"]["headers"], request_body=data["request"]["body"],
                   response_headers=data["response"]["headers"], response_body=data["response"]["body"],
                   started_at=data["started_at"], duration_ms=data["duration_ms"],
                   redacted=list(data.get("redacted", [])), operation=data.get("operation"), file=file)


@dataclass
class RunInfo:
    """What `run.json` holds (see the module docstring)."""

    tool_version: str
    started_at: str
    finished_at: str | None
    live: bool
    targets: dict[str, str]
    spend: dict[str, Any] | None = None
    confirmed_operations: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "tool_version": self.tool_version, "started_at": self.started_at,
                "finished_at": self.finished_at, "live": self.live, "targets": self.targets, "spend": self.spend,
                "confirmed_operations": self.confirmed_operations}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInfo:
        if data.get("format") != FORMAT:
            raise ValueError(f"run.json: unknown format {data.get('format')!r}")
        return cls(tool_version=data["tool_version"], started_at=data["started_at"],
                   finished_at=data.get("finished_at"), live=bool(data["live"]), targets=dict(data["targets"]),
                   spend=data.get("spend"), confirmed_operations=dict(data.get("confirmed_operations") or {}))


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_run(directory: Path, run: RunInfo) -> None:
    write_json(directory / "run.json", run.to_dict())


def save(directory: Path, run: RunInfo, exchanges: Iterable[Exchange]) -> None:
    """Write a recording: run.json and one file per exchange (replacing a previous recording's)."""
    exchanges = list(exchanges)
    folder = directory / "exchanges"
    if folder.is_dir():
        for old in folder.glob("*/*.json"):
            old.unlink()
    assign_files(exchanges)
    for exchange in exchanges:
        write_json(directory / str(exchange.file), exchange.to_dict())
    write_run(directory, run)


def assign_files(exchanges: list[Exchange]) -> None:
    """Name each exchange as `save` writes it (`exchanges/<vendor>/000001.json`, numbered per
    vendor in order), so that findings made before saving point at the files."""
    counters: dict[str, int] = {}
    for exchange in exchanges:
        counters[exchange.vendor] = counters.get(exchange.vendor, 0) + 1
        exchange.file = f"exchanges/{exchange.vendor}/{counters[exchange.vendor]:06d}.json"


def load_run(directory: Path) -> RunInfo:
    return RunInfo.from_dict(json.loads((directory / "run.json").read_text()))


def load_exchanges(directory: Path, vendors: Iterable[str] | None = None) -> Iterator[Exchange]:
    """The recorded exchanges, per vendor in file order (only `vendors`' when given)."""
    wanted = set(vendors) if vendors is not None else None
    folder = directory / "exchanges"
    for vendor_dir in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else ():
        if wanted is not None and vendor_dir.name not in wanted:
            continue
        for file in sorted(vendor_dir.glob("*.json")):
            relative = file.relative_to(directory).as_posix()
            yield Exchange.from_dict(json.loads(file.read_text()), file=relative)
