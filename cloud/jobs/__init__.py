"""Scheduled duties on Celery (Redis as broker; eager, in-process, in the demo).

A domain declares its jobs in its own `tasks.py` with `cloud.jobs.registry.register(Job(...))`
and is listed in `cloud.jobs.domains`; the Celery app turns every registered job into a
task and a beat entry. See docs/operations.md for running the worker and beat.
"""
