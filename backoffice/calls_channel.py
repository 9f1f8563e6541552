"""Handing a caller's number to the app running on this desk: `backoffice call NUMBER`.

The design, and why
-------------------
Phone systems start a program with the caller's number (MicroSIP's `cmdIncomingCall`,
3CX's `/C:<number> /T:I`) or open a `backoffice://call?number=…` link. That program
must reach the app already open on the desk, in well under a second, without loading
Qt, the database or anything else heavy: this module needs only the standard library
and platformdirs, and `ui.shell.launcher` and `python -m backoffice` hand a call to it before
they import anything else.

The app listens on one local channel per user and desk (`ui.calls.desk_channel` serves
it with QLocalServer):

* on Linux and macOS, a Unix domain socket in the user's private runtime folder
  (`$XDG_RUNTIME_DIR/backoffice`, mode 0700; `$BACKOFFICE_RUNTIME_DIR` overrides it),
  named after the desk, so only this user's programs can connect;
* on Windows, the named pipe `\\\\.\\pipe\\backoffice-<user>-<desk>`, which QLocalServer
  creates for the signed-in Windows user only.

No network port and no secret file are involved: the operating system checks who
connects. The protocol is one line each way, UTF-8:

    client: CALL +1 713 555 0199\\n      server: SHOWN | HELD | MISSED\\n
    client: SHOW\\n                       server: SHOWN\\n

SHOWN: the caller is on screen. HELD: nobody is signed in yet, the caller shows after
sign-in. MISSED: the desk is locked, so nothing is shown; the call is counted and the
count shown after unlock.

When nothing answers, `backoffice call` starts the app, waits for its channel (the app
opens it before asking who signs in) and hands the number over; it shows after sign-in.
A second app started on the same desk finds the channel answering, brings the first
one forward and exits.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
import warnings
import zlib
from urllib.parse import parse_qs, unquote, urlsplit

# Only the standard library's quick imports at the top: a phone system waits on every call,
# and a program start pays for each import. What only starting the app or finding a folder
# needs (subprocess, platformdirs, getpass) is imported where it is used.

ENV_RUNTIME_DIR = "BACKOFFICE_RUNTIME_DIR"
ENV_DESK = "BACKOFFICE_DESK"
LINK_SCHEME = "backoffice"
# Longest line either side sends; a phone number with punctuation is far shorter.
MAX_LINE = 256
MAX_NUMBER_CHARS = 40
# How long `call` waits for an app it started to open its channel (start-up, a migration).
START_WAIT_S = 60.0
_CONNECT_TIMEOUT_S = 2.0

SHOWN, HELD, MISSED = "SHOWN", "HELD", "MISSED"
_REPLIES = {
    SHOWN: "the caller is on the back office screen",
    HELD: "nobody is signed in at the back office yet; the caller shows after sign-in",
    MISSED: "the desk is locked; the call was counted and nothing was shown",
}

# Prefixes softphones and browsers put before a number: tel:, callto:, sip:, sips:.
_URI_PREFIX = re.compile(r"^(?:tel|callto|sips?):(?://)?", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^(?:\+?[0-9(]|(?:tel|callto|sips?):)", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-/]+$")


class CallError(Exception):
    """A call that cannot be handed over; the message is a sentence for the person."""


# --- reading the number ----------------------------------------------------------------------


def number_from_link(link: str) -> str:
    """The number in a `backoffice://call?number=…` link. Raises CallError."""
    parts = urlsplit(link.strip())
    if parts.scheme.lower() != LINK_SCHEME:
        raise CallError(f"{link!r} is not a backoffice:// link.")
    # "backoffice://call?number=…" puts "call" in the host; "backoffice:call?…" in the path.
    action = (parts.netloc or parts.path).strip("/").lower()
    if action != "call":
        raise CallError(f"The link asks for {action or 'nothing'!r}; backoffice links only show a caller (call?number=…).")
    values = parse_qs(parts.query, keep_blank_values=True).get("number", [])
    if len(values) != 1:
        raise CallError("The link has no number (backoffice://call?number=…).")
    return clean_number(values[0])


def clean_number(raw: str) -> str:
    """The phone number in what a phone system hands over, as typed digits and punctuation.

    Takes "+1 (713) 555-0199", "tel:+17135550199", "callto:0044…", "sip:+1713…@pbx;user=phone",
    "%2B1713…" (URL-encoded) and 3CX's "/C:+1713…". Raises CallError for anything else
    (no number, "anonymous", words, a number too long to be a phone).
    """
    text = unquote(raw or "").strip()
    if text[:3].upper() == "/C:":
        text = text[3:].strip()
    uri = _URI_PREFIX.match(text)
    if uri:
        # sip:+17135550199@pbx.example;user=phone -> the user part; tel:+1…;ext=12 -> the number.
        text = text[uri.end():].split("@", 1)[0].split(";", 1)[0].strip()
    if not text or not any(c.isdigit() for c in text):
        raise CallError("The call came without a number (a hidden or anonymous caller?); nothing was shown.")
    if len(text) > MAX_NUMBER_CHARS or not _PHONE_CHARS.match(text):
        raise CallError(f"{text[:MAX_NUMBER_CHARS]!r} is not a phone number; nothing was shown.")
    return text


def number_from_argv(argv: list[str]) -> str:
    """The number in `call`'s arguments: NUMBER, a link, or 3CX's `/C:NUMBER /T:I`."""
    # 3CX adds "/T:I" (incoming) or "/T:O"; anything else after the number is left alone.
    args = [a for a in argv if not a.upper().startswith("/T:")]
    if not args:
        raise CallError("Give the caller's number: backoffice call NUMBER.")
    first = args[0].strip()
    if first.lower().startswith(LINK_SCHEME + ":"):
        return number_from_link(first)
    return clean_number(" ".join(args))


def call_arguments(argv: list[str]) -> list[str] | None:
    """The arguments of a call when `argv` asks for one, else None.

    `backoffice call …`, 3CX's `backoffice /C:NUMBER /T:I`, a link the desktop opens
    with the program (`backoffice backoffice://call?number=…`), and a number (or a
    tel:, callto: or sip: address) as the first argument all ask for one.
    """
    if not argv:
        return None
    first = argv[0]
    if first == "call":
        return argv[1:]
    if first[:3].upper() == "/C:" or first.lower().startswith(LINK_SCHEME + ":") or _BARE_NUMBER.match(first):
        # MicroSIP's cmdIncomingCall runs the program with the bare number; a desktop's tel: handler
        # with the tel: address.
        return list(argv)
    return None


# --- where the channel is --------------------------------------------------------------------


def desk_name() -> str:
    """This desk's name: $BACKOFFICE_DESK, else the computer's name."""
    return os.environ.get(ENV_DESK) or socket.gethostname()


def _safe(text: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:40]
    return safe or "desk"


def channel_address(desk: str | None = None) -> str:
    """The local channel of this user's app on `desk` (a socket path, or a pipe name on Windows)."""
    desk = _safe(desk or desk_name())
    if sys.platform == "win32":
        import getpass  # late: Windows only

        return f"backoffice-{_safe(getpass.getuser())}-{desk}"
    folder = os.environ.get(ENV_RUNTIME_DIR)
    if not folder:
        import platformdirs  # late: a call hand-over stays quick when the runtime folder is set

        with warnings.catch_warnings():
            # Without $XDG_RUNTIME_DIR platformdirs warns and uses /tmp/runtime-<uid>, made 0700 here.
            warnings.simplefilter("ignore")
            folder = platformdirs.user_runtime_dir("backoffice", appauthor=False)
    path = os.path.join(folder, f"desk-{desk}.sock")
    if len(os.fsencode(path)) > 100:
        # Unix socket paths are limited to about 104 bytes: fall back to a short one.
        digest = f"{zlib.crc32(os.fsencode(path)):08x}"
        path = f"/tmp/backoffice-{os.getuid()}-{digest}.sock"
    return path


