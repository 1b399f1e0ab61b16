"""Template helpers for every page (error pages included): the way back to the filled start form
and to the preview a page came from, and whether a track row is a made-up demo track.
`curator.listen` registers them on its blueprint as `way_back()` and the test `demo_track`.

The start form accepts its fields as query arguments (`routes.START_FIELDS`), so "back to your
choices" is a link, not a session: it survives logins, expired forms and errors alike.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import g, request, url_for

from curator.catalogue.demo import is_demo_track
from curator.playlists import service

# The start form's fields, in the order they appear (routes.START_FIELDS names the same ones).
FORM_FIELDS = ("from", "to", "length", "unit", "arc", "exclude_explicit", "avoid_recent", "from_my_music",
               "before_rating", "from_valence", "from_arousal", "to_valence", "to_arousal")


def choices_of_preview(preview) -> dict[str, str]:
    """The start form's fields that would make `preview` again."""
    opts = preview.options
    if preview.length_minutes is not None:
        length, unit = f"{preview.length_minutes:g}", "minutes"
    else:
        length, unit = str(preview.length_tracks or len(preview.tracks)), "tracks"
    choices = {"from": preview.from_slug, "to": preview.to_slug, "length": length, "unit": unit,
               "arc": opts.get("arc") or preview.arc or "linear"}
    for flag in ("exclude_explicit", "avoid_recent", "from_my_music"):
        if opts.get(flag):
            choices[flag] = "1"
    return choices


def start_form_url(choices: dict | None = None) -> str:
    """The start page with `choices` filled in (unknown keys and empty values left out; a point of
    the mood wheel as its slug, the sliders' values only when they chose one)."""
    choices = dict(choices or {})
    for group in ("from", "to"):
        if choices.get(group) == "point":
            choices[group] = service.point_slug_of(choices, group) or ""
        choices.pop(f"{group}_valence", None)
        choices.pop(f"{group}_arousal", None)
    query = {k: str(choices[k]) for k in FORM_FIELDS if choices.get(k) not in (None, "")}
    base = url_for("listen.home")
    return base + ("?" + urlencode(query) if query else "")


def _choices_in_request() -> dict[str, str] | None:
    for source in (request.form, request.args):
        picked = {k: source.get(k, "") for k in FORM_FIELDS if source.get(k)}
        if picked.get("from") or picked.get("to"):
            return picked
    return None


def _preview_in_request():
    """The signed-in listener's own preview named by the URL, if any (never someone else's)."""
    preview_id = (request.view_args or {}).get("preview_id") or request.form.get("preview_id")
    user = g.get("user")
    if not preview_id or user is None:
        return None
    return service.own_preview(user, preview_id)


def way_back() -> dict[str, str | None]:
    """Links an error page offers: the filled start form, and the preview it came from."""
    try:
        preview = _preview_in_request()
        choices = _choices_in_request() or (choices_of_preview(preview) if preview is not None else None)
        preview_url = url_for("listen.preview", preview_id=preview.id) if preview is not None else None
        return {"start": start_form_url(choices), "preview": preview_url, "filled": bool(choices)}
    except Exception:  # noqa: BLE001 - never turn an error page into a second error
        return {"start": "/", "preview": None, "filled": False}


def demo_track(track_id: str) -> bool:
    """Whether a track row is one of the made-up demo tracks: no player, no Spotify link."""
    return is_demo_track(track_id)
