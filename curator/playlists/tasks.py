"""The playlist domain's background work on the job runner (curator/jobs/)."""
from __future__ import annotations

from curator import jobs
from curator.clock import utcnow
from curator.playlists import service


@jobs.task("playlists.finish_save")
def finish_save(*, save_id: int) -> None:
    """Carry on with a save whose request ran out of time (SAVE_ANSWER_SECONDS 0: saves in the request)."""
    service.finish_save(save_id)


@jobs.every("playlists.remove-strays", minutes=5)
def remove_strays(*, due_at=None) -> None:
    """Take out of listeners' accounts the empty playlists that creates landing late left behind,
    once each save's look for them is due (a listener's own next save does it for theirs sooner)."""
    service.remove_strays(now=utcnow())
