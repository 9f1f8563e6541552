#!/usr/bin/env bash
# Build the one-folder app with PyInstaller and check the built program: its --self-test
# on a fresh database (created and migrated) and on an existing one (opened as it is).
# Prints the folder's size. Run from a checkout with .venv set up (./dev setup).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m pip install -q "pyinstaller>=6" >/dev/null
rm -rf build/backoffice dist/backoffice
"$PY" -m PyInstaller --noconfirm --log-level WARN build_installer.spec
app=dist/backoffice/backoffice
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=offscreen BACKOFFICE_DATA_DIR="$work/data"
echo "self-test on a fresh database:"
"$app" --self-test --db "sqlite:///$work/fresh.db"
echo "self-test on the same database, now existing:"
"$app" --self-test --db "sqlite:///$work/fresh.db"
echo "built: $(du -sh dist/backoffice | cut -f1) in dist/backoffice ($(find dist/backoffice -type f | wc -l) files)"
