"""The neutral error every layer raises; each vendor's render module turns it into its body."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error response: HTTP status, the vendor's error code, and extra documented fields."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or {}
        self.extra = extra

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.code!r}, {self.message!r})"


class StartupError(RuntimeError):
    """The emulator refuses to start: a spec operation without a handler, or the reverse."""
