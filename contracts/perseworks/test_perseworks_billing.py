"""perseworks.md, "Billing" and "Pricing": prepaid credits (1 credit = $0.01), recharge bonus
tiers, free trial credits, credits that never expire. Recharges go through the emulator's
control API (the document has no recharge endpoint), so these tests are emulator-only."""

from __future__ import annotations

import pytest

from client import Perseworks

from ._support import CREDITS_PER_USD, Account, Control, bonus_rate


@pytest.mark.emulator_only
@pytest.mark.parametrize(("usd", "bonus"), [
    (10, 0.0), (49, 0.0), (49.99, 0.0),
    (50, 0.05), (199, 0.05),
    (200, 0.10), (999, 0.10),
    (1000, 0.15), (5000, 0.15),
])
def test_a_recharge_earns_its_tier_s_bonus(control: Control, usd: float, bonus: float) -> None:
    """"Recharge tiers earn bonus credits (+5% / +10% / +15% at $50 / $200 / $1000)"."""
    assert bonus_rate(usd) == bonus  # the table in _support agrees with the test's own reading
    account = control.create_account(credits=0)
    result = control.top_up(account, usd=usd)
    base = usd * CREDITS_PER_USD
    assert result["added"] == pytest.approx(base * (1 + bonus))
    assert [e["amount"] for e in result["entries"]] == pytest.approx([base, base * bonus] if bonus else [base])
    assert account.balance().credits == pytest.approx(base * (1 + bonus))
    # An account opened with no credits has no opening entry: the ledger is just the recharge.
    assert [kind for kind, _ in account.ledger()] == ["topup"] * len(result["entries"])


@pytest.mark.emulator_only
def test_a_new_account_gets_free_trial_credits(control: Control) -> None:
    """"New accounts get free trial credits" (the amount is not documented)."""
    assert control.create_account().balance().credits > 0


@pytest.mark.emulator_only
def test_credits_never_expire(client: Perseworks, account: Account, control: Control) -> None:
    before = account.balance()
    control.advance(3 * 365 * 24 * 3600)
    assert account.balance() == before
    assert client.models.list().data