def prepare_channel_folder(address: str) -> None:
    """Create the socket's folder, readable by this user only."""
    if sys.platform == "win32":
        return
    folder = os.path.dirname(address)
    if folder != "/tmp":
        os.makedirs(folder, mode=0o700, exist_ok=True)


# --- talking to the app ----------------------------------------------------------------------


class NotRunning(Exception):
    """No app answers on this desk's channel."""


def send_line(line: str, *, address: str | None = None, timeout: float = _CONNECT_TIMEOUT_S) -> str:
    """Send one line to the app on this desk and return its one-line answer. Raises NotRunning."""
    address = address or channel_address()
    data = (line.replace("\n", " ") + "\n").encode("utf-8")[:MAX_LINE]
    if sys.platform == "win32":
        return _send_pipe(address, data)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.sendall(data)
            answer = b""
            while not answer.endswith(b"\n") and len(answer) < MAX_LINE:
                chunk = sock.recv(MAX_LINE)
                if not chunk:
                    break
                answer += chunk
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise NotRunning() from exc
    except OSError as exc:
        raise NotRunning() from exc
    return answer.decode("utf-8", "replace").strip()


def _send_pipe(name: str, data: bytes) -> str:
    try:
        with open(rf"\\.\pipe\{name}", "r+b", buffering=0) as pipe:
            pipe.write(data)
            return pipe.readline(MAX_LINE).decode("utf-8", "replace").strip()
    except OSError as exc:
        raise NotRunning() from exc


