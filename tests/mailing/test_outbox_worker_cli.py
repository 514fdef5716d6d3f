"""`flask worker`: one pass with --once, or a loop that runs the periodic hooks and stops on a signal."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from outbox_helpers import SUBJECT, load, queue

from scheduler.mailing.models import OutboxStatus
from scheduler.mailing.services import enqueue
from scheduler.mailing.worker import register_periodic, run_worker


def test_once_delivers_what_is_due_and_prints_a_summary(app, runner):
    ids = [queue(app), queue(app, to="altro@ente-esempio.it")]

    result = runner.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Inviati 2, in attesa 0, falliti 0."
    assert len(list(Path(app.config["MAIL_FILE_DIR"]).glob("*.eml"))) == 2
    assert {load(app, i).status for i in ids} == {OutboxStatus.SENT}


def test_once_over_smtp(smtp_app, smtp_server, runner):
    queue(smtp_app)

    result = runner.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Inviati 1, in attesa 0, falliti 0."
    [mail] = smtp_server.wait_for(1)
    assert mail["Subject"] == SUBJECT


def test_once_with_the_server_down_reports_the_message_waiting(smtp_app, smtp_server, runner):
    message_id = queue(smtp_app)
    smtp_server.stop()

    result = runner.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Inviati 0, in attesa 1, falliti 0."
    assert load(smtp_app, message_id).status is OutboxStatus.PENDING


def test_loop_runs_periodic_hooks_and_delivers_what_they_queue(app, caplog):
    stop = threading.Event()
    calls = {"reminders": 0, "broken": 0}

    def reminders() -> None:
        from scheduler.extensions import db

        calls["reminders"] += 1
        if calls["reminders"] == 1:
            enqueue(to="ente@ente-esempio.it", subject="Promemoria", text="Domani l'incontro.")
            db.session.commit()
        if calls["reminders"] == 3:
            stop.set()

    def broken() -> None:
        calls["broken"] += 1
        raise RuntimeError("reminder bug")

    register_periodic(app, broken)
    register_periodic(app, reminders)
    worker = threading.Thread(target=run_worker, args=(app,), kwargs={"interval": 0.05, "stop": stop})
    worker.start()
    worker.join(timeout=10)

    assert not worker.is_alive()
    assert calls == {"reminders": 3, "broken": 3}  # a failing hook does not stop the others or the loop
    assert "periodic task" in caplog.text
    [path] = Path(app.config["MAIL_FILE_DIR"]).glob("*.eml")
    assert b"Promemoria" in path.read_bytes()


def test_loop_stops_cleanly_on_sigterm(app):
    before = signal.getsignal(signal.SIGTERM)
    message_id = queue(app)
    calls = []

    def send_sigterm_on_second_pass() -> None:
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    register_periodic(app, send_sigterm_on_second_pass)
    stats = run_worker(app, interval=0.05)

    assert stats.sent == 1
    assert len(calls) == 2
    assert load(app, message_id).status is OutboxStatus.SENT
    assert signal.getsignal(signal.SIGTERM) == before  # handler given back
