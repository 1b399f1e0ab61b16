"""Short, explicit helpers for tests: log in through the fake Spotify, read CSRF tokens, build
synthetic catalogues."""
from __future__ import annotations

import csv
import random
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import requests

from curator.catalogue.importer import import_csv
from curator.engine import FEATURES as FEATURE_NAMES
from curator.extensions import db

# The labelled data sets live beside the repository in ../shared/data (never copied in: no licence
# for the listener-rated one). Tests that need them skip with this one line when they are absent.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LABELLED_DEV_CSV = SHARED_DATA / "moods-labelled-dev.csv"
LISTENER_RATED_CSV = SHARED_DATA / "moods-va-dev.csv"
SHARED_DATA_ABSENT = "needs the labelled data in ../shared/data, which is absent here (not part of the repository)"


def needs_shared_data(path: Path):
    """Skip marker for a test that reads one of the labelled data sets."""
    return pytest.mark.skipif(not path.is_file(), reason=SHARED_DATA_ABSENT)


def skip_without_shared_data(path: Path) -> None:
    """The same skip, from inside a fixture."""
    if not path.is_file():
        pytest.skip(SHARED_DATA_ABSENT)

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


def logged_in(client, fake, spotify_id="listener-1", **kw) -> str:
    """Log in through the fake Spotify; return a CSRF token for the session's forms."""
    login(client, fake, spotify_id, **kw)
    return csrf_from(client.get("/").data)


def start(client, token, **fields):
    """Submit the start form (anxious -> calm, 20 tracks unless `fields` say otherwise)."""
    form = {"csrf_token": token, "from": "anxious", "to": "calm", "length": "20", "unit": "tracks", **fields}
    return client.post("/previews", data=form)


def preview_path(response) -> str:
    """The preview page a start-form answer redirected to."""
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    path = urlsplit(response.headers["Location"]).path
    assert path.startswith("/previews/")
    return path


def stored(app, path):
    """The stored preview behind a preview page's path, detached from the session."""
    from curator.extensions import db
    from curator.models.listening import Preview

    with app.app_context():
        preview = db.session.get(Preview, path.rsplit("/", 1)[-1])
        db.session.expunge(preview)
        return preview


def listened_since_saving(app, hours: float = 1.0) -> None:
    """Every saved playlist as if saved `hours` ago: time enough to listen, so the after-listening
    check-in is offered (it is not at once)."""
    from datetime import timedelta

    from curator.models.listening import PlaylistSave

    with app.app_context():
        for save in db.session.scalars(db.select(PlaylistSave).where(PlaylistSave.completed_at.is_not(None))):
            save.completed_at -= timedelta(hours=hours)
        db.session.commit()
        db.session.remove()


def api_headers(token: str, **extra) -> dict:
    """Headers for a JSON API write: the CSRF token of the session, plus any others."""
    return {"X-CSRFToken": token, **extra}


def login_with_role(client, fake, app, spotify_id: str, role: str | None):
    """Log in through the fake Spotify, then hold `role` (granted in the database, as an admin would)."""
    from curator.extensions import db
    from curator.models.user import User

    login(client, fake, spotify_id)
    if role:
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.spotify_id == spotify_id))
            user.grant(role)
            db.session.commit()
    return client


def in_app(app, func):
    """`func()` inside an app context, with the ORM session closed afterwards."""
    from curator.extensions import db

    with app.app_context():
        try:
            return func()
        finally:
            db.session.remove()


