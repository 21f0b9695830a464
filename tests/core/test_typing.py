"""mypy checks the GraphQL layer: resolvers take a typed ``Info`` and payloads are explicit classes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_passes_on_the_graphql_layer() -> None:
    # given the project's mypy settings (pyproject.toml, with strawberry's plugin)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "clipflow_api/graphql"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    # then there is nothing to report
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
