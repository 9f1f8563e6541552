"""The `sync`, `store-keys` and `devstore` commands: keys from the terminal into the keyring,
the progress shown on a terminal or in a log, and the dev store's own command line."""

from __future__ import annotations

import io

from backoffice import cli, secrets
from backoffice.commands import sync as sync_command
from backoffice.services import staff


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_store_keys_reads_the_keys_without_echo_and_keeps_them_in_the_keyring(monkeypatch, capsys):
    typed = iter(["ck_abc ", "cs_def"])
    monkeypatch.setattr(sync_command.getpass, "getpass", lambda prompt: next(typed))
    monkeypatch.setattr("sys.stdin", Terminal())
    assert cli.main(["store-keys", "--store", "https://shop.example.com/"]) == 0
    assert secrets.store_credentials("https://shop.example.com") == ("ck_abc", "cs_def")
    out = capsys.readouterr().out
    assert "saved" in out and "cs_def" not in out


def test_store_keys_refuses_plain_http_to_another_computer(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Terminal())
    assert cli.main(["store-keys", "--store", "http://shop.example.com"]) == 1
    assert "https://" in capsys.readouterr().err


def test_store_keys_are_never_taken_as_arguments(capsys):
    try:
        cli.main(["sync", "--store", "https://shop.example.com", "--key", "ck_x"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_sync_without_keys_says_how_to_set_them(sqlite_db, capsys, monkeypatch):
    staff.use_fast_hashing_for_tests()
    staff.create_first_owner(sqlite_db, login="boss", display_name="Owner", password="owner-password-1")
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "owner-password-1")
    assert cli.main(["sync", "--db", sqlite_db.url, "--as", "boss", "--store", "https://shop.example.com"]) == 1
    err = capsys.readouterr().err
    assert "store-keys" in err and "Nothing was sent" in err


def test_progress_redraws_one_line_on_a_terminal_and_writes_lines_otherwise():
    tty = Terminal()
    progress = sync_command.TerminalProgress(tty)
    progress(50, 100, "Orders: 50 of 100")
    progress(100, 100, "Orders: 100 of 100")
    progress.finish()
    text = tty.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and "100.0%" in text and "#" * 30 in text

    log = io.StringIO()
    progress = sync_command.TerminalProgress(log, every=3600)
    for done in range(0, 101, 10):
        progress(done, 100, f"Orders: {done} of 100")
    progress(5, 10, "Customers: 5 of 10")
    progress.finish()
    assert log.getvalue().splitlines() == ["Orders: 0 of 100", "Orders: 100 of 100", "Customers: 5 of 10"]
    assert "\r" not in log.getvalue()


def test_devstore_hands_its_arguments_to_the_dev_stores_command_line(monkeypatch):
    seen = []
    import backoffice.store.devstore.cli as devstore_cli

    monkeypatch.setattr(devstore_cli, "main", lambda argv: seen.append(argv) or 0)
    assert cli.main(["devstore", "--port", "8123", "--customers", "7", "--orders", "30"]) == 0
    (argv,) = seen
    assert argv[argv.index("--port") + 1] == "8123"
    assert argv[argv.index("--customers") + 1] == "7" and argv[argv.index("--orders") + 1] == "30"


def test_devstore_forwards_the_old_store_switch_and_its_argv_parses(monkeypatch):
    seen = []
    import backoffice.store.devstore.cli as devstore_cli

    parse = devstore_cli.build_parser().parse_args
    monkeypatch.setattr(devstore_cli, "main", lambda argv: seen.append(argv) or 0)
    assert cli.main(["devstore", "--no-order-actions", "--store-db", "/tmp/shop.db"]) == 0
    assert cli.main(["devstore"]) == 0
    old, new = (parse(argv) for argv in seen)
    assert old.order_actions is False and old.db == "/tmp/shop.db"
    assert new.order_actions is True and new.db is None
