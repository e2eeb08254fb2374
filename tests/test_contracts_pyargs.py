"""The contract suite runs as an installed package too: `pytest --pyargs contracts --vendor V`
from any folder, with the suite's own options and markers known."""

from __future__ import annotations

import subprocess
import sys


def test_pytest_pyargs_contracts_takes_the_suites_options_from_another_folder(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "contracts", "--vendor", "perseworks",
                           "-k", "models", "-q", "-p", "no:cacheprovider",
                           "-W", "error::pytest.PytestUnknownMarkWarning"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout


def test_a_single_contract_module_by_its_dotted_name(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "contracts.perseworks.test_perseworks_models",
                           "--vendor", "perseworks", "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
