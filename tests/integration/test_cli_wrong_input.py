"""Headless commands given wrong input (missing files, folders for files, unreadable files,
bad database addresses) answer with a sentence, never raw exception text; an unexpected
failure says where its details are, and that log file holds the traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RAW = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b|\[Errno|File \"")


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A small demo shop, its log folder, and files that are not what a command wants."""
    folder = tmp_path_factory.mktemp("cli-desk")
    env = {**os.environ, "BACKOFFICE_LOG_DIR": str(folder / "log"), "BACKOFFICE_DATA_DIR": str(folder / "data"),
           "BACKOFFICE_PASSWORD": "demo-owner-pass", "PYTHONPATH": str(ROOT)}
    env.pop("BACKOFFICE_DATABASE_URL", None)
    db = f"sqlite:///{folder / 'shop.db'}"
    done = subprocess.run([sys.executable, "-m", "backoffice", "demo", "--headless", "--customers", "20",
                           "--orders", "20", "--products", "5", "--db", db], env=env, cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (folder / "a-folder").mkdir()
    (folder / "binary.csv").write_bytes(b"\xff\xfe\x00\x00\x01garbage\x00")
    (folder / "not-a-database.db").write_bytes(b"this is not SQLite" * 100)
    return folder, env, db


def _run(desk, *args, env=None):
    folder, base_env, _db = desk
    return subprocess.run([sys.executable, "-m", "backoffice", *args], env=env or base_env, cwd=folder,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def _says_a_sentence(done) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.startswith("backoffice:")]
    assert lines, done.stderr
    assert not RAW.search(done.stderr), done.stderr
    return lines[-1]


@pytest.mark.parametrize("args", [
    ["import-customers", "no-such-file.csv"],
    ["import-customers", "a-folder"],
    ["import-customers", "binary.csv"],
    ["lists", "import", "--list", "Email newsletter", "a-folder"],
    ["lists", "import", "--list", "Email newsletter", "binary.csv"],
    ["lists", "import", "--list", "Email newsletter", "no-such-file.csv"],
    ["policy-notice", "--title", "T", "--text-file", "binary.csv", "--effective", "2027-01-01", "--out", "n.csv"],
    ["policy-notice", "--title", "T", "--text-file", "a-folder", "--effective", "2027-01-01", "--out", "n.csv"],
    ["backup", "--out", "a-folder"],
    ["restore", "no-such-file.db"],
    ["picklist", "--out", "a-folder"],
    ["slips", "--out", "no-such-folder/slips.pdf"],
])
def test_wrong_files_are_answered_with_a_sentence(desk, args):
    _folder, _env, db = desk
    _says_a_sentence(_run(desk, *args, "--db", db, "--as", "owner"))


@pytest.mark.parametrize("db", ["nosuch://x", "postgresql://nobody@127.0.0.1:1/x", "sqlite:////no/such/folder/x.db"])
def test_bad_database_addresses_are_answered_with_a_sentence(desk, db):
    _says_a_sentence(_run(desk, "audit", "verify", "--db", db))


@pytest.mark.parametrize("args", [
    # A file that is not a database: SQLite says so only once it is read.
    ["audit", "verify", "--db", "sqlite:///not-a-database.db"],
    # A place no file can be made: the slips are made, then writing them fails.
    ["slips", "--out", "/proc/slips.pdf", "--as", "owner"],
])
def test_an_unexpected_failure_says_where_the_details_are_and_the_log_holds_the_traceback(desk, args):
    folder, _env, db = desk
    log = folder / "log" / "backoffice.log"
    before = log.read_text(encoding="utf-8") if log.exists() else ""
    if "--db" not in args:
        args = [*args, "--db", db]
    line = _says_a_sentence(_run(desk, *args))
    assert f"the details are in the log, {log}" in line
    written = log.read_text(encoding="utf-8")[len(before):]
    assert "Traceback (most recent call last)" in written
    assert re.search(r"\n[\w.]+(Error|Exception): ", written)
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_a_log_folder_that_cannot_be_made_is_said_and_the_command_still_answers(desk):
    folder, env, _db = desk
    line = _says_a_sentence(_run(desk, "audit", "verify", "--db", "sqlite:///not-a-database.db",
                                 env={**env, "BACKOFFICE_LOG_DIR": str(folder / "binary.csv" / "log")}))
    assert "the details could not be written to a log file" in line