def spotify_id(n: int, prefix: str = "t") -> str:
    """A valid-looking 22-character Spotify id, distinct per n and prefix."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    digits = ""
    value = n
    for _ in range(8):
        digits = alphabet[value % 62] + digits
        value //= 62
    return (prefix * 14)[:14] + digits


def dev_style_csv(n: int, bad: dict[int, tuple[str, str]] | None = None) -> str:
    """A catalogue CSV of n tracks in the labelled dev set's layout (features spread, mood labels);
    `bad` maps a row index to (column, value) to corrupt."""
    header = "name,album,artist,id,release_date,popularity,length,danceability,acousticness,energy," \
             "instrumentalness,liveness,valence,loudness,speechiness,tempo,key,time_signature,mood"
    columns = header.split(",")
    lines = [header]
    for i in range(n):
        row = {
            "name": f"Song {i}", "album": f"Album {i}", "artist": f"Artist {i % 7}", "id": spotify_id(i),
            "release_date": "2020-01-01", "popularity": str(i % 100), "length": str(180000 + i),
            "danceability": "0.5", "acousticness": f"{(i % 10) / 10:.1f}", "energy": f"{(i % 9) / 10:.1f}",
            "instrumentalness": "0.1", "liveness": "0.1", "valence": f"{(i % 8) / 10:.1f}", "loudness": "-8.5",
            "speechiness": "0.04", "tempo": "120.0", "key": str(i % 12), "time_signature": "4",
            "mood": ["Calm", "Sad", "Happy", "Energetic"][i % 4],
        }
        for index, (column, value) in (bad or {}).items():
            if index == i:
                row[column] = value
        lines.append(",".join(row[c] for c in columns))
    return "\n".join(lines) + "\n"


dev_style = dev_style_csv  # the name the catalogue tests know it by


base62 = spotify_id  # the name the catalogue tests know it by


# -- a world of seeds in the fake Spotify: one playlist, one artist, one track, one search ---------

FEATURES = {"valence": 0.4, "energy": 0.5, "danceability": 0.5, "acousticness": 0.5, "instrumentalness": 0.1,
            "speechiness": 0.05, "liveness": 0.1, "loudness": -8.0, "tempo": 110.0, "key": 5, "mode": 1}
PLAYLIST = "PL" + base62(1, "q")[2:]
OTHERS_PLAYLIST = "PX" + base62(2, "q")[2:]
ARTIST = base62(1, "A")
TRACK = base62(1, "T")
QUERY = "genre:ambient year:2010-2024"


def build_world(fake, *, playlist_tracks=120, albums=12, per_album=3, search_hits=25, featureless=3):
    """Seedable data in the fake; returns the ids of every track a refresh should find."""
    found = []
    playlist_ids = [base62(i, "p") for i in range(playlist_tracks)]
    for tid in playlist_ids:
        fake.add_track(tid, name=f"Playlist song {tid[-3:]}", artists=[(base62(9, "a"), "Pat Player")],
                       album=(base62(9, "b"), "Playlist album"), isrc=f"GBAAA{tid[-7:].upper()}")
    fake.add_user("admin-user", display_name="Ada Admin")
    fake.add_playlist(PLAYLIST, owner="admin-user", track_ids=playlist_ids)
    found += playlist_ids
    for a in range(albums):
        album_id = base62(a, "L")
        for t in range(per_album):
            tid = base62(a * 100 + t, "r")
            fake.add_track(tid, name=f"Artist song {a}-{t}", artists=[(ARTIST, "Arty")], album=(album_id, f"Album {a}"))
            found.append(tid)
    fake.add_track(TRACK, name="Single seed", artists=[(base62(3, "a"), "Solo")])
    found.append(TRACK)
    hits = [base62(i, "s") for i in range(search_hits)]
    for tid in hits:
        fake.add_track(tid, name=f"Ambient {tid[-3:]}", artists=[(base62(4, "a"), "Drone")])
    fake.add_search_results(QUERY, hits)
    found += hits
    for tid in found[featureless:]:
        fake.set_features(tid, FEATURES)
    return found


def add_seeds(app, mood="calm", **texts):
    """Save seed lists for `mood` as an admin would (playlist=..., artist=..., track=..., search=...)."""
    from curator.catalogue import seeds
    from curator.transaction import transaction

    def save():
        with transaction():  # as admin.service.save_seeds does, for any mood (some tests have none stored)
            seeds.save_mood_seeds(mood, texts)

    in_app(app, save)


# -- the JSON API, as a client of it would call it -------------------------------------------------

# The Spotify operations a listener's journey may use (besides playlist items and the cover).
CURRENT_OPERATIONS = {("GET", "/v1/me"), ("POST", "/v1/me/playlists"), ("GET", "/v1/me/playlists")}


def _spotify_operation(call) -> tuple[str, str]:
    path = call.path
    if path.startswith("/v1/playlists/"):
        parts = path.split("/")
        path = "/v1/playlists/{id}/" + "/".join(parts[4:]) if len(parts) > 4 else "/v1/playlists/{id}"
    return call.method, path


def assert_only_current_operations(fake) -> None:
    """Every call the app made to the fake Spotify was a current operation, and none broke the spec."""
    allowed = CURRENT_OPERATIONS | {("POST", "/v1/playlists/{id}/items"), ("GET", "/v1/playlists/{id}/items"),
                                    ("PUT", "/v1/playlists/{id}/images")}
    used = {_spotify_operation(c) for c in fake.calls() if c.path.startswith("/v1/")}
    assert used <= allowed, used - allowed
    assert not fake.violations


def api_login(client, fake, spotify_id: str = "listener-1") -> str:
    """Log in through the fake Spotify; return the CSRF token the API's writes need."""
    login(client, fake, spotify_id)
    return client.get("/api/v1/session").json["csrf_token"]


def api_preview(client, token, **body) -> dict:
    """POST /api/v1/previews (anxious -> calm, 20 tracks unless `body` says otherwise); the answer's JSON."""
    body = {"from": "anxious", "to": "calm", "tracks": 20, **body}
    response = client.post("/api/v1/previews", json=body, headers=api_headers(token))
    assert response.status_code == 201, response.json
    return response.json


