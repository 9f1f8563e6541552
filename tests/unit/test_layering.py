"""The import contracts in pyproject.toml hold (the back office runs without Qt, the layers,
no import circles, the windows hold no session, store or secret) and would catch a breach;
an import inside a function says why it is there."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_the_import_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def _copy(tmp_path: Path) -> Path:
    for name in ("backoffice", "ui"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_a_qt_import_under_backoffice_is_caught(tmp_path):
    root = _copy(tmp_path)
    (root / "backoffice" / "sneaky.py").write_text(
        '"""A module that should not be here."""\nfrom PySide6.QtWidgets import QWidget\n')
    result = _lint(root)
    assert result.returncode != 0
    assert "backoffice.sneaky" in result.stdout


BREACHES = {
    "a window that opens a session": (
        "ui/sneaky.py", "from sqlalchemy.orm import Session\n", "ui.sneaky"),
    "a window that reads a secret": (
        "ui/sneaky.py", "from backoffice import secrets\n", "ui.sneaky"),
    "a window that talks to the web store itself": (
        "ui/sneaky.py", "from backoffice.store.connector import StoreError\n", "ui.sneaky"),
    "the model reaching up into a service": (
        "backoffice/domain/sneaky.py", "from backoffice.services import orders\n", "backoffice.domain.sneaky"),
    "a service reaching up into a command": (
        "backoffice/services/sneaky.py", "def f():\n    from backoffice.commands import sync\n",
        "backoffice.services.sneaky"),
    "the database module reaching up into the services": (
        "backoffice/sneaky_db.py", "", "backoffice.db"),
    "an import circle hidden inside a function": (
        "backoffice/services/sneaky.py",
        "from backoffice.services import orders\n", ".sneaky -> .orders"),
}


@pytest.mark.parametrize("breach", sorted(BREACHES))
def test_a_breach_of_the_contracts_is_caught(tmp_path, breach):
    root = _copy(tmp_path)
    path, code, named = BREACHES[breach]
    if breach == "the database module reaching up into the services":
        with (root / "backoffice" / "db.py").open("a") as f:
            f.write("\n\ndef _sneaky():\n    from backoffice.services import orders  # noqa\n")
    elif breach == "an import circle hidden inside a function":
        with (root / "backoffice" / "services" / "orders.py").open("a") as f:
            f.write("\n\ndef _sneaky():\n    from backoffice.services import sneaky  # noqa\n")
    if code:
        (root / path).write_text('"""A module that should not be here."""\n' + code)
    result = _lint(root)
    assert result.returncode != 0, result.stdout
    assert named in result.stdout


def _inner_imports(path: Path):
    """(line, says why) of each import inside a function: a comment on its lines, or on the
    line above the run of imports it stands in."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Import | ast.ImportFrom):
                first = node.lineno - 1
                while first > 0 and lines[first - 1].lstrip().startswith(("from ", "import ")):
                    first -= 1
                own = lines[node.lineno - 1: node.end_lineno]
                yield node.lineno, any("#" in line for line in [*own, lines[first - 1]])


def test_every_import_inside_a_function_says_why():
    """Imports belong at the top; one inside a function (to load something heavy only when it is
    needed, or to keep a window quick to open) carries a comment saying so."""
    silent = []
    for folder in ("backoffice", "ui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for lineno, says_why in _inner_imports(path):
                if not says_why:
                    silent.append(f"{path.relative_to(ROOT)}:{lineno}")
    assert not silent, f"imports inside functions without a reason: {silent}"


def test_headless_command_line_does_not_load_qt():
    code = ("import sys; from ui.shell.launcher import main; rc = main(['db', 'status', '--db', 'sqlite://']);"
            "print('QT' if any(m.startswith('PySide6') for m in sys.modules) else 'NOQT')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip().endswith("NOQT"), result.stdout + result.stderr
