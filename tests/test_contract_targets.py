"""A vendor's documented base URL and its spec's server URL name the same target, for the
contract suite run directly (`pytest contracts --base-url ...`) as for `seedance-emulator contracts`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from contracts._support import make_target


def config(**options: object) -> SimpleNamespace:
    return SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))


@pytest.mark.parametrize("given", ["https://genray.ai/api/v1", "https://genray.ai/api/v1/", "https://genray.ai"])
def test_genrays_documented_base_url_is_its_servers(given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """genray.md: `BASE = "https://genray.ai/api/v1"`; /api/keys and /v1/files lie outside it."""
    monkeypatch.setattr("contracts._support.probe_emulator", lambda origin: None)  # never reach the network
    target = make_target(config(**{"--genray-base-url": given}), "genray", in_process=lambda: None)
    assert target.base_url == "https://genray.ai" and not target.is_emulator


def test_other_vendors_keep_their_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("contracts._support.probe_emulator", lambda origin: None)
    target = make_target(config(**{"--seegen-base-url": "https://seegen.ai/api/v1/"}), "seegen",
                         in_process=lambda: None)
    assert target.base_url == "https://seegen.ai/api/v1"
