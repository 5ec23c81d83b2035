"""The layering rules in pyproject.toml ([tool.importlinter]) hold for the code as it is."""

from __future__ import annotations

from pathlib import Path

from importlinter import cli

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert cli.lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0
