"""Short, explicit helpers for tests: log in through the fake Spotify, read CSRF tokens."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_from(html: bytes | str) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    match = _META.search(text)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


def csrf_token(client) -> str:
    """A CSRF token for the client's session (read from a page, as a browser would)."""
    return csrf_from(client.get("/").data)


def login(client, fake, spotify_id: str = "listener-1", display_name: str | None = None,
          scopes: str | None = None, next_path: str | None = None):
    """Log `client` in as `spotify_id` through /login → fake /authorize → /callback.

    The Flask test client can't follow a redirect to another host, so the Spotify leg is a real
    HTTP request to the fake server, exactly as a browser would make it.
    """
    fake.add_user(spotify_id, display_name=display_name or spotify_id.replace("-", " ").title())
    fake.authorize_as(spotify_id)
    query = {}
    if scopes:
        query["scopes"] = scopes
    if next_path:
        query["next"] = next_path
    response = client.get("/login", query_string=query)
    assert response.status_code == 302, response.data
    authorize = response.headers["Location"]
    approved = requests.get(authorize, allow_redirects=False, timeout=5)
    assert approved.status_code in (302, 303), approved.text
    callback = urlsplit(approved.headers["Location"])
    response = client.get(callback.path, query_string=parse_qs(callback.query))
    return response


def spotify_id(n: int, prefix: str = "t") -> str:
    """A valid-looking 22-character Spotify id, distinct per n and prefix."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    digits = ""
    value = n
    for _ in range(8):
        digits = alphabet[value % 62] + digits
        value //= 62
    return (prefix * 14)[:14] + digits


def dev_style_csv(n: int) -> str:
    """A catalogue CSV of n tracks in the labelled dev set's layout (features spread, mood labels)."""
    header = "name,album,artist,id,release_date,popularity,length,danceability,acousticness,energy," \
             "instrumentalness,liveness,valence,loudness,speechiness,tempo,key,time_signature,mood"
    lines = [header]
    for i in range(n):
        lines.append(",".join([
            f"Song {i}", f"Album {i}", f"Artist {i % 7}", spotify_id(i), "2020-01-01", str(i % 100),
            str(180000 + i), "0.5", f"{(i % 10) / 10:.1f}", f"{(i % 9) / 10:.1f}", "0.1", "0.1",
            f"{(i % 8) / 10:.1f}", "-8.5", "0.04", "120.0", str(i % 12), "4",
            ["Calm", "Sad", "Happy", "Energetic"][i % 4]]))
    return "\n".join(lines) + "\n"
