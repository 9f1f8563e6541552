"""`backoffice register-links`: make this desk open backoffice://call?number=… links with the app (Linux)."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from backoffice.errors import UserFacingError

DESKTOP_FILE = "backoffice-call.desktop"
MIME_TYPE = "x-scheme-handler/backoffice"


def register(sub) -> None:
    p = sub.add_parser(
        "register-links",
        help="make backoffice://call?number=… links open the app on this desk (Linux desktops; "
        "see the README for Windows and macOS)",
    )
    p.add_argument("--print", dest="print_only", action="store_true",
                   help="print the .desktop file instead of installing it")
    p.set_defaults(func=_register)


def program_command() -> list[str]:
    """How the desktop starts the `backoffice` program from here."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    installed = shutil.which("backoffice")
    if installed:
        return [installed]
    command = [sys.executable, "-m", "ui.shell.launcher"]
    root = Path(__file__).resolve().parents[2]
    # From a checkout: the desktop does not know the checkout's folder, so name it.
    return ["env", f"PYTHONPATH={root}", *command]


def desktop_entry() -> str:
    exec_line = " ".join(shlex.quote(part) for part in program_command()) + " call %u"
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Back office: show caller\n"
        "Comment=Shows the caller of a backoffice://call link in the back office open on this desk\n"
        f"Exec={exec_line}\n"
        "Terminal=false\n"
        "NoDisplay=true\n"
        f"MimeType={MIME_TYPE};\n"
    )


def applications_folder() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "applications"


def _register(args: argparse.Namespace) -> int:
    entry = desktop_entry()
    if args.print_only:
        print(entry, end="")
        return 0
    if not sys.platform.startswith("linux"):
        raise UserFacingError("register-links sets up Linux desktops only; the README says how to "
                              "register backoffice:// links on Windows and macOS. Nothing was changed.")
    folder = applications_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DESKTOP_FILE
    path.write_text(entry, encoding="utf-8")
    said = [f"wrote {path}"]
    for tool in (["xdg-mime", "default", DESKTOP_FILE, MIME_TYPE], ["update-desktop-database", str(folder)]):
        if shutil.which(tool[0]) is None:
            said.append(f"{tool[0]} is not installed, skipped")
            continue
        done = subprocess.run(tool, capture_output=True, text=True, check=False)
        said.append(f"{tool[0]} {'done' if done.returncode == 0 else 'failed: ' + done.stderr.strip()[:200]}")
    print("; ".join(said))
    print("backoffice://call?number=… links now open the back office on this desk.")
    return 0
