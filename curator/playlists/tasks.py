"""The playlist domain's background work on the job runner (curator/jobs/): a save that ran out of
its request's time carries on here, and the look for strays a late create may have left runs
every few minutes for everyone."""
from __future__ import annotations

import logging
from datetime import datetime

from curator import jobs
from curator.playlists import service
from curator.spotify.errors import SpotifyError

log = logging.getLogger(__name__)

FINISH_SAVE = "playlists.finish_save"


@jobs.task(FINISH_SAVE)
def finish_save(*, save_id: int) -> None:
    """Carry on with a save; what Spotify answered is recorded on the save, whose page then offers
    "Finish saving" again if it could not finish."""
    try:
        service.finish_save(save_id)
    except SpotifyError as exc:
        log.info("save %s could not be finished in the background: %s", save_id, exc)


@jobs.every("playlists.remove-strays", minutes=5)
def remove_strays(*, due_at: datetime) -> None:
    """Every finished save whose look for a stray playlist is due (`SAVE_STRAY_CHECK_SECONDS` after
    a lost create): the empty playlists a late create left are taken out of the listeners' accounts."""
    service.remove_strays()
