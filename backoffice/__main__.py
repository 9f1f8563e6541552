"""`python -m backoffice`: the headless command line."""

import sys

from backoffice import calls_channel

# A phone system waits on `call`: hand the number over before loading anything heavy.
_call = calls_channel.call_arguments(sys.argv[1:])
if _call is not None:
    sys.exit(calls_channel.main(_call))

from backoffice.cli import main  # noqa: E402

sys.exit(main())
