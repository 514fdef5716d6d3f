"""gunicorn settings of Tavoli, for `make serve` and deploy/tavoli-web.service: `gunicorn -c deploy/gunicorn.conf.py`.

Request paths carry secrets (sign-in links, private feeds, unsubscribe and answer links, check-in codes): the
access log and the error log write them as a placeholder (rules in scheduler/logredact.py). Address and
processes stay on the command line (`--bind`, `--workers`), which overrides this file.

scheduler/logredact.py is loaded by its path, not imported: importing anything of the `scheduler` package in
gunicorn's master keeps that package loaded there, and `systemctl reload` would start new workers with old code.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from gunicorn.glogging import Logger


def _load_logredact() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "scheduler" / "logredact.py"
    spec = importlib.util.spec_from_file_location("tavoli_logredact", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


logredact = _load_logredact()


class RedactingLogger(Logger):
    """gunicorn's logger with every atom of the access log (request line, path, query, referer, headers)
    redacted, whatever `access_log_format` uses, and the error log's messages too."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        return logredact.redact_atoms(super().atoms(resp, req, environ, request_time))

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # "Error handling request /feed/…", "Invalid request from …": the error log quotes paths as well
        self.error_log.addFilter(logredact.FILTER)


logger_class = RedactingLogger
#: The access log on stdout (make serve's terminal, the journal under systemd); `--access-logfile` overrides.
accesslog = "-"
