"""Vendor-neutral machinery shared by every reference client in this package.

One sync and one async HTTP core (`SyncAPIClient`, `AsyncAPIClient`) over httpx: request
building, retries with exponential backoff that honour `Retry-After` / `retry-after-ms`,
mapping error responses to typed exceptions by the vendor's error code and the HTTP status,
Server-Sent-Events decoding into typed stream iterators, and task polling with backoff.

A vendor module (`perseworks.py`, `seegen.py`, ...) only declares its base URL and the
environment variables that override it and the key, how it authenticates, its error codes and
its pydantic models, and names its resources with `resource(...)`: the cores' constructors do
the rest (resolve the key and URL, build the resources) once for every vendor.
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import json
import math
import os
import random
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar, overload

import httpx
import pydantic

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAPIClient",
    "AsyncAPIResource",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ContentRejectedError",
    "InsufficientCreditsError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SSEDecoder",
    "ServerSentEvent",
    "Stream",
    "SyncAPIClient",
    "SyncAPIResource",
    "UpstreamError",
    "WaitTimeout",
    "apoll",
    "poll",
    "resource",
    "without_none",
]

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
ResourceT = TypeVar("ResourceT", bound="SyncAPIResource | AsyncAPIResource")
T = TypeVar("T")
Headers = Mapping[str, str]
Timeout = float | httpx.Timeout

DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5  # seconds before the first retry when the server names no delay
MAX_RETRY_DELAY = 8.0  # cap of the exponential backoff
MAX_RETRY_AFTER = 60.0  # cap on a server-requested delay (Retry-After / retry-after-ms)

# Indirections so tests can observe or skip waits: `monkeypatch.setattr(_base, "sleep", ...)`.
sleep: Callable[[float], None] = time.sleep
asleep: Callable[[float], Awaitable[None]] = asyncio.sleep


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class APIError(Exception):
    """Root of every error a client in this package raises."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIConnectionError(APIError):
    """The request never got an HTTP response (DNS, refused, reset, TLS, ...)."""

    def __init__(self, request: httpx.Request, message: str = "connection error") -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out before a response arrived."""

    def __init__(self, request: httpx.Request) -> None:
        super().__init__(request, "request timed out")


class APIResponseValidationError(APIError):
    """A 2xx response whose body does not fit the client's model of it."""

    def __init__(self, response: httpx.Response, body: object, message: str) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code
        self.body = body


class WaitTimeout(APIError):
    """Polling a task did not reach a terminal state within the allowed time."""

    def __init__(self, task_id: str, timeout: float, last: Any) -> None:
        super().__init__(f"task {task_id!r} was not done after {timeout:g}s (last seen: {_status_of(last)})")
        self.task_id = task_id
        self.timeout = timeout
        self.last = last


class APIStatusError(APIError):
    """An error response. `code` is the vendor's error code, `param` the offending field.

    For an error event inside an SSE stream, `status_code` is the stream's own HTTP status
    (usually 200): the error class follows the event's `code`.
    """

    status: ClassVar[int | None] = None  # the HTTP status this class stands for, if one

    def __init__(self, message: str, *, response: httpx.Response, body: object,
                 code: str | None = None, param: str | None = None, type: str | None = None) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.body = body
        self.code = code
        self.param = param
        self.type = type

    def __str__(self) -> str:
        where = f" (param {self.param})" if self.param else ""
        return f"{self.status_code} {self.code or 'error'}: {self.message}{where}"


class BadRequestError(APIStatusError):
    status = 400


class AuthenticationError(APIStatusError):
    status = 401


class InsufficientCreditsError(APIStatusError):
    status = 402


class PermissionDeniedError(APIStatusError):
    status = 403


class NotFoundError(APIStatusError):
    status = 404


class ContentRejectedError(APIStatusError):
    status = 422