def api_save(client, token, preview_id, key="key-1"):
    """POST /api/v1/previews/{id}/playlist with an Idempotency-Key; the response."""
    return client.post(f"/api/v1/previews/{preview_id}/playlist",
                       headers=api_headers(token, **{"Idempotency-Key": key}))


# -- synthetic catalogues ---------------------------------------------------------------------
# Two shapes: rows in the dev set's CSV columns (the listener's tests, imported with the importer)
# and records with mood tags (the curator's tests, imported with `flask catalog import`).

ROW_COLUMNS = ["name", "album", "artist", "id", "release_date", "popularity", "length", "danceability",
           "acousticness", "energy", "instrumentalness", "liveness", "valence", "loudness", "speechiness",
           "tempo", "key", "time_signature", "mood"]


def track_id(i: int) -> str:
    """22 alphanumeric characters, like a Spotify id."""
    return f"Trk{i:019d}"


def synthetic_rows(count: int = 240, seed: int = 7, artists: int = 60) -> list[dict]:
    """Tracks spread over the mood space: enough of every mood for 20-track arcs."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        energy = rng.random()
        valence = rng.random()
        rows.append({
            "name": f"Song {i}", "album": f"Album {i}", "artist": f"Artist {i % artists}", "id": track_id(i),
            "release_date": "2020-01-01", "popularity": 50, "length": 150_000 + rng.randint(0, 120_000),
            "danceability": round(rng.random(), 3), "acousticness": round(1 - energy * rng.random(), 3),
            "energy": round(energy, 3), "instrumentalness": round(rng.random() * 0.5, 3),
            "liveness": round(rng.random() * 0.3, 3), "valence": round(valence, 3),
            "loudness": round(-25 + 22 * energy, 2), "speechiness": round(rng.random() * 0.1, 3),
            "tempo": round(60 + 110 * energy + rng.uniform(-10, 10), 1), "key": rng.randint(0, 11),
            "time_signature": 4, "mood": "Calm",
        })
    return rows


def write_rows_csv(path, rows: list[dict]) -> str:
    """Rows from synthetic_rows as a CSV in the dev set's columns."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ROW_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def import_rows(app, fake_spotify, tmp_path, rows: list[dict]) -> list[dict]:
    """Rows imported with the CSV importer, and the same tracks known to the fake Spotify."""
    path = write_rows_csv(tmp_path / "catalogue.csv", rows)
    with app.app_context():
        result = import_csv(path)
        assert result.status == "imported", result
        db.session.remove()
    for row in rows:
        fake_spotify.add_track(row["id"], name=row["name"], duration_ms=row["length"])
    return rows


def synthetic_records(n: int = 240, seed: int = 7) -> list[dict]:
    """Tracks spread over the feature space; a quarter tagged mood:calm (quiet, slow, acoustic)."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        calm = i % 4 == 0
        rec = {
            "id": f"{i:022d}",
            "name": f"Track {i}",
            "artists": [f"Artist {i % 60}"],
            "artist_ids": [f"artist{i % 60}"],
            "duration_ms": 200_000,
            "explicit": False,
            "valence": float(rng.uniform(0.3, 0.7) if calm else rng.uniform(0, 1)),
            "energy": float(rng.uniform(0.05, 0.3) if calm else rng.uniform(0.3, 1)),
            "danceability": float(rng.uniform(0.2, 0.8)),
            "acousticness": float(rng.uniform(0.6, 1) if calm else rng.uniform(0, 0.6)),
            "instrumentalness": float(rng.uniform(0, 1)),
            "speechiness": float(rng.uniform(0.02, 0.1)),
            "liveness": float(rng.uniform(0.05, 0.3)),
            "loudness": float(rng.uniform(-25, -12) if calm else rng.uniform(-12, -3)),
            "tempo": float(rng.uniform(60, 95) if calm else rng.uniform(90, 170)),
            "mode": int(rng.integers(0, 2)),
            "key": int(rng.integers(0, 12)),
            "tags": ["mood:calm"] if calm else (["mood:energetic"] if i % 4 == 1 else []),
        }
        records.append(rec)
    return records


def write_records_csv(records: list[dict], path: Path) -> Path:
    """Records as a dataset CSV (one `mood` label column), the format `catalog import` reads."""
    columns = ["id", "name", "artists", "duration_ms", "explicit", "key", *FEATURE_NAMES, "mood"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for rec in records:
            label = next((t.removeprefix("mood:") for t in rec["tags"] if t.startswith("mood:")), "")
            writer.writerow([rec["id"], rec["name"], rec["artists"][0], rec["duration_ms"], rec["explicit"],
                             rec["key"], *(rec[f] for f in FEATURE_NAMES), label])
    return path


def import_with_cli(app, runner, path: Path):
    """Import a CSV through `flask --app curator catalog import`, and return the engine catalogue."""
    from curator.catalogue.matrix import current_catalogue

    result = runner.invoke(args=["catalog", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        return current_catalogue()
