"""How long the app takes to open: `python -m benchmarks.startup [--customers 1000000] [--runs 7] [--db URL]`.

Each run starts a new Python process (cold, as a person double-clicking the program) and
times, from just before the process is started, until the main window has painted on a
database of that many customers, signed in as the owner (the sign-in dialog is left out:
it waits for a person), until a key typed then has reached the search box in front, and
until Home's figures show (the database opens behind the painted window). A third process
times what a person sees first: `run_app` up to the sign-in window painted, and a key typed
reaching its login box. Beside them, in the same run and interleaved with them, the floor: a
bare PySide6 process that opens an empty QMainWindow and paints it. Medians of the runs, and
the ratios.
`--memory` also starts `backoffice --self-test` (every screen built) and the bare window,
and prints their peak memory.

Runs offscreen (QT_QPA_PLATFORM=offscreen) unless a display is set up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Both children print `painted <monotonic>` at the first paint of their window and
# `typed <monotonic>` once a key sent right after it has been handled. CLOCK_MONOTONIC
# is one clock for every process on the machine.
_BARE = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
box = QLineEdit()
window.setCentralWidget(box)
window.resize(1024, 700)


class Painted(QObject):
    done = False

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not self.done:
            self.done = True
            print("painted", time.monotonic(), flush=True)
            QTimer.singleShot(0, type_key)
        return False


def type_key():
    target = app.focusWidget() or box
    app.sendEvent(target, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier, "a"))
    if isinstance(target, QLineEdit) and target.text():
        print("typed", time.monotonic(), flush=True)
    app.quit()


painted = Painted()
window.installEventFilter(painted)
box.installEventFilter(painted)
window.show()
box.setFocus()
app.exec()
"""


def _mark_first_paint(watched, kind, then):
    """Print `painted` at the first paint of a `kind` widget seen by an event filter on `watched`
    (a window, or the application), then call `then(widget)` from the event loop."""
    from PySide6.QtCore import QEvent, QObject, QTimer  # late: only the timed children load Qt

    class Painted(QObject):
        done = False

        def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
            if not self.done and event.type() == QEvent.Type.Paint and isinstance(obj, kind):
                self.done = True
                print("painted", time.monotonic(), flush=True)
                QTimer.singleShot(0, lambda: then(obj))
            return False

    marker = Painted()
    watched.installEventFilter(marker)
    return marker


def _type_a(app):
    """Send the key "a" to the widget with the focus; the widget, and the one with the focus after."""
    from PySide6.QtCore import QEvent, Qt  # late: only the timed children load Qt
    from PySide6.QtGui import QKeyEvent  # late: as above

    target = app.focusWidget()
    if target is not None:
        app.sendEvent(target, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier, "a"))
    return target, app.focusWidget()


