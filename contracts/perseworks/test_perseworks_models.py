"""perseworks.md, "Models", "List models" and "Pricing": GET /models is the catalog, with pricing."""

from __future__ import annotations

import pytest

from client import ChatPricing, Model, Perseworks, VideoPricing

from ._support import (
    CHAT_MIN_INPUT_USD_PER_MILLION,
    CHAT_MODELS,
    CREDITS_PER_USD,
    DOUBAO_CONTEXT,
    USD_PER_SECOND,
    VIDEO_MODELS,
)


def _catalog(client: Perseworks) -> dict[str, Model]:
    listing = client.models.list()
    assert listing.object == "list"
    return {m.id: m for m in listing.data}


def test_the_six_documented_models_are_listed(client: Perseworks) -> None:
    catalog = _catalog(client)
    assert set(VIDEO_MODELS) | set(CHAT_MODELS) <= set(catalog)
    assert {m: catalog[m].type for m in VIDEO_MODELS} == dict.fromkeys(VIDEO_MODELS, "video")
    assert {m: catalog[m].type for m in CHAT_MODELS} == dict.fromkeys(CHAT_MODELS, "chat")
    assert all(m.object == "model" for m in catalog.values())


@pytest.mark.parametrize(("model_id", "resolutions"), VIDEO_MODELS.items())
def test_video_model_resolutions_and_per_second_prices(client: Perseworks, model_id: str,
                                                       resolutions: tuple[str, ...]) -> None:
    model = _catalog(client)[model_id]
    assert sorted(model.resolutions or ()) == sorted(resolutions)
    pricing = model.pricing
    assert isinstance(pricing, VideoPricing)
    assert (pricing.unit, pricing.currency) == ("output_second", "USD")
    for resolution in resolutions:
        assert pricing.usd_per_second[resolution] == pytest.approx(USD_PER_SECOND[resolution])
        assert pricing.credits_per_second[resolution] == pytest.approx(USD_PER_SECOND[resolution] * CREDITS_PER_USD)


def test_a_four_second_720p_clip_costs_sixty_cents(client: Perseworks) -> None:
    """"From $0.60 for a 4-second 720p clip"."""
    pricings = [m.pricing for m in _catalog(client).values()]
    cheapest = min(p.usd_per_second["720p"] for p in pricings if isinstance(p, VideoPricing))
    assert cheapest * 4 == pytest.approx(0.60)


@pytest.mark.parametrize("model_id", CHAT_MODELS)
def test_chat_models_are_priced_per_token(client: Perseworks, model_id: str) -> None:
    pricing = _catalog(client)[model_id].pricing
    assert isinstance(pricing, ChatPricing)
    assert (pricing.unit, pricing.currency) == ("token", "USD")
    assert pricing.input_usd_per_million >= CHAT_MIN_INPUT_USD_PER_MILLION
    assert pricing.output_usd_per_million > 0


def test_chat_input_starts_at_ten_cents_per_million_tokens(client: Perseworks) -> None:
    """"Chat: billed per token (from $0.10 / 1M input tokens)"."""
    pricings = [m.pricing for m in _catalog(client).values()]
    cheapest = min(p.input_usd_per_million for p in pricings if isinstance(p, ChatPricing))
    assert cheapest == pytest.approx(CHAT_MIN_INPUT_USD_PER_MILLION)


def test_doubao_has_a_256k_context(client: Perseworks) -> None:
    assert _catalog(client)["doubao-seed-2-0-pro"].context_window in DOUBAO_CONTEXT
