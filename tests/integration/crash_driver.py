"""Does one piece of work and dies by SIGKILL (as at a power cut) at a chosen database statement:

    python -m tests.integration.crash_driver KILL_AT COUNT_FILE WORK ARGS...

KILL_AT 0 means run to the end and write the number of statements it took to COUNT_FILE, so
the test can choose kill points spread over the whole piece of work. WORK is one of

    merge DB_URL LOGIN KEEP_ID MERGE_ID
    erase DB_URL LOGIN CUSTOMER_ID
    slips DB_URL LOGIN OUT.pdf ORDER_ID...
    import DB_URL LOGIN FILE.csv
    cli ARGS...            (the `backoffice` command line)
"""

from __future__ import annotations

import os
import signal
import sys

from sqlalchemy import event, select
from sqlalchemy.engine import Engine


def main(argv: list[str]) -> int:
    kill_at, count_file, work, *rest = argv
    kill_at = int(kill_at)
    seen = 0

    def count(*_args) -> None:
        nonlocal seen
        seen += 1
        if seen == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Engine, "before_cursor_execute", count)
    if work == "cli":
        from backoffice.cli import main as cli_main

        code = cli_main(rest)
    else:
        from backoffice.db import Database, create_db_engine
        from backoffice.domain.staff import StaffUser

        url, login, *params = rest
        db = Database(url=url, engine=create_db_engine(url))
        with db.read() as s:
            actor = s.scalars(select(StaffUser).where(StaffUser.login == login)).one().actor(desk="crash")
        if work == "merge":
            from backoffice.services import customers

            customers.merge_customers(db, actor=actor, keep_id=int(params[0]), merge_id=int(params[1]))
        elif work == "erase":
            from backoffice.services.privacy import erasure

            erasure.erase_customer(db, actor=actor, customer_id=int(params[0]))
        elif work == "slips":
            from backoffice.services.fulfilment import slips

            slips.write_slips_file(db, actor=actor, order_ids=[int(i) for i in params[1:]], path=params[0],
                                   replace=True)
        elif work == "import":
            from backoffice.services import customer_import

            customer_import.import_customers(db, actor=actor, path=params[0])
        else:
            raise SystemExit(f"unknown work {work}")
        db.dispose()
        code = 0
    with open(count_file, "w", encoding="utf-8") as f:
        f.write(str(seen))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