class RateLimitError(APIStatusError):
    status = 429

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked us to wait (`retry-after-ms` or `Retry-After`), if it said."""
        return retry_after_seconds(self.headers)


class InternalServerError(APIStatusError):
    """Any 5xx."""


class UpstreamError(InternalServerError):
    status = 502


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    cls.status: cls
    for cls in (BadRequestError, AuthenticationError, InsufficientCreditsError, PermissionDeniedError,
                NotFoundError, ContentRejectedError, RateLimitError, UpstreamError)
    if cls.status is not None
}


def error_class(status: int, code: str | None, codes: Mapping[str, type[APIStatusError]]) -> type[APIStatusError]:
    """The exception type for an error: by the vendor's code first, then by HTTP status."""
    if code is not None and code in codes:
        return codes[code]
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status]
    if status >= 500:
        return InternalServerError
    return APIStatusError


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    message: str
    code: str | None = None
    param: str | None = None
    type: str | None = None


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def parse_error_body(body: object, fallback: str) -> ErrorInfo:
    """Read the common error shapes: OpenAI's `{"error": {"message", "code", "param", "type"}}`,
    `{"error": "<code>", "message": ...}`, `{"code": ..., "message"|"msg": ...}`, `{"detail": ...}`."""
    if not isinstance(body, dict):
        return ErrorInfo(fallback)
    err = body.get("error")
    if isinstance(err, dict):
        return ErrorInfo(str(err.get("message") or fallback), _str_or_none(err.get("code")),
                         _str_or_none(err.get("param")), _str_or_none(err.get("type")))
    message = body.get("message") or body.get("msg") or body.get("detail")
    code = err if isinstance(err, str) else body.get("code")
    return ErrorInfo(str(message or err or fallback), _str_or_none(code), _str_or_none(body.get("param")))


def retry_after_seconds(headers: Headers) -> float | None:
    """`retry-after-ms` (milliseconds) or `Retry-After` (seconds or an HTTP date), if present."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000
            if math.isfinite(value):
                return max(0.0, value)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
        return max(0.0, value) if math.isfinite(value) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_delay(retries_done: int, headers: Headers | None) -> float:
    """How long to wait before the next attempt: the server's word (capped), else backoff."""
    requested = retry_after_seconds(headers) if headers is not None else None
    if requested is not None:
        return min(requested, MAX_RETRY_AFTER)
    delay = min(INITIAL_RETRY_DELAY * 2**retries_done, MAX_RETRY_DELAY)
    return delay * (1 - 0.25 * random.random())


def should_retry(response: httpx.Response) -> bool:
    """429 and 5xx are worth another try; any other 4xx never is."""
    return response.status_code == 429 or response.status_code >= 500


def without_none(**fields: Any) -> dict[str, Any]:
    """The keyword arguments that were given (not None): an optional field is left off the wire."""
    return {k: v for k, v in fields.items() if v is not None}


def _status_of(value: object) -> str:
    return str(getattr(value, "status", None) or value)


# --------------------------------------------------------------------------------------
# Server-Sent Events
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        return json.loads(self.data)


