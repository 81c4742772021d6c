"""The layer boundary of DESIGN.md: `topology` imports nothing of django, celery, channels or labapp."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
FORBIDDEN = {"django", "celery", "channels", "labapp"}


def lint_imports(cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=cwd, env=env or None, capture_output=True, text=True, timeout=120
    )


def test_topology_keeps_its_import_contract():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_contract_forbids_all_four_and_catches_each(tmp_path):
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("source_modules") == ["topology"]]
    assert contract["source_modules"] == ["topology"]
    assert set(contract["forbidden_modules"]) == FORBIDDEN

    # A stand-in `topology` that breaks the contract once per forbidden package, checked with the
    # project's own configuration; PYTHONPATH makes it shadow the installed package.
    package = tmp_path / "topology"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in sorted(FORBIDDEN):
        (package / f"uses_{name}.py").write_text(f"import {name}\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)

    run = lint_imports(tmp_path, PYTHONPATH=str(tmp_path), PATH="/usr/bin:/bin")
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "BROKEN" in output
    for name in FORBIDDEN:
        assert f"topology.uses_{name} -> {name}" in output
