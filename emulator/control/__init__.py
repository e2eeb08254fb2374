"""The control API under /_emulator: accounts, clock, tasks, webhooks, scenarios."""
