"""`backoffice lists import|export` as a person types it, with right and wrong input."""

from __future__ import annotations

import csv
import io

from backoffice import cli
from backoffice.services import customers as customers_service
from backoffice.services import staff as staff_service
from backoffice.services.newsletters import consent, lists

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


def test_the_suppression_key_is_copied_to_another_desk(db, tmp_path, capsys, monkeypatch, memory_keyring):
    owner_account(db, monkeypatch)
    owner = staff_service.sign_in_headless(db, login="boss", password="a long enough password")
    cid = customers_service.create_customer(db, actor=owner, first_name="A", last_name="B",
                                            email="a@example.com").customer.id
    email = lists.find_list(db, actor=owner, name="Email newsletter")
    consent.unsubscribe(db, actor=owner, customer_id=cid, list_id=email.id, method="letter")
    base = ["lists", "suppression-key", "--db", db.url, "--as", "boss"]
    assert cli.main([*base, "--show"]) == 0
    key = capsys.readouterr().out.strip()
    memory_keyring.items.clear()  # another desk: no key in its keyring
    out = tmp_path / "x.csv"
    export = ["lists", "export", "--list", "Email newsletter", "--format", "mailchimp", "--out", str(out),
              "--db", db.url, "--as", "boss"]
    assert cli.main(export) == 1
    assert "suppression-key --set" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("0" * 64 + "\n"))
    assert cli.main([*base, "--set"]) == 1
    assert "not the key" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(key + "\n"))
    assert cli.main([*base, "--set"]) == 0
    assert cli.main(export) == 0
