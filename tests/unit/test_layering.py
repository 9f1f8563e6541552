"""The back office runs without Qt: the import contract holds and would catch a breach."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_backoffice_imports_no_qt():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_qt_import_under_backoffice_is_caught(tmp_path):
    for name in ("backoffice", "ui"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "backoffice" / "sneaky.py").write_text(
        '"""A module that should not be here."""\nfrom PySide6.QtWidgets import QWidget\n')
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "backoffice.sneaky" in result.stdout


def test_headless_command_line_does_not_load_qt():
    code = ("import sys; from ui.launcher import main; rc = main(['db', 'status', '--db', 'sqlite://']);"
            "print('QT' if any(m.startswith('PySide6') for m in sys.modules) else 'NOQT')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip().endswith("NOQT"), result.stdout + result.stderr
