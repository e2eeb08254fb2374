"""Contract tests: documented vendor behaviour, asserted through the reference client, runnable
unchanged against the in-process emulator, a running emulator, or the live vendor."""
