"""courseware/ stays framework-free: no Flask, SQLAlchemy, Flask-Babel or app imports."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "courseware"
FORBIDDEN = ("flask", "sqlalchemy", "flask_babel", "app")


def is_forbidden(module: str) -> bool:
    top = module.split(".")[0]
    return top in FORBIDDEN or top.startswith("flask_")


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_imports_a_framework(path: Path) -> None:
    imported: list[str] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.append(node.module)

    assert [name for name in imported if is_forbidden(name)] == []


def test_importing_every_module_loads_no_framework() -> None:
    """Catches indirect imports too, e.g. through a helper library."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {module_names()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    )

    loaded = json.loads(result.stdout)
    assert "courseware.hls" in loaded
    assert [name for name in loaded if is_forbidden(name)] == []
