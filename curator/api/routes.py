"""API v1 routes: the listener journey as JSON, described in `openapi.yaml` (served as JSON).

Same session login as the pages. Writes need the CSRF token from `GET /api/v1/session` in an
`X-CSRFToken` header. Errors are `{"error": {"code", "message", "field"}}` (see curator/errors.py).
"""
from __future__ import annotations

from flask import g, jsonify, request, url_for
from flask_wtf.csrf import generate_csrf

from curator.api import bp
from curator.api.openapi import openapi_document
from curator.auth.decorators import login_required
from curator.playlists import service
from curator.problems import CuratorError, Unprocessable
from curator.ratelimit import PREVIEWS_PER_MINUTE, SAVES_PER_MINUTE, ratelimit

MAX_KEY_LENGTH = 200


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise CuratorError("Send a JSON object with Content-Type: application/json.", code="bad_json")
    return data


def user_json(user) -> dict:
    return {"id": user.spotify_id, "display_name": user.name, "roles": sorted(user.roles)}


def mood_json(stored) -> dict:
    m = stored.definition
    return {"slug": m.slug, "name": m.name, "description": m.description, "guidance": m.guidance,
            "colour": m.colour, "valence": m.valence, "arousal": m.arousal,
            "low_valence": service.is_low_valence(m), "version": stored.number}


def playlist_json(save, fresh=None) -> dict:
    preview = save.preview
    fresh = fresh or service.freshness([save])[save.id]
    return {"id": save.playlist_id, "url": save.url, "name": save.name, "description": save.description,
            "preview_id": save.preview_id, "from": preview.from_slug, "to": preview.to_slug,
            "tracks": len(preview.tracks), "duration_ms": preview.duration_ms,
            "saved_at": _iso(save.completed_at), "freshness": fresh.json, "refreshed_at": _iso(fresh.refreshed_at)}


def unfinished_json(save) -> dict | None:
    if save is None:
        return None
    return {"playlist_id": save.playlist_id, "url": save.url, "items_added": save.items_added,
            "error": save.last_error.partition(": ")[2] if save.last_error else None}


