"""The import contracts of pyproject.toml (the layer rules of docs/architecture.md, "Principles"): every
one is kept by the real tree, and the contract "topology is a library" forbids django, celery,
channels and labapp and catches each of them."""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
LIBRARY_CONTRACT = "topology is a library"
FORBIDDEN = {"django", "celery", "channels", "labapp"}


def lint_imports(cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=cwd, env=env or None, capture_output=True, text=True, timeout=120
    )


def one_line(text: str) -> str:
    """`text` with each run of white space made one space (lint-imports wraps long contract names)."""
    return " ".join(text.split())


def importlinter_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def library_contract() -> dict:
    """The contract whose name starts with LIBRARY_CONTRACT (exactly one)."""
    (contract,) = [c for c in importlinter_config()["contracts"] if c["name"].startswith(LIBRARY_CONTRACT)]
    return contract


def test_every_contract_is_kept():
    run = lint_imports(ROOT)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    contracts = importlinter_config()["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in output, output
    for contract in contracts:
        assert f"{one_line(contract['name'])} KEPT" in one_line(output), output


def test_library_contract_forbids_all_four_and_catches_each(tmp_path):
    contract = library_contract()
    assert contract["type"] == "forbidden"
    assert contract["source_modules"] == ["topology"]
    assert set(contract["forbidden_modules"]) == FORBIDDEN

    # A stand-in `topology` that breaks the contract once per forbidden package, checked with the
    # project's settings and this one contract (the others name modules the stand-in has not);
    # PYTHONPATH makes it shadow the installed package.
    package = tmp_path / "topology"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in sorted(FORBIDDEN):
        (package / f"uses_{name}.py").write_text(f"import {name}\n")
    (tmp_path / "pyproject.toml").write_text(toml_of_one_contract(contract))

    run = lint_imports(tmp_path, PYTHONPATH=str(tmp_path), PATH="/usr/bin:/bin")
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert f"{one_line(contract['name'])} BROKEN" in one_line(output)
    for name in FORBIDDEN:
        assert f"topology.uses_{name} -> {name}" in output


def toml_of_one_contract(contract: dict) -> str:
    """pyproject.toml text with the project's import-linter settings and only `contract`."""
    settings = {k: v for k, v in importlinter_config().items() if k != "contracts"}
    # Strings, booleans and lists of strings: JSON spells them as TOML does.
    lines = ["[tool.importlinter]", *(f"{k} = {json.dumps(v)}" for k, v in settings.items())]
    lines += ["", "[[tool.importlinter.contracts]]", *(f"{k} = {json.dumps(v)}" for k, v in contract.items())]
    assert tomllib.loads("\n".join(lines))["tool"]["importlinter"]["contracts"] == [contract]
    return "\n".join(lines) + "\n"
