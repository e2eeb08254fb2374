"""What the Genray suite and the project's own Genray tests share from the document itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Copied verbatim from genray.md, "Verifying Signatures", and run as written.
DOCUMENT_CODE = """\
import hmac, hashlib
def verify_webhook(payload_body, signature_header, webhook_secret):
    expected = hmac.new(
        webhook_secret.encode(),
        payload_body,
        hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", signature_header)
"""
_namespace: dict[str, Any] = {}
exec(DOCUMENT_CODE, _namespace)
document_verify_webhook: Callable[[bytes, str, str], bool] = _namespace["verify_webhook"]
