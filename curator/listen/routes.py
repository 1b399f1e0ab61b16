"""Listener pages: start → preview → save to Spotify → history; settings.

Views parse input, call one function of `curator.playlists.service` and render; the rules and
the transactions live in the service.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import flash, g, redirect, render_template, request, session, url_for

from curator import demo
from curator.auth.decorators import login_or_demo_visit, login_required
from curator.inputs import header_value
from curator.listen import bp, mood_wheel
from curator.listen.charts import arc_band, arc_chart, checkin_chart, mood_mark
from curator.playlists import service
from curator.problems import Unprocessable
from curator.ratelimit import PREVIEWS_PER_MINUTE, SAVES_PER_MINUTE, ratelimit

START_FIELDS = ("from", "to", "length", "unit", "arc", "exclude_explicit", "avoid_recent", "from_my_music",
                "before_rating", "from_valence", "from_arousal", "to_valence", "to_arousal",
                "familiar", "avoid_artists", "years_from", "years_to", "steering")
# The Spotify data a listener may share, as the taste page names it.
TASTE_SOURCES = {"top_artists": "your top artists", "top_tracks": "your top tracks", "saved": "your saved tracks",
                 "followed": "artists you follow", "recent": "what you played lately"}
# The decades the start form's year range offers.
DECADES = tuple(range(1950, 2030, 10))
# Form values that travel back in a redirect's Location: a catalogue id is at most 64 characters
# (the column), a start-form value (a slug, a number, a flag) far less than 100.
MAX_TRACK_ID = 64
MAX_START_FIELD = 100


@bp.get("/")
def home():
    if g.user is None and not demo.active():
        return render_template("listen/welcome.html")
    # Values come back pre-filled after the library-scope login round trip or a form error.
    # Before setup a visitor gets the start form at once (demo mode): no login, no session yet.
    return _start_form(request.args, error=None)


def _start_form(values, error: Unprocessable | None):
    page = service.start_page(g.user)
    # A form sent back (an error, the library login's round trip) as it was; else the listener's own.
    # A link that names only some choices (a suggestion, "make this again") keeps the listener's own
    # for the rest.
    if values.get("steering"):
        chosen = {k: values.get(k, "") for k in START_FIELDS}
    elif values.get("from") or values.get("to"):
        chosen = {**dict.fromkeys(START_FIELDS, ""), **page.filled,
                  **{k: values[k] for k in START_FIELDS if values.get(k)}}
    else:
        chosen = {**dict.fromkeys(START_FIELDS, ""), **page.filled}
    for group in ("from", "to"):  # a wheel point comes back as its slug, or as the form sent it
        if chosen[group] == "point":
            chosen[group] = service.point_slug_of(values, group) or ""
    wheel = {"marks": mood_wheel.marks(page.moods), "gradient": mood_wheel.gradient(page.moods),
             "points": {g_: mood_wheel.chosen_point(chosen[g_]) for g_ in ("from", "to")},
             "radius": mood_wheel.RADIUS, "size": mood_wheel.SIZE}
    return render_template("listen/home.html", moods=page.moods, chosen=chosen, wheel=wheel,
                           catalogue_empty=page.catalogue_empty, library_access=page.library_access, error=error,
                           demo=demo.active(), demo_set=page.demo_set, decades=DECADES,
                           steering_summary=service.steering_summary(chosen), returning=page.returning,
                           helps=_suggestion(page.moods))


def _suggestion(moods) -> dict | None:
    """The start page's one suggestion from the listener's own check-ins, with the link that fills the form."""
    helped = service.helps_suggestion(g.user) if g.user is not None and not demo.active() else None
    if helped is None:
        return None
    names = {m.slug: m.definition.name for m in moods}
    start, target = names.get(helped.from_slug), names.get(helped.to_slug)
    if start is None or target is None:
        return None
    length = helped.length
    link = url_for("listen.home", **{"from": helped.from_slug, "to": helped.to_slug,
                                     "length": length.get("tracks") or length.get("minutes"),
                                     "unit": "tracks" if "tracks" in length else "minutes"})
    return {"text": f"The last {helped.times} times, {start} → {target} left you feeling {start.lower()} "
                    f"{helped.mean_change:.1f} less on average (on a scale of 1 to 5).",
            "uncertainty": helped.uncertainty, "link": link, "label": f"{start} → {target}"}


def _start_again(form, error: Unprocessable):
    return _start_form(form, error), 422


def _preparing():
    return render_template("listen/preparing.html"), 503


@bp.post("/previews")
@ratelimit(PREVIEWS_PER_MINUTE, 60, scope="previews")
@login_or_demo_visit
def create():
    form = request.form
    try:
        preview = service.create_preview(g.user, form)
    except service.CatalogueNotReady:
        return _preparing()
    except service.ScopeRequired:
        # Ask Spotify for the extra scopes now, then come back to the same filled-in form.
        back = url_for("listen.home") + "?" + urlencode(
            {k: header_value(form.get(k, ""), k, MAX_START_FIELD) for k in START_FIELDS})
        return redirect(url_for("auth.login", scopes="library", next=back))
    except Unprocessable as exc:
        return _start_again(form, exc)
    return redirect(url_for("listen.preview", preview_id=preview.id))


@bp.get("/previews/<preview_id>")
@login_required
def preview(preview_id):
    page = service.preview_page(g.user, preview_id)
    item = page.preview
    start, target = mood_mark(page.start, item.from_slug), mood_mark(page.target, item.to_slug)
    chart = arc_chart(item.tracks, start, target)
    band = arc_band(item.tracks, start, target, item.options.get("changed_positions") or ())
    return render_template(
        "listen/preview.html", preview=item, start=page.start, target=page.target, chart=chart, band=band,
        demo=demo.active(),
        low_note=page.care.note, alternatives=page.care.alternatives, hold_capped=page.hold_capped,
        hold_note=page.hold_note, unfinished_save=page.unfinished_save, save_running=page.save_running,
        can_undo=service.can_undo(item),
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


@bp.post("/previews/<preview_id>/undo")
@login_required
def undo(preview_id):
    return _derived(preview_id, lambda: service.undo(g.user, preview_id), anchor="changed")


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
    except service.CatalogueNotReady:
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
    try:
        outcome = service.save_preview(g.user, preview_id)
    except service.SAVE_STOPPED as exc:
        flash(exc.message, "warning")  # the save's own words: the cause and where it stands
        return redirect(url_for("listen.preview", preview_id=preview_id))
    except service.SaveInProgress as exc:
        flash(exc.message, "info")
        return redirect(url_for("listen.preview", preview_id=preview_id))
    if not outcome.finished:  # the request's time ran out: where it stands, and who carries on
        flash(outcome.message, "info")
        return redirect(url_for("listen.preview", preview_id=preview_id))
    return redirect(url_for("listen.saved", preview_id=preview_id))


@bp.get("/previews/<preview_id>/playlist")
@login_required
def saved(preview_id):
    page = service.saved_page(g.user, preview_id)
    if not page.preview.saved:
        return redirect(url_for("listen.preview", preview_id=page.preview.id))
    return render_template("listen/saved.html", preview=page.preview, record=page.preview.save, start=page.start,
                           target=page.target, cover_offer=page.cover_offer, checkin_open=page.checkin_open,
                           minutes_to_checkin=page.minutes_to_checkin, fresh=page.fresh)


def _back_to_playlist():
    """Where a "keep it fresh" form came from: the saved page of its preview, or history."""
    preview_id = request.form.get("preview_id", "")[:64]
    if request.form.get("back") == "saved" and preview_id:
        return redirect(url_for("listen.saved", preview_id=preview_id))
    return redirect(url_for("listen.history"))


@bp.post("/playlists/<playlist_id>/freshness")
@login_required
def freshness(playlist_id):
    try:
        save = service.set_freshness(g.user, playlist_id, request.form)
    except Unprocessable as exc:
        flash(exc.message, "error")
        return _back_to_playlist()
    fresh = service.freshness([save])[save.id]
    flash(f"“{save.name}” is kept fresh: {fresh.schedule.lower()}." if fresh.on and fresh.status == "active"
          else f"“{save.name}” is no longer refreshed." if not fresh.on else fresh.line or "Saved.", "success")
    return _back_to_playlist()


@bp.post("/playlists/<playlist_id>/restore")
@login_required
def restore(playlist_id):
    try:
        service.restore_previous(g.user, playlist_id)
    except Unprocessable as exc:
        flash(exc.message, "error")
        return _back_to_playlist()
    flash("The previous version is coming back to Spotify.", "success")
    return _back_to_playlist()


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
    found = service.history(g.user.id, request.args.get("page", 1, type=int) or 1)
    moods, page = found.moods, found.page
    charts = []
    for i, ((from_slug, to_slug), sessions) in enumerate(found.sessions_by_pair.items()):
        names = (getattr(moods.get(from_slug), "name", from_slug), getattr(moods.get(to_slug), "name", to_slug))
        title = f"{names[0]} → {names[1]}: how strongly you felt it"
        charts.append({"names": names, "sessions": sessions,
                       "svg": checkin_chart(sessions, title, chart_id=f"pair-{i}")})
    return render_template("listen/history.html", history=page, playlists=page.playlists, moods=moods,
                           charts=charts, chart_sessions=service.CHART_SESSIONS, now=found.now,
                           history_fresh=found.fresh, again=service.again_values)


@bp.get("/settings")
@login_required
def settings():
    allowed = service.permissions(g.user)
    return render_template("listen/settings.html", cover_allowed=allowed.cover, library_allowed=allowed.library)


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



# -- what Curator knows about the listener's taste (issue 21) ----------------------------------

@bp.get("/taste")
@login_required
def taste():
    return render_template("listen/taste.html", held=service.taste_profile(g.user), source_names=TASTE_SOURCES,
                           helped=service.what_helps(g.user), mood_name=_mood_name())


def _mood_name():
    names = {m.slug: m.definition.name for m in service.choosable_moods()}
    return lambda slug: names.get(slug, slug)


@bp.post("/taste/never-again/<track_id>")
@login_required
def bring_back(track_id):
    if service.bring_back(g.user, track_id):
        flash("It may come back in your playlists.", "success")
    else:
        flash("That track is not among the ones you swapped out.", "error")
    return redirect(url_for("listen.taste"))


@bp.post("/taste/forget")
@login_required
def forget_taste():
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm that Curator should forget your taste.", "error")
        return redirect(url_for("listen.taste"))
    service.forget_taste(g.user)
    flash("Curator has forgotten your taste: your steering, the tracks you swapped out and kept, and what "
          "it read from Spotify.", "success")
    return redirect(url_for("listen.taste"))
