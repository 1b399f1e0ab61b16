"""Spotify references: turning what an admin or curator pastes (links, URIs, bare ids, search
queries) into normalised seeds, and reading a track's id from any of them.

Pure functions: no I/O, so every accepted and rejected form is cheap to test. Here rather than in
`catalogue/` because moods (their example tracks) and the catalogue (seeds, imports) both read
references, and moods must not depend on the catalogue.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from curator.problems import Unprocessable

KINDS = ("playlist", "artist", "track", "search")
LINKED_KINDS = ("playlist", "artist", "track")
MAX_QUERY = 250

_BASE62_ID = re.compile(r"^[0-9A-Za-z]{22}$")
# spotify:playlist:ID, and the older spotify:user:NAME:playlist:ID
_URI = re.compile(r"^spotify:(?:user:[^:\s]+:)?(playlist|artist|track|album|episode|show|user):([^:\s]+)$")
_HOSTS = {"open.spotify.com", "play.spotify.com"}
# /playlist/ID, /intl-de/track/ID, /embed/playlist/ID, /user/NAME/playlist/ID
_PATH = re.compile(r"^/(?:intl-[a-zA-Z-]+/)?(?:embed/)?(?:user/[^/]+/)?(playlist|artist|track|album|episode|show)/([^/]+)/?$")


class SeedInvalid(Unprocessable):
    """What the admin typed is not a seed of this kind; the message says why and what works."""


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _kind_word(kind: str) -> str:
    return {"search": "search query"}.get(kind, kind)


def parse_spotify_ref(text: str) -> tuple[str, str] | None:
    """(kind, id) from a Spotify link or URI, or None when `text` is neither."""
    text = text.strip()
    match = _URI.match(text)
    if match:
        return match.group(1), match.group(2)
    candidate = text if "://" in text else ("https://" + text if text.startswith(("open.spotify.com/", "play.spotify.com/")) else "")
    if not candidate:
        return None
    parts = urlsplit(candidate)
    if parts.scheme not in ("http", "https") or parts.hostname not in _HOSTS:
        return None
    match = _PATH.match(parts.path)
    if not match:
        return ("unknown", "")
    return match.group(1), match.group(2)


def normalise_seed(kind: str, text: str) -> str:
    """The stored value for one seed: a bare 22-character id, or the trimmed query for searches.

    Raises SeedInvalid with a message fit to show next to the field.
    """
    if kind not in KINDS:
        raise SeedInvalid(f"Unknown seed kind “{kind}”; use one of {', '.join(KINDS)}.")
    text = (text or "").strip()
    if not text:
        raise SeedInvalid(f"The {_kind_word(kind)} is empty.")
    if kind == "search":
        if len(text) > MAX_QUERY:
            raise SeedInvalid(f"A search query can be at most {MAX_QUERY} characters (this one has {len(text)}).")
        if parse_spotify_ref(text):
            raise SeedInvalid(f"“{text}” is a Spotify link, not a search query; put it under playlists, artists or tracks.")
        return " ".join(text.split())
    ref = parse_spotify_ref(text)
    if ref is None:
        if _BASE62_ID.match(text):
            return text
        raise SeedInvalid(
            f"“{text}” is not a Spotify {kind}: paste a link (https://open.spotify.com/{kind}/…), "
            f"a URI (spotify:{kind}:…) or the 22-character id."
        )
    found_kind, found_id = ref
    if found_kind == "unknown":
        raise SeedInvalid(f"“{text}” is a Spotify link, but not to {_a(kind)}.")
    if found_kind != kind:
        where = f" Put it under {found_kind}s." if found_kind in LINKED_KINDS else ""
        raise SeedInvalid(f"“{text}” is a Spotify {found_kind}, not {_a(kind)}.{where}")
    if not _BASE62_ID.match(found_id):
        raise SeedInvalid(f"“{text}” has no valid Spotify id (ids are 22 letters and digits).")
    return found_id