class SSEDecoder:
    """Line-by-line SSE decoding (the WHATWG rules); feed lines, get events on blank lines."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def decode(self, line: str) -> ServerSentEvent | None:
        line = line.rstrip("\r\n")
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None  # a comment / keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def flush(self) -> ServerSentEvent | None:
        """The pending event, if any (a blank line, or the end of the stream, ends one)."""
        if not self._data and self._event is None:
            return None
        event = ServerSentEvent("\n".join(self._data), self._event, self._id, self._retry)
        self._data, self._event, self._retry = [], None, None
        return event


def iter_sse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    decoder = SSEDecoder()
    for line in lines:
        event = decoder.decode(line)
        if event is not None:
            yield event
    last = decoder.flush()
    if last is not None:
        yield last


async def aiter_sse(lines: AsyncIterable[str]) -> AsyncIterator[ServerSentEvent]:
    decoder = SSEDecoder()
    async for line in lines:
        event = decoder.decode(line)
        if event is not None:
            yield event
    last = decoder.flush()
    if last is not None:
        yield last


DONE = "[DONE]"


class _StreamBase(Generic[ModelT]):
    def __init__(self, response: httpx.Response, *, cast_to: type[ModelT], client: _ClientCore) -> None:
        self.response = response
        self._cast_to = cast_to
        self._client = client

    def _event(self, sse: ServerSentEvent) -> ModelT | None:
        """The typed chunk for one event; None to skip it. Raises on an in-stream error."""
        if not sse.data:
            return None
        try:
            data = sse.json()
        except json.JSONDecodeError:
            raise APIResponseValidationError(self.response, sse.data, "stream event is not JSON") from None
        if sse.event == "error" or (isinstance(data, dict) and "error" in data):
            raise self._client._make_status_error(self.response, data)
        return self._client._validate(self.response, data, self._cast_to)


class Stream(_StreamBase[ModelT]):
    """Typed chunks of an SSE response; stops at `data: [DONE]`; closes the response when done."""

    def __iter__(self) -> Iterator[ModelT]:
        try:
            for sse in iter_sse(self.response.iter_lines()):
                if sse.data == DONE:
                    break
                chunk = self._event(sse)
                if chunk is not None:
                    yield chunk
        finally:
            self.response.close()

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream(_StreamBase[ModelT]):
    """The async twin of `Stream`: `async for chunk in stream`."""

    async def __aiter__(self) -> AsyncIterator[ModelT]:
        try:
            async for sse in aiter_sse(self.response.aiter_lines()):
                if sse.data == DONE:
                    break
                chunk = self._event(sse)
                if chunk is not None:
                    yield chunk
        finally:
            await self.response.aclose()

    async def close(self) -> None:
        await self.response.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# --------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------


class resource(Generic[ResourceT]):
    """Declares a resource of a client (or a sub-resource of a resource), built once per instance
    by the core's constructor: `videos = resource(Videos)` makes `client.videos` a `Videos(client)`."""

    def __init__(self, cls: Callable[[Any], ResourceT]) -> None:
        self.cls = cls
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> ResourceT: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Self | ResourceT:
        if obj is None:
            return self
        raise AttributeError(f"{type(obj).__name__}.{self.name} is built by the constructor")


def _attach_resources(owner: object, client: _ClientCore) -> None:
    """Build every `resource(...)` the owner's class (or a base) declares, on `client`."""
    for klass in reversed(type(owner).__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, resource):
                owner.__dict__[name] = value.cls(client)


class _ClientCore:
    """What the sync and async clients share: configuration, requests, errors, parsing."""

    # The vendor's error codes that name an error class regardless of the HTTP status.
    error_codes: ClassVar[Mapping[str, type[APIStatusError]]] = {}
    user_agent: ClassVar[str] = "seedance-emulator-client/0.1"
    # Where a vendor client finds its key and base URL when the caller gives none.
    api_key_env: ClassVar[str | None] = None
    base_url_env: ClassVar[str | None] = None
    default_base_url: ClassVar[str | None] = None

    def __init__(self, *, api_key: str | None, base_url: str | None, timeout: Timeout, max_retries: int,
                 default_headers: Headers | None = None) -> None:
        self.api_key, base_url = self._resolve(api_key, base_url)
        if max_retries < 0:
            raise ValueError("max_retries must be ≥ 0")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self._default_headers = dict(default_headers or {})

    @classmethod
    def _resolve(cls, api_key: str | None, base_url: str | None) -> tuple[str, str]:
        """The key (argument, then `$api_key_env`) and base URL (argument, `$base_url_env`, default)."""
        if api_key is None and cls.api_key_env is not None:
            api_key = os.environ.get(cls.api_key_env)
        if not api_key:
            where = f" or set {cls.api_key_env}" if cls.api_key_env is not None else ""
            raise APIError(f"no API key: pass api_key={where}")
        base_url = base_url or (os.environ.get(cls.base_url_env) if cls.base_url_env is not None else None)
        base_url = base_url or cls.default_base_url
        if not base_url:
            raise APIError("no base URL: pass base_url=")
        return api_key, base_url

    # -- vendor hooks ----------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def parse_error(self, body: object, fallback: str) -> ErrorInfo:
        return parse_error_body(body, fallback)

    # -- building and reading --------------------------------------------------------------

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _headers(self, extra: Headers | None, *, stream: bool) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if stream else "application/json",
                   "User-Agent": self.user_agent, **self.auth_headers(), **self._default_headers}
        if extra:
            headers.update(extra)
        return headers

    def _make_status_error(self, response: httpx.Response, body: object) -> APIStatusError:
        info = self.parse_error(body, response.reason_phrase or f"HTTP {response.status_code}")
        cls = error_class(response.status_code, info.code, self.error_codes)
        return cls(info.message, response=response, body=body, code=info.code, param=info.param, type=info.type)

    @staticmethod
    def _body_of(response: httpx.Response) -> object:
        try:
            return response.json()
        except ValueError:
            return response.text

    def _validate(self, response: httpx.Response, data: object, cast_to: type[ModelT]) -> ModelT:
        try:
            return cast_to.model_validate(data)
        except pydantic.ValidationError as err:
            raise APIResponseValidationError(
                response, data, f"{cast_to.__name__} does not fit the response: {err}") from None

    def _parse(self, response: httpx.Response, cast_to: type[ModelT]) -> ModelT:
        try:
            data = response.json()
        except ValueError:
            raise APIResponseValidationError(response, response.text, "response is not JSON") from None
        return self._validate(response, data, cast_to)


