"""Everything that talks to Spotify: the gateway, OAuth helpers and per-user token storage."""
from __future__ import annotations

import os
from dataclasses import replace
from urllib.parse import urlsplit

import requests
from flask import current_app, g

from curator import caching, request_budget
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

    config = settings()
    return SpotifyGateway(config, DatabaseTokenCache(user_id), session=_http_session(config),
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


def _http_session(config) -> requests.Session:
    """A session that takes its proxies and CA bundle from the environment as requests would, but
    read once per app rather than on every call (a third of a call's CPU went to reading the
    environment again: `merge_environment_settings`)."""
    proxies, verify = caching.per_app("curator.spotify_environment", (config.api_url, config.accounts_url),
                                      lambda: _environment(config.api_url, config.accounts_url))
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(proxies)
    session.verify = verify
    return session


def _environment(*urls: str) -> tuple[dict, object]:
    """(proxies by scheme://host for each of `urls`, honouring NO_PROXY; the CA bundle or True)."""
    proxies = {}
    for url in urls:
        parts = urlsplit(url)
        proxy = requests.utils.get_environ_proxies(url).get(parts.scheme)
        if proxy:
            proxies[f"{parts.scheme}://{parts.hostname}"] = proxy
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return proxies, verify
