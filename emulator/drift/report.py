"""The drift report: `drift-report.json`, `drift-report.md` and a terminal summary.

`drift-report.json` (format 1):

    {"format": 1, "tool_version": ..., "started_at": ..., "finished_at": ..., "live": bool,
     "targets": {vendor: base_url}, "mode": "run" | "replay",
     "verdict": "one line", "exit_code": 0 | 1,
     "counts": {"violation": n, "undocumented": m},
     "findings": [{vendor, operation, method, path, status, classification, rule, pointer,
                   message, exchange, count, test}, ...],       # violations first
     "operations": {vendor: {operationId: {"exchanges": n, "statuses": {"200": n}}}},
     "outside_spec": {vendor: n},      # exchanges not under the vendor's base path (control API, media)
     "exchanges_checked": n,
     "contract_tests": {"passed": n, "failed": n, "skipped": n, "exit_status": n} | null,
     "spend": {...} | null}

A failed contract test is a finding too (`contract-test-failed`, a violation): it is behaviour
that differs from the documents as the suite reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .check import UNDOCUMENTED, VIOLATION, CheckResult, Finding
from .exchange import RunInfo, write_json, write_run

FORMAT = 1


@dataclass
class SuiteOutcome:
    """What the contract suite did (None fields when it did not run, e.g. on --replay)."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    exit_status: int | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)  # (node id, short message)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "skipped": self.skipped,
                "exit_status": self.exit_status}


def _vendor_of(nodeid: str) -> str:
    parts = nodeid.replace("\\", "/").split("/")
    for index, part in enumerate(parts):
        if part == "contracts" and index + 1 < len(parts):
            return parts[index + 1]
    return parts[0] if len(parts) > 1 else "?"


def failed_test_findings(tests: SuiteOutcome | None) -> list[Finding]:
    if tests is None:
        return []
    return [Finding(vendor=_vendor_of(nodeid), operation=None, method="", path="", status=None,
                    classification=VIOLATION, rule="contract-test-failed", pointer="", message=message,
                    exchange=None, test=nodeid) for nodeid, message in tests.failures]


