"""The command line acts only on the database it was told, and a refused command creates nothing."""

from __future__ import annotations

import pytest

from backoffice import cli


def test_db_before_the_command_is_the_database_used(tmp_path, capsys):
    target = tmp_path / "shop.db"
    assert cli.main(["--db", f"sqlite:///{target}", "db", "upgrade"]) == 0
    assert target.exists()
    assert str(target) in capsys.readouterr().out


def test_db_after_the_command_is_the_database_used(tmp_path):
    target = tmp_path / "shop.db"
    assert cli.main(["db", "upgrade", "--db", f"sqlite:///{target}"]) == 0
    assert target.exists()


def test_the_launcher_reads_db_before_the_command_too(tmp_path):
    from ui.shell import launcher

    target = tmp_path / "shop.db"
    assert launcher.main(["--db", f"sqlite:///{target}", "db", "upgrade"]) == 0
    assert target.exists()


@pytest.mark.parametrize("argv", [
    ["sync", "--store", "http://example.com"],
    ["staff", "list", "--as", "owner"],
    ["audit", "verify"],
    ["db", "status"],
])
def test_a_command_on_a_database_that_is_not_there_creates_nothing(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "x")
    target = tmp_path / "missing" / "dir" / "x.db"
    code = cli.main([*argv, "--db", f"sqlite:///{target}"])
    assert code != 0
    assert not (tmp_path / "missing").exists()
    err = capsys.readouterr().err
    assert "There is no shop database" in err and "Nothing was created" in err


def test_an_unreachable_postgresql_server_is_named_as_such(capsys):
    code = cli.main(["db", "status", "--db", "postgresql://postgres@127.0.0.1:1/shop"])
    assert code == 1
    assert "No database server answers at 127.0.0.1:1" in capsys.readouterr().err
