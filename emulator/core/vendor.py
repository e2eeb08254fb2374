"""What every vendor package provides, and the request pipeline they all share.

HTTP → route bound to an operationId → auth (the vendor's style) → rate limit (per key)
→ schema validation (the vendor's spec) → the vendor's handler (rules → pricing → ledger
→ lifecycle → render). Errors at any stage are `ApiError`s rendered by the vendor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .accounts import Account, ApiKey
from .errors import ApiError, StartupError
from .faults import Effect
from .scenarios import HEADER as SCENARIO_HEADER
from .spec import FormBody, Operation, SchemaError, Spec, check, coerce, load
from .uploads import UploadedFile
from .validation import Accelerated

if TYPE_CHECKING:
    from .runtime import Emulator

log = logging.getLogger("seedance_emulator.http")

AuthStyle = Literal["bearer", "raw_or_bearer"]
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
Handler = Callable[["Call"], Awaitable[Response]]


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class EventStream(Response):
    """A text/event-stream answer whose events are all known when it starts: sent as a chunked
    stream (no Content-Length, as a live stream has none), but in one write rather than one per
    event. Each event is still its own `data:` block; only the transport's framing is shared.
    (Starlette's `StreamingResponse` runs a task group per stream and a send per event: a short
    chat stream spent more on that than on everything else.)"""

    media_type = "text/event-stream"

    def __init__(self, events: Iterable[bytes], headers: Mapping[str, str] | None = None):
        self.status_code = 200
        self.background = None
        self.events = b"".join(events)
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.events, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class Handlers:
    """Handlers by operationId; the spec decides paths and methods, never the handler."""

    def __init__(self) -> None:
        self.by_operation: dict[str, Handler] = {}

    def operation(self, operation_id: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if operation_id in self.by_operation:
                raise StartupError(f"two handlers for operation {operation_id}")
            self.by_operation[operation_id] = fn
            return fn

        return register


@dataclass(slots=True)
class Call:
    """One request as a handler sees it: authenticated, limited and schema-valid."""

    emulator: Emulator
    vendor: Vendor
    operation: Operation
    request: Request
    key: ApiKey | None
    account: Account | None
    body: Any
    params: dict[str, Any]
    scenario_header: str | None

    @property
    def now(self) -> float:
        return self.emulator.clock.now()

    @property
    def origin(self) -> str:
        """Where this server is reached, for absolute media URLs."""
        public = self.emulator.settings.public_url
        if public:
            return public.rstrip("/")
        host = self.request.headers.get("host") or "127.0.0.1"
        # The scope's scheme, not `request.url.scheme`: building the URL object costs more
        # than the rest of a poll's rendering.
        return f"{self.request.scope.get('scheme', 'http')}://{host}"


ErrorFactory = Callable[..., ApiError]


@dataclass
class Vendor:
    name: str
    prefix: str
    spec_name: str
    handlers: Handlers
    auth: AuthStyle
    key_prefix: str
    render_error: Callable[[ApiError], Response]
    error: ErrorFactory  # error(kind, message, **extra) for the pipeline's own errors
    default_rpm: int = 0
    max_body_bytes: int = 10 * 1024 * 1024
    trial_credits: int = 0
    credits_per_usd: int = 100
    top_up_bonus: Callable[[float], float] = lambda usd: 0.0
    install: Callable[[Emulator], None] = lambda emulator: None
    account_extras: Callable[[Emulator, Account, ApiKey, dict[str, Any]], dict[str, Any]] = (
        lambda emulator, account, key, body: {}
    )
    # How many active keys an account may have (None: no limit); the control API keeps to it.
    max_keys: Callable[[Emulator, Account], int | None] = lambda emulator, account: None
    # Refuse an account body (ValueError, said to the control API's caller) before anything is made.
    check_account: Callable[[Emulator, dict[str, Any]], None] = lambda emulator, body: None
    # Requests per minute for a key when the vendor sets it by plan (0 = unlimited); None: a
    # key's own `rate_limit_rpm`, else `default_rpm`. A key's own figure always wins.
    rate_limit_for: Callable[[Emulator, Account, ApiKey], int] | None = None
    # Rebuild what the vendor keeps beside the core's state after `--state` was loaded.
    restore: Callable[[Emulator], None] = lambda emulator: None
    # What the account has in the vendor's own asset store (assets, uploads), for the inspector
    # page: one JSON-ready dict per item with at least id, kind, status and created_at.
    describe_assets: Callable[[Emulator, Account], list[dict[str, Any]]] = lambda emulator, account: []
    # The vendor's documented price table: names → numbers (or tables of them). A config's
    # `[vendors.<name>.prices]` may change any figure (never add one); handlers read the result
    # from `emulator.prices[<name>]`.
    prices: dict[str, Any] = field(default_factory=dict)
    spec: Spec = field(init=False)

    def __post_init__(self) -> None:
        self.spec = load(self.spec_name)
        bound = set(self.handlers.by_operation)
        documented = set(self.spec.operations)
        if documented - bound:
            raise StartupError(f"{self.name}: operations with no handler: {sorted(documented - bound)}")
        if bound - documented:
            raise StartupError(f"{self.name}: handlers with no operation: {sorted(bound - documented)}")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def _key_from(header: str | None, style: AuthStyle) -> str | None:
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    if style == "raw_or_bearer" and not rest:
        return header.strip()
    return None


async def _read_body(request: Request, limit: int, vendor: Vendor) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise vendor.error("too_large", f"request body over {limit} bytes")
    # The ASGI messages read directly (not `request.stream()`, an async generator per request).
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise vendor.error("too_large", f"request body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = request._body = b"".join(chunks)  # what Starlette's own readers (the form parser) read
    return body


class Pipeline:
    """Builds a vendor's routes from its spec and runs every request through the same stages."""

    def __init__(self, emulator: Emulator, vendor: Vendor):
        self.emulator = emulator
        self.vendor = vendor
        self.fast = Accelerated(vendor.spec)

    def routes(self) -> list[Route]:
        by_path: dict[str, dict[str, Operation]] = {}
        for op in self.vendor.spec.operations.values():
            by_path.setdefault(op.path, {})[op.method] = op
        return [Route(path, self._endpoint(ops), methods=ALL_METHODS) for path, ops in by_path.items()]

    def _endpoint(self, ops: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
        handlers = {m: (op, self.vendor.handlers.by_operation[op.id]) for m, op in ops.items()}
        allow = ", ".join(sorted(ops))

        async def endpoint(request: Request) -> Response:
            bound = handlers.get(request.method)
            try:
                if bound is None:
                    raise self.vendor.error("method_not_allowed", f"{request.method} is not allowed here",
                                            headers={"Allow": allow})
                return await self.handle(request, *bound)
            except ApiError as err:
                return self.vendor.render_error(err)
            except Exception:
                log.exception("unhandled error in %s %s", request.method, request.url.path)
                return self.vendor.render_error(self.vendor.error("internal", "internal error"))

        return endpoint

    async def handle(self, request: Request, op: Operation, handler: Handler) -> Response:
        emulator, vendor = self.emulator, self.vendor
        key = account = None
        scope = request.scope
        scope["emulator.op"] = (vendor.name, op.id)
        if op.secured:
            key = emulator.accounts.authenticate(
                vendor.name, _key_from(request.headers.get("authorization"), vendor.auth))
            if key is None:
                raise vendor.error("unauthorized", "missing, unknown or revoked API key")
            account = emulator.accounts.accounts[key.account_id]
            scope["emulator.key"] = key.id
            client = request.client.host if request.client else None
            if not key.scopes.allows_ip(client):
                raise vendor.error("ip_not_allowed", f"this key may not be used from {client}")
        if emulator.faults.rules:
            effect = emulator.faults.effect(vendor.name, op.id, key.id if key else None)
            if effect is not None:
                dropped = await self._apply_fault(scope, effect)
                if dropped is not None:
                    return dropped
        if key is not None:
            assert account is not None
            if key.rate_limit_rpm is not None:
                rpm = key.rate_limit_rpm
            elif vendor.rate_limit_for is not None:
                rpm = vendor.rate_limit_for(emulator, account, key)
            else:
                rpm = vendor.default_rpm
            retry_after = emulator.limiter.hit(key.id, rpm, emulator.clock.now())
            if retry_after is not None:
                raise vendor.error("rate_limited", f"over {rpm} requests per minute for this key",
                                   retry_after=retry_after)
        params = self._params(request, op)
        body = None
        form = op.form_bodies.get(_media_type(request)) if op.form_bodies else None
        if form is not None:
            body = await self._form_body(request, op, form)
        elif op.body_validator is not None:
            body = await self._json_body(request, op)
        elif op.form_bodies and (op.body_required or request.headers.get("content-length", "0") != "0"):
            raise vendor.error("invalid", f"the request body must be {' or '.join(op.form_bodies)}")
        # An account may carry a default scenario (pinned in a config or the control API).
        scenario = request.headers.get(SCENARIO_HEADER) or (account.extras.get("scenario") if account else None)
        call = Call(emulator, vendor, op, request, key, account, body, params, scenario)
        return await handler(call)

    async def _apply_fault(self, scope: dict[str, Any], effect: Effect) -> Response | None:
        """Wait, then answer the fault's error (raised) or drop the connection (a response the
        server never sends: the outer middleware closes the connection instead)."""
        scope["emulator.faults"] = effect.fault_ids
        if effect.delay_seconds > 0:
            await asyncio.sleep(effect.delay_seconds)
        if effect.drop_connection:
            scope["emulator.drop"] = True
            return Response(status_code=204)
        if effect.status is None:
            return None
        message = effect.message or f"fault injected by rule {', '.join(effect.fault_ids)}"
        extra = {"retry_after": effect.retry_after} if effect.retry_after is not None else {}
        try:
            err = self.vendor.error(effect.error or "internal", message, **extra)
        except (KeyError, TypeError):  # a kind this vendor does not name: its status, the kind as the code
            err = ApiError(effect.status, effect.error or "internal", message)
        err.status = effect.status
        raise err

    def _params(self, request: Request, op: Operation) -> dict[str, Any]:
        if not op.parameters:
            return {}
        out: dict[str, Any] = {}
        for p in op.parameters:
            if p.location == "path":
                raw: Any = request.path_params.get(p.name)
            elif p.location == "query":
                values = request.query_params.getlist(p.name)
                raw = values if values else None
            elif p.location == "header":
                raw = request.headers.get(p.name)
            else:
                continue
            if raw is None:
                if p.required:
                    raise self.vendor.error("invalid", f"missing required parameter '{p.name}'", param=p.name)
                continue
            value = coerce(raw, p.schema)
            if p.fast_check(value) if p.fast_check is not None else self.fast.is_valid(p.validator, value):
                out[p.name] = value
                continue
            try:
                check(p.validator, value, root=p.name)
            except SchemaError as err:
                raise self.vendor.error("invalid", err.message, param=err.param) from None
            out[p.name] = value
        return out

    async def _form_body(self, request: Request, op: Operation, form: FormBody) -> dict[str, Any]:
        """A multipart or urlencoded body as a dict: text fields coerced to their declared types,
        file fields as `UploadedFile`s; validated against the spec's schema for that media type."""
        vendor = self.vendor
        await _read_body(request, vendor.max_body_bytes, vendor)  # kept on the request for the form parser
        try:
            parsed = await request.form(max_files=16, max_fields=256, max_part_size=vendor.max_body_bytes)
        except Exception as exc:  # python-multipart fails in many ways on malformed input: all are the client's
            detail = getattr(exc, "detail", None) or getattr(exc, "message", None) or exc
            raise vendor.error("invalid", f"the form body cannot be parsed: {detail}") from None
        body: dict[str, Any] = {}
        shadow: dict[str, Any] = {}  # what the schema validator sees: files stand in as strings
        try:
            for name in dict.fromkeys(parsed.keys()):
                prop = form.properties.get(name, {})
                values = []
                for value in parsed.getlist(name):
                    if isinstance(value, StarletteUpload):
                        values.append(UploadedFile(value.filename, value.content_type, await value.read()))
                    elif name in form.file_fields:
                        raise vendor.error("invalid", f"'{name}' must be a file", param=name)
                    else:
                        values.append(value)
                if any(isinstance(v, UploadedFile) for v in values) and name not in form.file_fields:
                    raise vendor.error("invalid", f"'{name}' must be a text field, not a file", param=name)
                is_array = prop.get("type") == "array"
                body[name] = values if is_array else values[-1]
                texts = [v.filename or "" if isinstance(v, UploadedFile) else v for v in values]
                shadow[name] = coerce(texts, prop) if is_array else coerce(texts[-1], prop)
                if name not in form.file_fields:
                    body[name] = shadow[name]
        finally:
            await parsed.close()
        if self.fast.is_valid(form.validator, shadow):
            return body
        try:
            check(form.validator, shadow)
        except SchemaError as err:
            raise vendor.error("invalid", err.message, param=err.param) from None
        return body

    async def _json_body(self, request: Request, op: Operation) -> Any:
        raw = await _read_body(request, self.vendor.max_body_bytes, self.vendor)
        if not raw.strip():
            if op.body_required:
                raise self.vendor.error("invalid", "the request body is empty; a JSON object is required")
            return None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise self.vendor.error("invalid", "the request body is not valid JSON") from None
        assert op.body_validator is not None
        if self.fast.is_valid(op.body_validator, body):
            return body
        try:
            check(op.body_validator, body)
        except SchemaError as err:
            raise self.vendor.error("invalid", err.message, param=err.param) from None
        return body
