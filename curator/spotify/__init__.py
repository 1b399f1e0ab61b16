"""Everything that talks to Spotify: the gateway, OAuth helpers and per-user token storage."""
from __future__ import annotations

from dataclasses import replace

from flask import current_app, g

from curator import request_budget
from curator.remote_call import between_transactions
from curator.spotify.gateway import SpotifyGateway, SpotifySettings
from curator.spotify.token_store import DatabaseTokenCache


def settings() -> SpotifySettings:
    return SpotifySettings.from_config(current_app.config)


def gateway_for(user_id: int, deadline=None) -> SpotifyGateway:
    """The gateway acting as one of our users, with call counting for the admin dashboard; bounded by
    `deadline` (() -> time.monotonic() when to be done) or, by default, in a web request by its time
    budget; never calling with a database transaction open."""
    from curator.spotify.call_log import record_call

    return SpotifyGateway(settings(), DatabaseTokenCache(user_id),
                          observer=lambda op, status: record_call(op, status, user_id),
                          deadline=deadline or request_budget.deadline, before_call=between_transactions)


def job_gateway(user_id: int) -> SpotifyGateway:
    """Like `gateway_for`, for a background job that paces itself: Spotify's 429s and 5xx come back
    at once instead of being waited out inside the call (a renewed login is still retried once), so
    the job can share one pause among all its work (`curator/playlists/pace.py`)."""
    gateway = gateway_for(user_id)
    gateway.settings = replace(gateway.settings, max_retries=1, max_retry_wait=0.0)
    return gateway


def user_gateway() -> SpotifyGateway:
    """The logged-in user's gateway, built once per request."""
    if "spotify_gateway" not in g:
        g.spotify_gateway = gateway_for(g.user.id)
    return g.spotify_gateway
