"""Performance benchmarks: a realistic dataset on PostgreSQL, the app under gunicorn, and recorded results.

Nothing here is imported by the application; `make bench` runs `python -m bench.run`.
"""
