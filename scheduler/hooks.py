"""Signals by which a lower layer asks the layers above it, without importing them.

The calls and registry packages sit below the calendar and attendance, yet a call reload must plan the
meetings its file lists and a GDPR request must reach every row about an entity's people. They send a signal
here; the package that owns the rows connects a receiver when it is imported (`create_app` imports every
feature package through its blueprint), so imports keep going down the layers.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent by `calls.loader.load_call` (sender: the Call) once the call, its comuni, areas and tracks are in the
#: session, with `spec` (the parsed file) and `report` (the LoadReport to count into and warn in). The
#: calendar creates or changes the meetings the file lists. A receiver refuses with `CallFileError`.
call_loaded = _signals.signal("call-loaded")

#: Sent by `registry.services.export_data` (sender: the Organization). Each receiver returns
#: `(section name, rows as plain data)` for what its own package holds about the entity's people.
personal_data_requested = _signals.signal("personal-data-requested")

#: Sent by `registry.services.confirm_erasure` (sender: the Organization). Each receiver removes the people's
#: data from its own rows and keeps what the administration must keep (see `KEPT_AFTER_ERASURE`).
personal_data_erased = _signals.signal("personal-data-erased")

#: Sent by `registry.services.update_application` (sender: the Application) when an admitted entity gave up
#: areas or phases: the calendar withdraws its answers to meetings it may no longer attend (with a CANCEL to
#: those who hold the event).
scope_reduced = _signals.signal("scope-reduced")
