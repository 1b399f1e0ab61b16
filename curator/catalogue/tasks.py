"""The catalogue's background work on the job runner (curator/jobs/)."""
from __future__ import annotations

import logging
from datetime import datetime

from curator import jobs
from curator.catalogue import covers
from curator.problems import CuratorError

log = logging.getLogger(__name__)

# A batch of cover look-ups (covers.BATCH at COVER_LOOKUPS_PER_MINUTE: under 4 minutes at the
# default 60) this often, until every track without a cover has been looked up once.
COVERS_EVERY_MINUTES = 10


@jobs.every("catalogue.covers", minutes=COVERS_EVERY_MINUTES)
def look_up_covers(*, due_at: datetime | None = None) -> None:
    """Album covers for tracks that came without one (covers.py); also `jobs.enqueue("catalogue.covers")`."""
    try:
        report = covers.look_up_as_admin(progress=lambda done, total, message: jobs.progress(done, total, message))
    except CuratorError as exc:  # no admin has logged in yet: nothing to ask Spotify with
        log.info("album covers not looked up: %s", exc)
        return
    jobs.progress(message=report.line())
