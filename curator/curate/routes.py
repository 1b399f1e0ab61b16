"""Mood editor routes: list, create, edit with live preview, history, diff, rollback, archive, calibrate.

Every route is for curators (admins included); the checks are server-side decorators. Each view
parses the form, calls `curator.curate.service` and renders.
"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from curator.auth.decorators import curator_required
from curator.curate import bp, service
from curator.inputs import db_int
from curator.problems import CuratorError

NOTE_MAX = 500


def _note(state: service.MoodForm) -> str:
    """The version note as typed; too long is a field error (the column holds 500 characters)."""
    note = request.form.get("note", "").strip()
    if len(note) > NOTE_MAX:
        state.errors.setdefault("note", []).append(f"keep the note under {NOTE_MAX} characters (it has {len(note)})")
    return note


def _render_editor(state: service.MoodForm, *, mood=None, base_version_id=None, status=200, conflict=None,
                   note: str = ""):
    start_slug = request.values.get("start", "")
    preview, probe = service.live_preview(state, start_slug)
    return render_template(
        "curate/editor.html",
        form=state, mood=mood, base_version_id=base_version_id, conflict=conflict, note=note,
        features=service.feature_fields(), start_moods=service.start_moods(), start_slug=start_slug,
        preview=preview, preview_form=probe,
    ), status


@bp.get("/moods")
@curator_required
def moods():
    return render_template("curate/moods.html", moods=service.moods())


@bp.route("/moods/new", methods=["GET", "POST"])
@curator_required
def new_mood():
    if request.method == "GET":
        return _render_editor(service.blank_editor())
    state = service.read_editor(request.form)
    note = _note(state)
    if request.form.get("action") != "save":
        return _render_editor(state, note=note)
    definition = service.checked(state, new=True)
    if definition is None:
        return _render_editor(state, status=422, note=note)
    try:
        version = service.create_mood(definition, author=g.user, note=note)
    except CuratorError as exc:  # slug taken
        state.add_error(exc.field or "slug", exc.message)
        return _render_editor(state, status=409, note=note)
    flash(f"Created “{definition.name}” (version {version.number}).", "success")
    return redirect(url_for("curate.edit_mood", slug=definition.slug))


@bp.route("/moods/<slug>", methods=["GET", "POST"])
@curator_required
def edit_mood(slug: str):
    mood = service.mood_row(slug)
    if request.method == "GET":
        return _render_editor(service.editor_for(mood), mood=mood, base_version_id=mood.current_version_id)
    state = service.read_editor(request.form, slug=slug)
    note = _note(state)
    base = request.form.get("base_version_id", type=db_int)
    if request.form.get("action") != "save":
        # "Preview" without JavaScript, or a proposal opened from calibration: show, don't save.
        return _render_editor(state, mood=mood, base_version_id=base, note=note)
    if base is None:
        state.general_errors.append("The form lost track of which version you started from; reload the editor.")
        return _render_editor(state, mood=mood, base_version_id=mood.current_version_id, status=422, note=note)
    definition = service.checked(state)
    if definition is None:
        return _render_editor(state, mood=mood, base_version_id=base, status=422, note=note)
    try:
        saved = service.save_mood(definition, author=g.user, note=note, base_version_id=base)
    except service.VersionConflict as exc:
        conflict = service.conflict(exc, definition)
        # Yours stays in the form exactly as typed; saving again now means "mine over theirs", knowingly.
        return _render_editor(state, mood=mood, base_version_id=exc.current.id, status=409,
                              conflict=conflict, note=note)
    if saved.changed:
        flash(f"Saved “{definition.name}” as version {saved.version.number}.", "success")
    else:
        flash(f"Nothing changed, so no new version: “{definition.name}” stays at version {saved.version.number}.",
              "info")
    return redirect(url_for("curate.edit_mood", slug=slug))


@bp.post("/moods/preview")
@curator_required
def preview():
    """The preview fragment for the editor's script (the form as it is, nothing saved)."""
    slug = request.form.get("fixed_slug") or None
    state = service.read_editor(request.form, slug=slug)
    result, probe = service.live_preview(state, request.form.get("start"))
    return render_template("curate/_preview.html", preview=result, preview_form=probe)


@bp.post("/moods/<slug>/archive")
@curator_required
def archive(slug: str):
    mood = service.set_archived(slug, True, actor=g.user)
    flash(f"Archived “{mood.name}”: listeners no longer see it; its history is kept.", "success")
    return redirect(url_for("curate.moods"))


@bp.post("/moods/<slug>/unarchive")
@curator_required
def unarchive(slug: str):
    mood = service.set_archived(slug, False, actor=g.user)
    flash(f"“{mood.name}” is back on the listeners' list.", "success")
    return redirect(url_for("curate.moods"))


@bp.get("/moods/<slug>/history")
@curator_required
def mood_history(slug: str):
    page = service.history_page(slug)
    return render_template("curate/history.html", mood=page.mood, versions=page.versions, previews=page.previews)


@bp.get("/moods/<slug>/diff")
@curator_required
def mood_diff(slug: str):
    page = service.diff_page(slug, request.args.get("from", type=db_int), request.args.get("to", type=db_int))
    return render_template("curate/diff.html", mood=page.mood, old=page.old, new=page.new, diff=page.diff,
                           versions=page.versions)


@bp.post("/moods/<slug>/rollback")
@curator_required
def rollback(slug: str):
    number = request.form.get("version", type=db_int)
    base = request.form.get("base_version_id", type=db_int)
    if number is None or base is None:
        raise CuratorError("Choose a version to roll back to.", field="version")
    try:
        saved = service.rollback(slug, number, author=g.user, base_version_id=base)
    except service.VersionConflict as exc:
        page = service.history_page(slug)
        return render_template("curate/history.html", mood=page.mood, versions=page.versions, previews=page.previews,
                               conflict=f"{exc.message} Check the history below before rolling back."), 409
    if saved.changed:
        flash(f"Rolled “{saved.name}” back to version {number} (saved as version {saved.version.number}).", "success")
    else:
        flash(f"Version {saved.version.number} of “{saved.name}” already defines this mood; nothing changed.", "info")
    return redirect(url_for("curate.mood_history", slug=slug))


@bp.route("/moods/<slug>/calibrate", methods=["GET", "POST"])
@curator_required
def calibrate(slug: str):
    run = request.method == "POST"
    page = service.calibration(slug, tag=request.form.get("tag", ""), pasted=request.form.get("tracks", ""), run=run)
    status = 422 if page.error else 200
    return render_template("curate/calibrate.html", **page.context()), status