def _app_child(url: str) -> None:
    """The app's own start, as `ui.shell.app.run_app` runs it once the owner has signed in.

    The database is opened behind the window (`DatabaseOpening`), as the app does: the window
    paints first and the Home screen's figures follow. Prints `painted`, `typed` and `filled`
    (the figures on Home) with their times.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QLineEdit

    from ui.shell import app as ui_app
    from ui.shell import window_state
    from ui.common.opening import DatabaseOpening
    from backoffice.domain.enums import Role
    from backoffice.domain.roles import Actor

    ui_app.configure_logging()
    app = ui_app.application()
    ui_app.install_excepthook()
    router = ui_app._open_call_channel(app, demo=False)
    opening = DatabaseOpening(url)
    opening.failed.connect(lambda exc: (print("failed", exc, flush=True), app.quit()))
    actor = Actor(staff_id=None, login="owner", role=Role.OWNER, desk="benchmark")
    window = ui_app.build_window(None, actor, opening=opening)
    window_state.restore(window, ui_app.desk_name())
    lock = ui_app._install_idle_lock(app, window, None)
    if router:
        window.settled.connect(lambda: router.attach(window, lock))
    marks = {}

    def type_key(_window):
        target, now = _type_a(app)
        # Home's find box keeps what is typed until the database is open, then hands it to
        # the Customers screen's search box.
        if any(isinstance(w, QLineEdit) and w.text() == "a" for w in (target, now)):
            print("typed", time.monotonic(), flush=True)
        poll.start(2)

    home = window.screens["HomeScreen"]

    def check_filled():
        if home.summary is not None and "filled" not in marks:
            marks["filled"] = time.monotonic()
            print("filled", marks["filled"], flush=True)
            poll.stop()
            # Let the work started at the opening finish, so the process ends cleanly.
            QTimer.singleShot(0, window.close)

    poll = QTimer()
    poll.timeout.connect(check_filled)
    painted = _mark_first_paint(window, type(window), type_key)  # noqa: F841 (kept alive)
    window.show()
    opening.start()
    app.exec()
    if router:
        router.detach()
        router.close()
    window.ctx.tasks.wait_all(30_000)
    if lock is not None:
        lock.stop()
    if opening.ready:
        opening.result().dispose()


def _sign_in_child(url: str) -> None:
    """The app's start as a person sees it first: `run_app` up to the sign-in window.

    Prints `painted` when the sign-in window has painted and `typed` once a key sent then has
    reached its login box; the database opens behind it meanwhile.
    """
    from PySide6.QtWidgets import QDialog, QLineEdit

    from ui.shell import app as ui_app
    from ui.shell.sign_in import sign_in
    from ui.common.opening import DatabaseOpening

    ui_app.configure_logging()
    app = ui_app.application()
    ui_app.install_excepthook()
    router = ui_app._open_call_channel(app, demo=False)
    opening = DatabaseOpening(url).start()

    def type_key(dialog):
        target, _now = _type_a(app)
        if isinstance(target, QLineEdit) and target.text().endswith("a"):
            print("typed", time.monotonic(), flush=True)
        dialog.done(0)

    painted = _mark_first_paint(app, QDialog, type_key)
    sign_in(opening, desk="benchmark")
    app.removeEventFilter(painted)
    if router:
        router.close()
    opening.result().dispose()


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["BACKOFFICE_DATA_DIR"] = str(data_dir)
    env["BACKOFFICE_RUNTIME_DIR"] = str(data_dir / "run")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    # An installed program runs from compiled bytecode: let the untimed first run write it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float | None, float | None]:
    """Seconds from starting `cmd` to its window painted, to a key typed and to Home's figures
    shown (None if not)."""
    t0 = time.monotonic()
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    marks = {}
    for line in out.stdout.splitlines():
        word, _, value = line.partition(" ")
        if word in ("painted", "typed", "filled"):
            marks[word] = float(value)
    if "painted" not in marks:
        raise SystemExit(f"{' '.join(cmd)} did not paint a window:\n{out.stdout}\n{out.stderr}")
    typed, filled = marks.get("typed"), marks.get("filled")
    return (marks["painted"] - t0, (typed - t0) if typed is not None else None,
            (filled - t0) if filled is not None else None)


_PEAK = r"""
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if done.returncode != 0:
    sys.exit(done.stdout + done.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_mb(cmd: list[str], env: dict[str, str]) -> float:
    """The peak resident memory of `cmd`, in MB, as the kernel counted it for the process.

    Through a small parent process of its own, whose only child is `cmd`.
    """
    out = subprocess.run([sys.executable, "-c", _PEAK, *cmd], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return int(out.stdout.split()[-1]) / 1024


def _peak_own_mb(cmd: list[str], env: dict[str, str]) -> float | None:
    """The peak of `cmd`'s own memory (RssAnon: not files mapped in, such as the SQLite database
    the app maps up to 1 GiB of, nor shared libraries), sampled every 10 ms; None off Linux."""
    if not Path("/proc/self/status").exists():
        return None
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.01)
    proc.wait()
    return peak / 1024


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:6.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--db", help="database URL (default: the customer-search benchmark's cached SQLite file)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--memory", action="store_true", help="also the self-test's peak memory")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--sign-in-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _app_child(args.child)
        return 0
    if args.sign_in_child:
        _sign_in_child(args.sign_in_child)
        return 0

    from benchmarks.lookup import cache_url, prepare

    url = args.db or cache_url(args.customers)
    prepare(url, args.customers).dispose()
    data_dir = Path(tempfile.mkdtemp(prefix="backoffice-bench-startup-"))
    env = _env(data_dir)
    python = sys.executable
    app_cmd = [python, "-m", "benchmarks.startup", "--child", url]
    sign_in_cmd = [python, "-m", "benchmarks.startup", "--sign-in-child", url]
    bare_cmd = [python, "-c", _BARE]
    # One of each first, untimed: the files they read are then in the page cache, as on a
    # desk where the program ran before.
    _run(bare_cmd, env)
    _run(app_cmd, env)
    _run(sign_in_cmd, env)
    bare, app, bare_typed, app_typed, app_filled = [], [], [], [], []
    signin, signin_typed = [], []
    nan = float("nan")
    for _ in range(args.runs):
        painted, typed, _filled = _run(bare_cmd, env)
        bare.append(painted)
        bare_typed.append(typed if typed is not None else nan)
        painted, typed, filled = _run(app_cmd, env)
        app.append(painted)
        app_typed.append(typed if typed is not None else nan)
        app_filled.append(filled if filled is not None else nan)
        painted, typed, _filled = _run(sign_in_cmd, env)
        signin.append(painted)
        signin_typed.append(typed if typed is not None else nan)
    print(f"start-up, {args.customers:,} customers on {url.split('://')[0]}, {args.runs} runs each, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}")
    print(f"  bare PySide6 window painted:   {_ms(bare)}")
    print(f"  back office main window:       {_ms(app)}")
    print(f"  ratio:                         {statistics.median(app) / statistics.median(bare):.2f}x")
    print(f"  a key typed reaches the box:   bare {_ms(bare_typed)}; back office {_ms(app_typed)}")
    print(f"  Home's figures shown:          {_ms(app_filled)}")
    print(f"  the sign-in window painted:    {_ms(signin)} (ratio {statistics.median(signin) / statistics.median(bare):.2f}x); "
          f"a key in its login box {_ms(signin_typed)}")
    if args.memory:
        app_peak = _peak_mb([python, "-m", "ui.shell.launcher", "--self-test", "--db", url], env)
        bare_peak = _peak_mb(bare_cmd, env)
        print(f"  peak memory: backoffice --self-test {app_peak:.0f} MB, bare window {bare_peak:.0f} MB "
              f"(ratio {app_peak / bare_peak:.1f}x), as the kernel counts a process's peak (files mapped in included)")
        app_own = _peak_own_mb([python, "-m", "ui.shell.launcher", "--self-test", "--db", url], env)
        bare_own = _peak_own_mb(bare_cmd, env)
        if app_own is not None and bare_own:
            print(f"  its own memory (no files mapped in): backoffice --self-test {app_own:.0f} MB, "
                  f"bare window {bare_own:.0f} MB (ratio {app_own / bare_own:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
