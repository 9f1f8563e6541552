"""Files holding personal data: owner-only, never written over, safe in a spreadsheet."""

from __future__ import annotations

import csv
import stat

import pytest

from backoffice.private_files import FileExistsRefused, private_csv, spreadsheet_safe


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"a\")", "@SUM(A1)", "-2+3", "+1", "\t=cmd", "  =1+1", "\uff1d1+1"])
def test_a_cell_a_spreadsheet_would_run_opens_as_text(cell):
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Maria", "12 High St", "a=b", "", "O'Neil"])
def test_ordinary_cells_are_left_alone(cell):
    assert spreadsheet_safe(cell) == cell


def test_a_written_csv_is_owner_only_and_neutralised(tmp_path):
    out = tmp_path / "out.csv"
    with private_csv(out) as w:
        w.writerow(["name", "note"])
        w.writerow(["Ann", "=cmd|' /C calc'!A0"])
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert rows[1] == ["Ann", "'=cmd|' /C calc'!A0"]


def test_an_existing_file_is_not_replaced_unless_asked(tmp_path):
    out = tmp_path / "shop.db"
    out.write_bytes(b"precious")
    with pytest.raises(FileExistsRefused):
        with private_csv(out) as w:
            w.writerow(["x"])
    assert out.read_bytes() == b"precious"
    with private_csv(out, replace=True) as w:
        w.writerow(["x"])
    assert out.read_text(encoding="utf-8-sig").strip() == "x"


def test_a_protected_file_is_never_replaced(tmp_path):
    db = tmp_path / "shop.db"
    db.write_bytes(b"precious")
    with pytest.raises(FileExistsRefused):
        with private_csv(db, replace=True, protect=[db]) as w:
            w.writerow(["x"])
    assert db.read_bytes() == b"precious"


def test_a_failure_while_writing_leaves_nothing(tmp_path):
    out = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with private_csv(out) as w:
            w.writerow(["x"])
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []
