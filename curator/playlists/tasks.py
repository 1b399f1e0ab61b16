"""The playlist domain's background work on the job runner (curator/jobs/)."""
from __future__ import annotations

from curator import jobs
from curator.playlists import service


@jobs.task("playlists.finish_save")
def finish_save(*, save_id: int) -> None:
    """Carry on with a save whose request ran out of time (with SAVE_ANSWER_SECONDS 0, saves run in
    the request; otherwise they carry on on the save threads, `save_runner`)."""
    service.finish_save(save_id)
