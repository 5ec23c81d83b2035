"""The layering rules in pyproject.toml ([tool.importlinter]) hold for the code as it is."""

from __future__ import annotations

from pathlib import Path

from importlinter import cli

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert cli.lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_every_entrypoint_but_the_composition_root_is_kept_from_the_adapters() -> None:
    """The contract names its sources one by one: a new entrypoint must join them."""
    import pkgutil
    import tomllib

    import entrypoints

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c.get("forbidden_modules") == ["adapters"]
        and c["source_modules"][0] == "entrypoints.http"
    ]
    modules = {f"entrypoints.{m.name}" for m in pkgutil.iter_modules(entrypoints.__path__)}
    assert set(contract["source_modules"]) == modules - {"entrypoints.container"}