def preview_json(preview) -> dict:
    shown = service.describe(preview)
    target, advice = shown.target, shown.care
    options = preview.options
    length = ({"tracks": preview.length_tracks} if preview.length_tracks is not None
              else {"minutes": preview.length_minutes})
    return {
        "id": preview.id,
        "from": preview.from_slug,
        "to": preview.to_slug,
        "from_name": shown.start.name if shown.start else preview.from_slug,
        "to_name": target.name if target else preview.to_slug,
        "from_point": service.point_of(preview.from_slug),
        "to_point": service.point_of(preview.to_slug),
        "length": length,
        "arc": preview.arc,
        "seed": preview.seed,
        "options": {k: options.get(k, False) for k in ("exclude_explicit", "avoid_recent", "from_my_music", "insist")},
        "created_at": _iso(preview.created_at),
        "duration_ms": preview.duration_ms,
        "stats": preview.stats,
        "shortfall": preview.shortfall,
        "notices": preview.notices,
        "guidance": target.guidance if target else "",
        "care": {"low_valence_target": advice.low_valence, "note": advice.note,
                 "alternatives": [m.slug for m in advice.alternatives]},
        "tracks": [
            {"id": t["id"], "uri": f"spotify:track:{t['id']}", "name": t["name"], "artists": t["artists"],
             "duration_ms": t["duration_ms"], "position": t["position"], "reason": t["reason"],
             "distance": t["distance"], "position_target": t["position_target"], "features": t["features"],
             "album_image": t.get("album_image")}
            for t in preview.tracks
        ],
        "playlist": playlist_json(preview.save) if preview.saved else None,
        "unfinished_save": unfinished_json(shown.unfinished_save),
        "save_running": shown.save_running,
        "page": url_for("listen.preview", preview_id=preview.id),
        "name": options.get("name") or None,
        "locked_ids": list(options.get("locked_ids") or []),
        "nudges": dict(options.get("nudges") or {}),
        "edit_notice": options.get("edit_notice"),
        "changed_positions": list(options.get("changed_positions") or []),
        "parent_id": preview.parent_id,
        "can_undo": service.can_undo(preview),
        "steering": service.steering_of(preview),
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/session")
def session_info():
    user = g.get("user")
    # Every write needs a login, and logging in starts a new session: a token handed out before
    # login could never be used, and would cost a stored session for each anonymous caller.
    return jsonify({"user": user_json(user) if user else None, "csrf_token": generate_csrf() if user else None})


@bp.get("/moods")
@login_required
def moods():
    return jsonify({"moods": [mood_json(m) for m in service.choosable_moods()]})


@bp.post("/previews")
@login_required
@ratelimit(PREVIEWS_PER_MINUTE, 60, scope="previews")
def create_preview():
    preview = service.create_preview(g.user, _json_body())
    response = jsonify(preview_json(preview))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_preview", preview_id=preview.id)
    return response


@bp.get("/previews/<preview_id>")
@login_required
def get_preview(preview_id):
    return jsonify(preview_json(service.get_preview(g.user, preview_id)))


def _text(data: dict, key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise Unprocessable(f"{key} must be a string.", field=key)
    return value


# The preview page's edits as one operation; each is the same service call the page makes.
EDITS = {
    "swap": lambda user, pid, data: service.remove_track(user, pid, str(data.get("track_id") or "")),
    "lock": lambda user, pid, data: service.lock_track(user, pid, str(data.get("track_id") or ""), True),
    "unlock": lambda user, pid, data: service.lock_track(user, pid, str(data.get("track_id") or ""), False),
    "rename": lambda user, pid, data: service.rename(user, pid, _text(data, "name")),
    "nudge": lambda user, pid, data: service.nudge(user, pid, str(data.get("direction") or "")),
    "regenerate": lambda user, pid, data: service.regenerate(user, pid),
    "undo": lambda user, pid, data: service.undo(user, pid),
}


@bp.post("/previews/<preview_id>/edits")
@login_required
@ratelimit(PREVIEWS_PER_MINUTE, 60, scope="previews")
def edit_preview(preview_id):
    data = _json_body()
    edit = EDITS.get(data.get("op")) if isinstance(data.get("op"), str) else None
    if edit is None:
        raise Unprocessable(f"op is one of {', '.join(EDITS)}.", field="op")
    preview = edit(g.user, preview_id, data)
    response = jsonify(preview_json(preview))
    response.status_code = 200 if preview.id == preview_id else 201
    return response


@bp.post("/previews/<preview_id>/playlist")
@login_required
@ratelimit(SAVES_PER_MINUTE, 60, scope="saves")
def save_playlist(preview_id):
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        raise CuratorError("Send an Idempotency-Key header (any unique string, reused when you retry).",
                           field="Idempotency-Key", code="idempotency_key_required")
    if len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(f"The Idempotency-Key is at most {MAX_KEY_LENGTH} characters.", field="Idempotency-Key")
    outcome = service.save_preview(g.user, preview_id, key)
    if not outcome.finished:  # the request's time ran out first: where it stands, and who carries on
        response = jsonify({"saving": {"message": outcome.message, "continuing": outcome.continuing,
                                       "playlist_id": outcome.save.playlist_id, "url": outcome.save.url,
                                       "items_added": outcome.save.items_added},
                            "preview": url_for("api.get_preview", preview_id=preview_id)})
        response.status_code = 202
        return response
    response = jsonify(playlist_json(outcome.save))
    response.status_code = 200 if outcome.replay else 201
    return response


@bp.get("/playlists")
@login_required
def playlists():
    rows = service.saved_playlists(g.user.id)
    fresh = service.freshness(row.save for row in rows)
    return jsonify({"playlists": [playlist_json(row.save, fresh[row.save.id]) for row in rows]})


@bp.put("/playlists/<playlist_id>/freshness")
@login_required
def set_freshness(playlist_id):
    return jsonify(playlist_json(service.set_freshness(g.user, playlist_id, _json_body())))


@bp.post("/playlists/<playlist_id>/restore")
@login_required
def restore_playlist(playlist_id):
    return jsonify(playlist_json(service.restore_previous(g.user, playlist_id)))


@bp.post("/checkins")
@login_required
def checkins():
    data = _json_body()
    preview_id = data.get("preview_id")
    if not isinstance(preview_id, str) or not preview_id:
        raise Unprocessable("Say which playlist this check-in is about (preview_id).", field="preview_id")
    checkin = service.record_checkin(g.user, rating=data.get("rating"), moment=data.get("moment", "after"),
                                     preview_id=preview_id)
    response = jsonify({"id": checkin.id, "preview_id": checkin.preview_id, "from": checkin.from_slug,
                        "to": checkin.to_slug, "moment": checkin.moment, "rating": checkin.rating,
                        "at": _iso(checkin.at)})
    response.status_code = 201
    return response


def taste_json(user) -> dict:
    held = service.taste_profile(user)

    def track(item: dict) -> dict:
        return {"id": item["id"], "name": item["name"], "artists": item["artists"], "at": _iso(item["at"])}

    return {
        "steering": held.steering,
        "never_again": [t["id"] for t in held.never_again],
        "never_again_tracks": [track(t) for t in held.never_again],
        "kept": [track(t) for t in held.kept],
        "less_artists": held.less_artists,
        "saved_playlist_tracks": held.saved_tracks,
        "shares": held.shares,
        "synced": held.counts,
        "synced_at": _iso(held.synced_at),
    }


@bp.get("/taste")
@login_required
def taste():
    return jsonify(taste_json(g.user))


@bp.delete("/taste")
@login_required
def forget_taste():
    service.forget_taste(g.user)
    return "", 204


@bp.delete("/taste/never-again/<track_id>")
@login_required
def bring_back(track_id):
    if not service.bring_back(g.user, track_id):
        raise Unprocessable("That track is not among the ones you swapped out.", field="track_id")
    return "", 204


@bp.get("/artists")
@login_required
def artists():
    prefix = request.args.get("q", "")
    return jsonify({"artists": service.artist_suggestions(g.user, prefix)})
