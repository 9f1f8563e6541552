"""Files the app writes that hold personal data: owner-only, never over someone else's
file, and CSV cells a spreadsheet will not run as formulas.

Every export, report and rejects file goes through here, so these rules have one home.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from backoffice.errors import UserFacingError

# Characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell
# as a formula or a command, also after leading spaces, tabs or line breaks.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

OWNER_ONLY = 0o600


def spreadsheet_safe(value: object) -> str:
    """The cell as text, with a leading apostrophe when a spreadsheet would run it.

    Plain negative or signed numbers ("-2.50", "+44") are formulas to a spreadsheet
    too; they are neutralised like any other, since a person's data is not arithmetic.
    """
    text = "" if value is None else str(value)
    if text and text.lstrip(" ").startswith(_FORMULA_STARTS):
        return "'" + text
    return text


class FileExistsRefused(UserFacingError):
    """The path names a file that is already there and the person did not say to replace it."""


def check_writable(path: str | os.PathLike, *, replace: bool = False,
                   protect: Iterable[str | os.PathLike] = ()) -> Path:
    """The path to write, after refusing what must not be overwritten.

    Refuses an existing file unless `replace` is true (the person said so), any file
    named in `protect` (the database, the file being imported) whatever `replace` says,
    and a folder that does not exist.
    """
    target = Path(path).expanduser()
    resolved = target.resolve()
    for other in protect:
        if other and Path(other).expanduser().resolve() == resolved:
            raise FileExistsRefused(
                f"{target} is a file the app is reading or the shop's database; "
                "choose another name for the file to write."
            )
    if not resolved.parent.is_dir():
        raise UserFacingError(f"The folder {resolved.parent} does not exist; nothing was written.")
    if resolved.is_dir():
        raise UserFacingError(f"{target} is a folder; name a file to write.")
    if resolved.exists() and not replace:
        raise FileExistsRefused(
            f"{target} already exists and was not replaced; choose another name, "
            "or say to replace it."
        )
    return target


@contextmanager
def open_private(path: str | os.PathLike, mode: str = "w", *, replace: bool = False,
                 protect: Iterable[str | os.PathLike] = (), **kwargs) -> Iterator[io.IOBase]:
    """Open a new file readable and writable by its owner only (0600).

    The file is written beside its final name and moved into place when the block ends
    without an error, so a failure leaves no half-written file and never a truncated
    copy of the one it was to replace.
    """
    target = check_writable(path, replace=replace, protect=protect)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, OWNER_ONLY)
    try:
        os.fchmod(fd, OWNER_ONLY)
    except (AttributeError, OSError):  # Windows has no fchmod; the mode above applies
        pass
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
        kwargs.setdefault("newline", "")
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class SafeCsvWriter:
    """csv.writer whose every cell is made spreadsheet-safe."""

    def __init__(self, fh, **fmt) -> None:
        fmt.setdefault("lineterminator", "\r\n")
        self._writer = csv.writer(fh, **fmt)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([spreadsheet_safe(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


@contextmanager
def private_csv(path: str | os.PathLike, *, replace: bool = False,
                protect: Iterable[str | os.PathLike] = (), **fmt) -> Iterator[SafeCsvWriter]:
    """A spreadsheet-safe CSV writer on a new owner-only file (UTF-8 with a BOM, so
    spreadsheets read accents right)."""
    with open_private(path, "w", replace=replace, protect=protect, encoding="utf-8-sig") as fh:
        yield SafeCsvWriter(fh, **fmt)


def database_files(sqlite_path: str | os.PathLike | None) -> list[Path]:
    """The files of a SQLite database (the file, its write-ahead log, shared memory and
    journal), to pass as `protect`; none for a database on a server."""
    if sqlite_path is None:
        return []
    path = Path(sqlite_path)
    return [path.with_name(path.name + tail) for tail in ("", "-wal", "-shm", "-journal")]
