"""The colours every screen uses to say something went wrong or needs a look."""

from __future__ import annotations

#: Errors: a field's problem, a refusal, an alarm.
ERROR_COLOUR = "#b3261e"
#: Warnings and notices: something to look at, nothing refused.
WARNING_COLOUR = "#8a5a00"

ERROR_STYLE = f"color: {ERROR_COLOUR};"
WARNING_STYLE = f"color: {WARNING_COLOUR};"
