from scheduler.mailing import bp  # noqa: F401
