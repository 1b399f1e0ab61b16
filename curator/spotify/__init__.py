"""Everything that talks to Spotify: the gateway, OAuth helpers and per-user token storage."""
from __future__ import annotations

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


def user_gateway() -> SpotifyGateway:
    """The logged-in user's gateway, built once per request."""
    if "spotify_gateway" not in g:
        g.spotify_gateway = gateway_for(g.user.id)
    return g.spotify_gateway
