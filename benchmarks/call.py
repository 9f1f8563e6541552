"""From `backoffice call NUMBER` to the caller on screen: `python -m benchmarks.call [--customers N] [--rounds R]`.

Runs the app's window offscreen in this process (a demo shop in a temporary SQLite
file, the desk's call channel served as in the app), then, each round, starts the
program `backoffice call NUMBER` as a separate process, as a phone system does, and
times until the incoming-call card shows the caller's name. Beside it, measured in the
same run: the app's own search for that number (`search_customers`, the floor), the
whole lookup the card makes (`identify_caller`), and a bare Python start
(`python -c pass`), which every phone system's program start pays.
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

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_TMP = Path(tempfile.mkdtemp(prefix="backoffice-bench-call-"))
os.environ["BACKOFFICE_RUNTIME_DIR"] = str(_TMP / "run")
os.environ["BACKOFFICE_DESK"] = "bench"
os.environ["BACKOFFICE_DATA_DIR"] = str(_TMP / "data")

from PySide6.QtCore import QEventLoop, QSettings, QTimer, qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import select  # noqa: E402

from backoffice.db import open_database  # noqa: E402
from backoffice.demo.load import fill_demo_database  # noqa: E402
from backoffice.domain import Customer  # noqa: E402
from backoffice.domain.enums import CustomerStatus  # noqa: E402
from backoffice.services import calls, customers  # noqa: E402
from backoffice.services import staff as staff_service  # noqa: E402
from ui.settings import desk_settings  # noqa: E402
from ui.shell.app import build_window  # noqa: E402
from ui.calls.router import CallRouter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


def _timed(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)

    app = QApplication(sys.argv[:1])
    # Offscreen, Qt says on every call that it cannot raise a window; nothing to learn from it.
    qInstallMessageHandler(lambda mode, context, message: None if "This plugin does not support" in message
                           else sys.stderr.write(message + "\n"))
    ini = str(_TMP / "desk.ini")
    desk_settings.settings = lambda: QSettings(ini, QSettings.Format.IniFormat)
    db = open_database(f"sqlite:///{_TMP / 'shop.db'}")
    t0 = time.perf_counter()
    fill_demo_database(db, customers=args.customers, orders=args.customers * 2, seed=7)
    print(f"demo shop: {args.customers} customers, {args.customers * 2} orders "
          f"({time.perf_counter() - t0:.0f} s to fill)")
    staff_service.use_fast_hashing_for_tests()
    owner = staff_service.create_first_owner(db, login="bench", display_name="Bench", password="bench-password-1")
    with db.read() as s:
        rows = s.execute(select(Customer.id, Customer.first_name, Customer.last_name, Customer.phone)
                         .where(Customer.phone != "", Customer.status == CustomerStatus.ACTIVE)
                         .order_by(Customer.id).limit(args.rounds * 3)).all()
    targets = [(r.phone, f"{r.first_name} {r.last_name}".strip()) for r in rows][:args.rounds]
    if not targets:
        print("no customer with a phone in the demo shop", file=sys.stderr)
        return 1

    window = build_window(db, owner)
    window.resize(1024, 700)
    window.show()
    router = CallRouter()
    if not router.start():
        print("the desk's call channel is taken", file=sys.stderr)
        return 1
    panel = router.attach(window, None)
    # When the app hears the number: splits the time into the command's part and the app's.
    heard: list[float] = []
    deliver = router.deliver
    router.channel._on_call = lambda number: (heard.append(time.perf_counter()), deliver(number, "local"))[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def wait_for(condition, limit_s: float = 30.0) -> None:
        """Run the event loop, as the app does, until `condition` holds (checked every millisecond)."""
        if condition():
            return
        loop = QEventLoop()
        deadline = time.perf_counter() + limit_s
        timer = QTimer()
        timer.setInterval(1)
        timer.timeout.connect(lambda: loop.quit() if condition() or time.perf_counter() > deadline else None)
        timer.start()
        loop.exec()
        timer.stop()
        if not condition():
            raise SystemExit("the caller did not show within 30 s")

    # One call first, so that the first round does not time the app's own warming up.
    router.deliver(targets[0][0], "local")
    wait_for(lambda: panel.cards and panel.cards[0].call is not None)

    to_screen, exit_times, handed, app_part = [], [], [], []
    for number, name in targets:
        before = len(panel.cards)
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "ui.shell.launcher", "call", number, "--no-start"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: len(panel.cards) > before and panel.cards[0].call is not None)
        shown = time.perf_counter() - t0
        handed.append(heard[-1] - t0)
        app_part.append(shown - handed[-1])
        card = panel.cards[0]
        if name and name not in card.caller_text():
            print(f"round with {number}: the card shows {card.caller_text()!r}, not {name!r}", file=sys.stderr)
        wait_for(lambda: proc.poll() is not None)
        exit_times.append(time.perf_counter() - t0)
        to_screen.append(shown)
        panel.put_all_away()
        # Calls come seconds apart: let the app finish putting the card away and repainting first.
        settle = time.perf_counter() + 0.2
        wait_for(lambda: time.perf_counter() >= settle)

    numbers = [n for n, _ in targets]
    search = []
    lookup = []
    for n in numbers:
        search += _timed(lambda n=n: customers.search_customers(db, actor=owner, query=n, limit=6), 5)
        lookup += _timed(lambda n=n: calls.identify_caller(db, actor=owner, number=n), 5)
    bare = _timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 10)

    router.close()
    window.ctx.tasks.wait_all(10_000)
    window.close()
    db.dispose()

    screen_med, screen_p95 = _ms(to_screen)
    search_med, search_p95 = _ms(search)
    lookup_med, lookup_p95 = _ms(lookup)
    bare_med, bare_p95 = _ms(bare)
    exit_med, _ = _ms(exit_times)
    handed_med, handed_p95 = _ms(handed)
    app_med, app_p95 = _ms(app_part)
    print(f"rounds: {len(to_screen)} calls, each a new `backoffice call NUMBER` process")
    print(f"{'':44}{'median':>10}{'p95':>10}")
    print(f"{'backoffice call NUMBER -> caller on screen':44}{screen_med:9.1f}ms{screen_p95:9.1f}ms")
    print(f"{'  of which: start to the app hearing it':44}{handed_med:9.1f}ms{handed_p95:9.1f}ms")
    print(f"{'  of which: heard to the caller on screen':44}{app_med:9.1f}ms{app_p95:9.1f}ms")
    print(f"{'  the command ends (answered SHOWN)':44}{exit_med:9.1f}ms")
    print(f"{'floor: the app own search (search_customers)':44}{search_med:9.2f}ms{search_p95:9.2f}ms")
    print(f"{'the card lookup (identify_caller)':44}{lookup_med:9.2f}ms{lookup_p95:9.2f}ms")
    print(f"{'a bare Python start (python -c pass)':44}{bare_med:9.1f}ms{bare_p95:9.1f}ms")
    print(f"ratio to the search: {screen_med / search_med:.0f}x; to a bare Python start: "
          f"{screen_med / bare_med:.1f}x; target under 300 ms: median {'met' if screen_med < 300 else 'NOT met'}, "
          f"p95 {'met' if screen_p95 < 300 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
