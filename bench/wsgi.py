"""The production app plus one bare endpoint, served by the benchmark's gunicorn and never by the real one.

`/_bench/fixed` answers a fixed 2 KB body through the same Flask stack (session interface, after-request
headers), so feed timings can be given as a ratio to the cheapest request this gunicorn can serve on this
machine in the same run, which says more than absolute numbers measured on an unknown machine.
"""

from __future__ import annotations

from flask import Response

from bench.common import FIXED_BODY
from scheduler import create_app

app = create_app()


@app.get("/_bench/fixed")
def bench_fixed() -> Response:
    return Response(FIXED_BODY, mimetype="text/plain")
