"""`backoffice lists import|export` as a person types it, with right and wrong input."""

from __future__ import annotations

import csv

from backoffice import cli
from backoffice.services import staff as staff_service

HEAD = "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP"


def owner_account(db, monkeypatch):
    staff_service.use_fast_hashing_for_tests()
    staff_service.create_first_owner(db, login="boss", display_name="Boss", password="a long enough password")
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "a long enough password")


def test_import_then_export_from_the_command_line(db, tmp_path, capsys, monkeypatch):
    owner_account(db, monkeypatch)
    file = tmp_path / "members.csv"
    file.write_text(f"{HEAD}\nada@example.com,Ada,Lovelace,2,2024-03-14 09:12:31,10.0.0.1,,\n"
                    "bad-address,Bo,Lee,2,,,,\n", encoding="utf-8")
    base = ["lists", "import", str(file), "--list", "Email newsletter", "--db", db.url, "--as", "boss"]
    assert cli.main(base) == 1
    out = capsys.readouterr().out
    assert "Line 3:" in out and "nothing was imported" in out

    file.write_text(f"{HEAD}\nada@example.com,Ada,Lovelace,2,2024-03-14 09:12:31,10.0.0.1,,\n", encoding="utf-8")
    assert cli.main([*base, "--dry-run"]) == 0
    assert "Dry run, nothing imported" in capsys.readouterr().out
    assert cli.main(base) == 0
    assert "1 subscribed" in capsys.readouterr().out

    out_file = tmp_path / "out.csv"
    export = ["lists", "export", "--list", "email newsletter", "--format", "listmonk", "--out", str(out_file),
              "--db", db.url, "--as", "boss"]
    assert cli.main(export) == 0
    assert "1 member(s) written" in capsys.readouterr().out
    with open(out_file, encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh)) == [["email", "name", "attributes"], ["ada@example.com", "Ada Lovelace", "{}"]]
    # Written over only when asked.
    assert cli.main(export) == 1
    assert "already exists" in capsys.readouterr().err


def test_an_unknown_list_is_named_with_the_lists_there_are(db, tmp_path, capsys, monkeypatch):
    owner_account(db, monkeypatch)
    assert cli.main(["lists", "export", "--list", "Nope", "--format", "mailchimp", "--out",
                     str(tmp_path / "x.csv"), "--db", db.url, "--as", "boss"]) == 1
    err = capsys.readouterr().err
    assert "no newsletter list called “Nope”" in err and "Email newsletter" in err
