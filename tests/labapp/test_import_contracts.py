"""labapp's import contracts (pyproject.toml): each one catches an import that breaks it."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")

# A module that breaks one contract, where it is put in a copy of labapp, and the import the report names.
VIOLATIONS = {
    "labapp/labs/node/uses_web.py": "labapp.labs.node.uses_web -> labapp.labs.web.views",
    "labapp/exercises/node/uses_web.py": "labapp.exercises.node.uses_web -> labapp.labs.web.consumers",
    "labapp/labs/node/uses_tasks.py": "labapp.labs.node.uses_tasks -> labapp.labs.tasks",
    "labapp/labs/uses_exercises.py": "labapp.labs.uses_exercises -> labapp.exercises.models",
    "labapp/exercises/uses_classroom.py": "labapp.exercises.uses_classroom -> labapp.classroom.models",
}


def _labapp_contracts() -> list[str]:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    return [c["name"] for c in contracts if c["name"].startswith("labapp:")]


def test_each_labapp_contract_catches_a_violation(tmp_path):
    names = _labapp_contracts()
    assert len(names) == 4
    # A copy of labapp with one violating module per contract, shadowing the installed package.
    shutil.copytree(ROOT / "labapp", tmp_path / "labapp", ignore=shutil.ignore_patterns("static", "locale"))
    for path, chain in VIOLATIONS.items():
        imported = chain.split(" -> ")[1]
        (tmp_path / path).write_text(f"import {imported}\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)

    run = subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    for name in names:
        assert f"{name} BROKEN" in output, output
    for chain in VIOLATIONS.values():
        assert chain in output, output
