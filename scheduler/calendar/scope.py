"""An admitted entity gave up areas or phases (`hooks.scope_reduced`, sent by the registry): its answers to the
meetings it may no longer attend are withdrawn through the calendar's own service."""

from __future__ import annotations

from scheduler.calendar.services import withdraw_ineligible
from scheduler.hooks import scope_reduced
from scheduler.registry.models import Application


@scope_reduced.connect
def withdraw_answers(application: Application) -> None:
    withdraw_ineligible(application)