class SyncAPIClient(_ClientCore):
    """A synchronous client core on an `httpx.Client` (yours, or one it owns and closes)."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *, timeout: Timeout | None = None,
                 max_retries: int = DEFAULT_MAX_RETRIES, http_client: httpx.Client | None = None,
                 default_headers: Headers | None = None) -> None:
        if timeout is None:
            timeout = http_client.timeout if http_client is not None else DEFAULT_TIMEOUT
        super().__init__(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
                         default_headers=default_headers)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        _attach_resources(self, self)

    @property
    def http_client(self) -> httpx.Client:
        return self._http

    def _send(self, method: str, path: str, *, json: object = None, content: bytes | None = None,
              headers: Headers | None = None, timeout: Timeout | None = None, stream: bool = False) -> httpx.Response:
        """One call with retries; returns a 2xx/3xx response or raises a typed error."""
        retries = 0
        while True:
            request = self._http.build_request(
                method, self._url(path), json=json, content=content,
                headers=self._headers(headers, stream=stream), timeout=self.timeout if timeout is None else timeout)
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if retries < self.max_retries:
                    sleep(retry_delay(retries, None))
                    retries += 1
                    continue
                if isinstance(exc, httpx.TimeoutException):
                    raise APITimeoutError(request) from exc
                raise APIConnectionError(request, f"connection error: {exc}") from exc
            if not response.is_error:
                return response
            if should_retry(response) and retries < self.max_retries:
                response.close()
                sleep(retry_delay(retries, response.headers))
                retries += 1
                continue
            response.read()
            raise self._make_status_error(response, self._body_of(response))

    def request(self, method: str, path: str, *, cast_to: type[ModelT], body: object = None,
                headers: Headers | None = None, timeout: Timeout | None = None) -> ModelT:
        response = self._send(method, path, json=body, headers=headers, timeout=timeout)
        return self._parse(response, cast_to)

    def get(self, path: str, *, cast_to: type[ModelT], headers: Headers | None = None,
            timeout: Timeout | None = None) -> ModelT:
        return self.request("GET", path, cast_to=cast_to, headers=headers, timeout=timeout)

    def post(self, path: str, *, cast_to: type[ModelT], body: object = None, headers: Headers | None = None,
             timeout: Timeout | None = None) -> ModelT:
        return self.request("POST", path, cast_to=cast_to, body=body, headers=headers, timeout=timeout)

    def stream(self, method: str, path: str, *, cast_to: type[ModelT], body: object = None,
               headers: Headers | None = None, timeout: Timeout | None = None) -> Stream[ModelT]:
        response = self._send(method, path, json=body, headers=headers, timeout=timeout, stream=True)
        return Stream(response, cast_to=cast_to, client=self)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncAPIClient(_ClientCore):
    """The async twin of `SyncAPIClient`, on an `httpx.AsyncClient`."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *, timeout: Timeout | None = None,
                 max_retries: int = DEFAULT_MAX_RETRIES, http_client: httpx.AsyncClient | None = None,
                 default_headers: Headers | None = None) -> None:
        if timeout is None:
            timeout = http_client.timeout if http_client is not None else DEFAULT_TIMEOUT
        super().__init__(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
                         default_headers=default_headers)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)
        _attach_resources(self, self)

    @property
    def http_client(self) -> httpx.AsyncClient:
        return self._http

    async def _send(self, method: str, path: str, *, json: object = None, content: bytes | None = None,
                    headers: Headers | None = None, timeout: Timeout | None = None,
                    stream: bool = False) -> httpx.Response:
        retries = 0
        while True:
            request = self._http.build_request(
                method, self._url(path), json=json, content=content,
                headers=self._headers(headers, stream=stream), timeout=self.timeout if timeout is None else timeout)
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if retries < self.max_retries:
                    await asleep(retry_delay(retries, None))
                    retries += 1
                    continue
                if isinstance(exc, httpx.TimeoutException):
                    raise APITimeoutError(request) from exc
                raise APIConnectionError(request, f"connection error: {exc}") from exc
            if not response.is_error:
                return response
            if should_retry(response) and retries < self.max_retries:
                await response.aclose()
                await asleep(retry_delay(retries, response.headers))
                retries += 1
                continue
            await response.aread()
            raise self._make_status_error(response, self._body_of(response))

    async def request(self, method: str, path: str, *, cast_to: type[ModelT], body: object = None,
                      headers: Headers | None = None, timeout: Timeout | None = None) -> ModelT:
        response = await self._send(method, path, json=body, headers=headers, timeout=timeout)
        return self._parse(response, cast_to)

    async def get(self, path: str, *, cast_to: type[ModelT], headers: Headers | None = None,
                  timeout: Timeout | None = None) -> ModelT:
        return await self.request("GET", path, cast_to=cast_to, headers=headers, timeout=timeout)

    async def post(self, path: str, *, cast_to: type[ModelT], body: object = None,
                   headers: Headers | None = None, timeout: Timeout | None = None) -> ModelT:
        return await self.request("POST", path, cast_to=cast_to, body=body, headers=headers, timeout=timeout)

    async def stream(self, method: str, path: str, *, cast_to: type[ModelT], body: object = None,
                     headers: Headers | None = None, timeout: Timeout | None = None) -> AsyncStream[ModelT]:
        response = await self._send(method, path, json=body, headers=headers, timeout=timeout, stream=True)
        return AsyncStream(response, cast_to=cast_to, client=self)

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


