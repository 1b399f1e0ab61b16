"""Listener pages: start → preview → save to Spotify → history; settings.

Views parse input, call one function of `curator.listen.service` and render; the rules and the
transactions live in the service.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from flask import abort, flash, g, redirect, render_template, request, session, url_for

from curator.auth.decorators import login_required
from curator.errors import Unprocessable
from curator.inputs import header_value
from curator.listen import bp, previews, saving, service
from curator.listen.charts import checkin_chart
from curator.listen.library import ScopeRequired, has_library_access
from curator.listen.pages import catalogue_empty
from curator.models.user import utcnow
from curator.ratelimit import PREVIEWS_PER_MINUTE, SAVES_PER_MINUTE, ratelimit
from curator.spotify.errors import SpotifyRateLimited, SpotifyUnavailable
from curator.spotify.token_store import granted_scopes

START_FIELDS = ("from", "to", "length", "unit", "arc", "exclude_explicit", "avoid_recent", "from_my_music",
                "before_rating")
# Form values that travel back in a redirect's Location: a catalogue id is at most 64 characters
# (the column), a start-form value (a slug, a number, a flag) far less than 100.
MAX_TRACK_ID = 64
MAX_START_FIELD = 100


@bp.get("/")
def home():
    if g.user is None:
        return render_template("listen/welcome.html")
    moods = service.choosable_moods()
    # Values come back pre-filled after the library-scope login round trip or a form error.
    chosen = {k: request.args.get(k, "") for k in START_FIELDS}
    return render_template("listen/home.html", moods=moods, chosen=chosen, catalogue_empty=catalogue_empty(),
                           library_access=has_library_access(g.user.id), error=None)


def _start_again(form, error: Unprocessable):
    moods = service.choosable_moods()
    chosen = {k: form.get(k, "") for k in START_FIELDS}
    return render_template("listen/home.html", moods=moods, chosen=chosen, error=error,
                           catalogue_empty=catalogue_empty(), library_access=has_library_access(g.user.id)), 422


def _preparing():
    return render_template("listen/preparing.html"), 503


@bp.post("/previews")
@login_required
@ratelimit(PREVIEWS_PER_MINUTE, 60, scope="previews")
def create():
    form = request.form
    try:
        req = previews.parse_request(form)
    except Unprocessable as exc:
        return _start_again(form, exc)
    if req.from_my_music and not has_library_access(g.user.id):
        # Ask Spotify for the extra scopes now, then come back to the same filled-in form.
        back = url_for("listen.home") + "?" + urlencode(
            {k: header_value(form.get(k, ""), k, MAX_START_FIELD) for k in START_FIELDS})
        return redirect(url_for("auth.login", scopes="library", next=back))
    try:
        preview = service.create_preview(g.user, req)
    except previews.CatalogueNotReady:
        return _preparing()
    except ScopeRequired:
        abort(403)
    except Unprocessable as exc:
        return _start_again(form, exc)
    return redirect(url_for("listen.preview", preview_id=preview.id))


@bp.get("/previews/<preview_id>")
@login_required
def preview(preview_id):
    page = service.preview_page(g.user, preview_id)
    return render_template(
        "listen/preview.html", preview=page.preview, start=page.start, target=page.target, chart=page.chart,
        low_note=page.care.note, alternatives=page.care.alternatives, hold_capped=page.hold_capped,
        hold_note=page.hold_note, unfinished_save=page.unfinished_save,
    )


@bp.post("/previews/<preview_id>/regenerate")
@login_required
@ratelimit(PREVIEWS_PER_MINUTE, 60, scope="previews")
def regenerate(preview_id):
    return _derived(preview_id, lambda: service.regenerate(g.user, preview_id))


@bp.post("/previews/<preview_id>/remove")
@login_required
@ratelimit(PREVIEWS_PER_MINUTE, 60, scope="previews")
def remove(preview_id):
    track_id = request.form.get("track_id", "")
    return _derived(preview_id, lambda: service.remove_track(g.user, preview_id, track_id), anchor="changed")


@bp.post("/previews/<preview_id>/lock")
@login_required
def lock(preview_id):
    # The id becomes the redirect's #anchor: checked before the lock is written.
    track_id = header_value(request.form.get("track_id", ""), "track_id", MAX_TRACK_ID)
    locked = request.form.get("locked") == "1"
    return _derived(preview_id, lambda: service.lock_track(g.user, preview_id, track_id, locked),
                    anchor=f"t-{track_id}")


@bp.post("/previews/<preview_id>/rename")
@login_required
def rename(preview_id):
    return _derived(preview_id, lambda: service.rename(g.user, preview_id, request.form.get("name", "")),
                    anchor="edit")


@bp.post("/previews/<preview_id>/nudge")
@login_required
@ratelimit(PREVIEWS_PER_MINUTE, 60, scope="previews")
def nudge(preview_id):
    return _derived(preview_id, lambda: service.nudge(g.user, preview_id, request.form.get("direction", "")),
                    anchor="edit")


@bp.post("/previews/<preview_id>/retarget")
@login_required
@ratelimit(PREVIEWS_PER_MINUTE, 60, scope="previews")
def retarget(preview_id):
    insist = bool(request.form.get("insist"))
    return _derived(preview_id, lambda: service.retarget(g.user, preview_id, request.form.get("to", ""),
                                                         insist=insist))


def _derived(preview_id, make, anchor: str | None = None):
    """Run an edit and show its preview; `anchor` keeps the listener's place on the page without
    JS ("changed": the first position the edit changed)."""
    try:
        new = make()
    except previews.CatalogueNotReady:
        return _preparing()
    except Unprocessable as exc:
        flash(exc.message, "error")
        back = anchor if anchor and anchor != "changed" else None
        return redirect(url_for("listen.preview", preview_id=preview_id) + (f"#{back}" if back else ""))
    if anchor == "changed":
        changed = new.options.get("changed_positions") or []
        anchor = f"t-{new.tracks[changed[0]]['id']}" if changed and changed[0] < len(new.tracks) else None
    return redirect(url_for("listen.preview", preview_id=new.id) + (f"#{anchor}" if anchor else ""))


@bp.post("/previews/<preview_id>/save")
@login_required
@ratelimit(SAVES_PER_MINUTE, 60, scope="saves")
def save(preview_id):
    item = service.get_preview(g.user, preview_id)
    try:
        service.save_preview(g.user, item)
    except SpotifyRateLimited as exc:
        wait = exc.wait_seconds
        at = utcnow() + timedelta(seconds=wait)
        flash(f"Spotify is busy right now, so the playlist isn't saved yet. Your preview is kept and nothing "
              f"will be doubled: please try again in {wait} seconds (after {at:%H:%M:%S} UTC).", "warning")
        return redirect(url_for("listen.preview", preview_id=item.id))
    except SpotifyUnavailable as exc:
        flash(exc.message, "warning")  # names the real cause and where the save stands
        return redirect(url_for("listen.preview", preview_id=item.id))
    except saving.SaveInProgress as exc:
        flash(exc.message, "info")
        return redirect(url_for("listen.preview", preview_id=item.id))
    return redirect(url_for("listen.saved", preview_id=item.id))


@bp.get("/previews/<preview_id>/playlist")
@login_required
def saved(preview_id):
    item = service.get_preview(g.user, preview_id)
    if not item.saved:
        return redirect(url_for("listen.preview", preview_id=item.id))
    start, target = service.mood_definition(item.from_slug), service.mood_definition(item.to_slug)
    return render_template("listen/saved.html", preview=item, record=item.save, start=start, target=target,
                           cover_offer="ugc-image-upload" not in granted_scopes(g.user.id))


@bp.post("/checkins")
@login_required
def checkin():
    preview_id = request.form.get("preview_id", "")
    try:
        service.record_checkin(g.user, rating=request.form.get("rating"), moment="after", preview_id=preview_id)
    except Unprocessable as exc:
        flash(exc.message, "error")
        return redirect(request.form.get("back") == "saved" and url_for("listen.saved", preview_id=preview_id)
                        or url_for("listen.history"))
    flash("Thank you. Your check-in is saved.", "success")
    return redirect(url_for("listen.history"))


@bp.get("/history", endpoint="history")
@login_required
def history_page():
    moods = service.mood_names()
    page = service.history_page(g.user.id, request.args.get("page", 1, type=int) or 1)
    charts = []
    for i, ((from_slug, to_slug), sessions) in enumerate(service.recent_sessions_by_pair(g.user.id).items()):
        names = (getattr(moods.get(from_slug), "name", from_slug), getattr(moods.get(to_slug), "name", to_slug))
        title = f"{names[0]} → {names[1]}: how strongly you felt it"
        charts.append({"names": names, "sessions": sessions,
                       "svg": checkin_chart(sessions, title, chart_id=f"pair-{i}")})
    return render_template("listen/history.html", history=page, playlists=page.playlists, moods=moods,
                           charts=charts, chart_sessions=service.CHART_SESSIONS)


@bp.get("/settings")
@login_required
def settings():
    scopes = granted_scopes(g.user.id)
    return render_template("listen/settings.html", cover_allowed="ugc-image-upload" in scopes,
                           library_allowed=has_library_access(g.user.id))


@bp.post("/settings/delete-history")
@login_required
def delete_history():
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm that you want to delete your history.", "error")
        return redirect(url_for("listen.settings"))
    count = service.delete_history(g.user.id)
    flash(f"Your history is deleted ({count} previews). Playlists you saved stay in your Spotify account.",
          "success")
    return redirect(url_for("listen.settings"))


@bp.post("/settings/delete-account")
@login_required
def delete_account():
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm that you want to delete your account data.", "error")
        return redirect(url_for("listen.settings"))
    service.delete_account(g.user)
    session.clear()
    flash("Everything Curator kept about you is deleted, including your Spotify login. "
          "Playlists you saved stay in your Spotify account.", "success")
    return redirect(url_for("listen.home"))