def app_command(db: str | None = None) -> list[str]:
    """The command line that opens the app (the installed program, or `python -m ui.shell.launcher`)."""
    if getattr(sys, "frozen", False):
        command = [sys.executable]
    else:
        command = [sys.executable, "-m", "ui.shell.launcher"]
    if db:
        command += ["--db", db]
    return command


def start_app(db: str | None = None) -> None:
    """Start the app in the background, detached from this command."""
    import subprocess  # late: only when the app has to be started

    kwargs: dict = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if sys.platform == "win32":
        kwargs["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True
    subprocess.Popen(app_command(db), **kwargs)


class Handed:
    """What became of a call handed to the app."""

    __slots__ = ("answer", "started")

    def __init__(self, answer: str, started: bool) -> None:
        self.answer = answer  # SHOWN, HELD or MISSED
        self.started = started  # True when the app was not running and this call started it

    @property
    def sentence(self) -> str:
        text = _REPLIES.get(self.answer, f"the app answered {self.answer!r}")
        return ("the back office was not running: started it; " + text) if self.started else text


def hand_over(number: str, *, db: str | None = None, start: bool = True,
              wait_s: float = START_WAIT_S, address: str | None = None) -> Handed:
    """Hand `number` to the app on this desk, starting the app when nothing answers.

    Raises CallError when the app is not running and cannot be started or reached.
    """
    line = f"CALL {number}"
    try:
        return Handed(send_line(line, address=address), started=False)
    except NotRunning:
        if not start:
            raise CallError("The back office is not running on this desk; nothing was shown.") from None
    start_app(db)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            return Handed(send_line(line, address=address), started=True)
        except NotRunning:
            continue
    raise CallError(f"The back office was started but did not answer within {wait_s:.0f} s; "
                    "the caller was not shown.")


def main(argv: list[str]) -> int:
    """`backoffice call NUMBER|LINK [--no-start] [--db URL]` and `backoffice /C:NUMBER /T:I`."""
    args = list(argv)
    start, db = True, None
    if "--no-start" in args:
        args.remove("--no-start")
        start = False
    if "--db" in args:
        i = args.index("--db")
        db = args[i + 1] if i + 1 < len(args) else None
        del args[i:i + 2]
    if any(a in ("-h", "--help") for a in args):
        print(HELP)
        return 0
    try:
        number = number_from_argv(args)
        handed = hand_over(number, db=db, start=start)
    except CallError as exc:
        print(f"backoffice: {exc}", file=sys.stderr)
        return 1
    print(f"{number}: {handed.sentence}")
    return 0


HELP = """\
usage: backoffice call NUMBER|backoffice://call?number=NUMBER [--no-start] [--db URL]
       backoffice /C:NUMBER /T:I

Shows the caller with this phone number in the back office open on this desk (any
format: "+1 713-555-0199", "tel:+17135550199", "sip:+1713…@pbx"), and starts the app
when it is not running (unless --no-start); the caller then shows after sign-in."""
