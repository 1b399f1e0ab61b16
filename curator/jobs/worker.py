"""The RQ worker class for Curator's queue: `rq worker --with-scheduler --worker-class
curator.jobs.worker.Worker --url $REDIS_URL curator` (the Procfile's `worker`).

It makes the app once when it starts, before it forks a work horse per job (a plain `rq worker`
works too, but makes the app again for every job, about a second each), and puts every periodic
schedule's next due time on RQ's scheduler, so schedules run as soon as a worker does.
"""
from __future__ import annotations

from rq import Worker as RQWorker

from curator.jobs import rq_backend


class Worker(RQWorker):
    def bootstrap(self, *args, **kwargs):
        super().bootstrap(*args, **kwargs)
        app = rq_backend.preload()
        rq_backend.start_schedules(app)
