"""gunicorn's access log (off unless GUNICORN_ACCESS_LOG is set), escaped like the app's log.

gunicorn writes the percent-decoded path as it came: ``/x%0a…`` would start a line of its
own. Every field is written with its control characters escaped instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from plugin.text import escape_controls


class AccessLogger(Logger):  # type: ignore[misc]
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> Any:
        return {
            key: escape_controls(value) if isinstance(value, str) else value
            for key, value in super().atoms(resp, req, environ, request_time).items()
        }
