"""Vendor-drift checks: the contract suite run through a recording proxy, every observed
response checked against openapi/<vendor>.yaml, and a report that separates what violates the
documented contract from what the documents do not mention.

- `exchange`: one observed HTTP exchange, redaction, and the recording format (run.json + files);
- `proxy`: the recording reverse proxy;
- `check`: the checker (findings, classifications, rules);
- `report`: drift-report.json / drift-report.md / the terminal summary;
- `command`: `seedance-emulator contracts`.
"""