class SyncAPIResource:
    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client
        _attach_resources(self, client)


class AsyncAPIResource:
    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client
        _attach_resources(self, client)


# --------------------------------------------------------------------------------------
# Polling
# --------------------------------------------------------------------------------------


def _check_poll_args(timeout: float, poll_interval: float, max_interval: float) -> None:
    if timeout < 0 or poll_interval < 0 or max_interval < poll_interval:
        raise ValueError("need timeout ≥ 0 and 0 ≤ poll_interval ≤ max_interval")


def poll(task_id: str, fetch: Callable[[], T], done: Callable[[T], bool], *, timeout: float,
         poll_interval: float, max_interval: float, on_poll: Callable[[T], object] | None = None) -> T:
    """Fetch until `done`, waiting `poll_interval`, then twice as long each time up to
    `max_interval`; raise `WaitTimeout` once `timeout` seconds have passed."""
    _check_poll_args(timeout, poll_interval, max_interval)
    deadline = time.monotonic() + timeout
    interval = poll_interval
    while True:
        value = fetch()
        if on_poll is not None:
            on_poll(value)
        if done(value):
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(task_id, timeout, value)
        if interval > 0:
            sleep(min(interval, remaining))
        interval = min(interval * 2, max_interval)


async def apoll(task_id: str, fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, timeout: float,
                poll_interval: float, max_interval: float,
                on_poll: Callable[[T], object] | None = None) -> T:
    """The async twin of `poll`; `on_poll` may be a plain or an async callable."""
    _check_poll_args(timeout, poll_interval, max_interval)
    deadline = time.monotonic() + timeout
    interval = poll_interval
    while True:
        value = await fetch()
        if on_poll is not None:
            result = on_poll(value)
            if inspect.isawaitable(result):
                await result
        if done(value):
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(task_id, timeout, value)
        if interval > 0:
            await asleep(min(interval, remaining))
        else:
            await asyncio.sleep(0)  # let other tasks run between tight polls
        interval = min(interval * 2, max_interval)