@dataclass
class Report:
    run: RunInfo
    result: CheckResult
    tests: SuiteOutcome | None
    mode: str  # "run" or "replay"

    @property
    def findings(self) -> list[Finding]:
        everything = self.result.findings + failed_test_findings(self.tests)
        order = {VIOLATION: 0, UNDOCUMENTED: 1}
        # Within a classification: per vendor, the spec's findings by operation, then failed tests.
        return sorted(everything, key=lambda f: (order[f.classification], f.vendor, f.test is not None,
                                                 f.operation or "", f.test or "", f.status or 0, f.rule, f.pointer))

    def counts(self) -> dict[str, int]:
        findings = self.findings
        return {VIOLATION: sum(f.classification == VIOLATION for f in findings),
                UNDOCUMENTED: sum(f.classification == UNDOCUMENTED for f in findings)}

    @property
    def exit_code(self) -> int:
        """1 on any violation (a failed contract test included), else 0: undocumented findings
        alone are news, not breakage."""
        return 1 if self.counts()[VIOLATION] else 0

    def verdict(self) -> str:
        counts = self.counts()
        target = "the live API" if self.run.live else "the emulator"
        checked = f"{self.result.checked} exchange(s) with {target} checked"
        if self.tests is not None and self.tests.exit_status not in (None, 0, 1):
            checked += f"; the contract suite did not complete (pytest exit status {self.tests.exit_status})"
        if counts[VIOLATION]:
            return f"DRIFT: {counts[VIOLATION]} violation(s) of the documented contract, " \
                   f"{counts[UNDOCUMENTED]} undocumented finding(s); {checked}"
        if counts[UNDOCUMENTED]:
            return f"NEWS: no violation, {counts[UNDOCUMENTED]} undocumented finding(s); {checked}"
        return f"OK: no finding; {checked}"

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "tool_version": self.run.tool_version, "started_at": self.run.started_at,
                "finished_at": self.run.finished_at, "live": self.run.live, "targets": self.run.targets,
                "mode": self.mode, "verdict": self.verdict(), "exit_code": self.exit_code, "counts": self.counts(),
                "findings": [f.to_dict() for f in self.findings],
                "operations": {vendor: {op: {"exchanges": seen.exchanges, "statuses": seen.statuses}
                                        for op, seen in sorted(ops.items())}
                               for vendor, ops in sorted(self.result.operations.items())},
                "outside_spec": self.result.outside_spec, "exchanges_checked": self.result.checked,
                "contract_tests": self.tests.to_dict() if self.tests is not None else None,
                "spend": self.run.spend}

    # -- Markdown ----------------------------------------------------------------------------

    def markdown(self) -> str:
        lines = ["# Drift report", "", f"**{self.verdict()}**", ""]
        lines.append(f"- mode: {self.mode}; target: {'live' if self.run.live else 'emulator'}; "
                     f"started {self.run.started_at}, finished {self.run.finished_at}")
        for vendor, url in sorted(self.run.targets.items()):
            lines.append(f"- {vendor}: `{url}`")
        if self.tests is not None and self.tests.exit_status is not None:
            lines.append(f"- contract tests: {self.tests.passed} passed, {self.tests.failed} failed, "
                         f"{self.tests.skipped} skipped")
        if self.run.spend:
            spent = self.run.spend.get("spent") or {}
            spent_text = ", ".join(f"{v} {n:g}" for v, n in sorted(spent.items())) or "nothing"
            cap = self.run.spend.get("cap")
            units = self.run.spend.get("units") or {}
            cap_text = ("none (no --allow-spend: only free calls on a live target)" if cap is None
                        else f"{cap:g} per vendor")
            spent_text = ", ".join(f"{v} {n:g} {units.get(v, 'credits')}"
                                   for v, n in sorted(spent.items())) or "nothing"
            lines.append(f"- spend (estimated from the documented prices): cap {cap_text}; spent {spent_text}")
        lines.append("")
        findings = self.findings
        vendors = sorted({f.vendor for f in findings} | set(self.result.operations))
        for vendor in vendors:
            mine = [f for f in findings if f.vendor == vendor]
            lines += [f"## {vendor}", ""]
            if not mine:
                lines += ["No finding.", ""]
            groups: dict[str, list[Finding]] = {}
            for finding in mine:
                name = ("contract tests" if finding.rule == "contract-test-failed"
                        else finding.operation or f"{finding.method} {finding.path} (not in the spec)")
                groups.setdefault(name, []).append(finding)
            for name, group in groups.items():
                first = group[0]
                title = f"### {name}" + (f" — `{first.method} {first.path}`" if first.operation else "")
                lines += [title, ""]
                for finding in group:
                    lines.append("- " + _finding_line(finding))
                lines.append("")
            seen = self.result.operations.get(vendor, {})
            if seen:
                lines += ["| operation | exchanges | statuses |", "|---|---|---|"]
                for op, stats in sorted(seen.items()):
                    statuses = ", ".join(f"{s}×{n}" for s, n in sorted(stats.statuses.items()))
                    lines.append(f"| {op} | {stats.exchanges} | {statuses} |")
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def terminal(self) -> str:
        lines = [self.verdict()]
        for finding in self.findings[:40]:
            where = finding.test or f"{finding.vendor} {finding.operation or finding.method + ' ' + finding.path}"
            lines.append(f"  {finding.classification:<12} {where}: {_plain_line(finding)}")
        if len(self.findings) > 40:
            lines.append(f"  … and {len(self.findings) - 40} more (see the report)")
        return "\n".join(lines)

    def write(self, directory: Path) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        json_path, md_path = directory / "drift-report.json", directory / "drift-report.md"
        write_json(json_path, self.to_dict())
        md_path.write_text(self.markdown())
        write_run(directory, self.run)
        return json_path, md_path


def _finding_line(finding: Finding) -> str:
    """One Markdown list item's text."""
    if finding.rule == "contract-test-failed":
        return f"**{finding.classification}** `contract-test-failed` `{finding.test}`: {finding.message}"
    source = f" [{finding.exchange}]" if finding.exchange else ""
    return f"**{finding.classification}** {_describe(finding, code='`', times='×')}{source}"


def _plain_line(finding: Finding) -> str:
    """One terminal line's text (after the classification and where)."""
    if finding.rule == "contract-test-failed":
        return f"contract-test-failed: {finding.message}"
    return _describe(finding, code="", times="x")


def _describe(finding: Finding, *, code: str, times: str) -> str:
    """`rule status at pointer: message (×count)`, with `code` around the rule and pointer."""
    status = f" {finding.status}" if finding.status is not None else ""
    pointer = f" at {code}{finding.pointer}{code}" if finding.pointer else ""
    count = f" ({times}{finding.count})" if finding.count > 1 else ""
    return f"{code}{finding.rule}{code}{status}{pointer}: {finding.message}{count}"
