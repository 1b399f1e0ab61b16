"""Mood editor routes: list, create, edit with live preview, history, diff, rollback, archive, calibrate.

Every route is for curators (admins included); the checks are server-side decorators.
"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from curator.auth.decorators import curator_required
from curator.curate import bp, mood_preview, service
from curator.engine import FEATURES, MoodDefinition, mood_to_dict
from curator.errors import CuratorError, NotFound
from curator.inputs import db_int
from curator.moods import examples, history
from curator.moods.diff import diff_moods
from curator.moods.form import (
    MoodForm,
    blank_form,
    feature_rows,
    form_from_mood,
    read_form,
    validate,
)
from curator.moods.store import (
    RESERVED_SLUGS,
    VersionConflict,
    active_moods,
    all_moods,
    get_mood,
    reserved_slug_message,
)

NOTE_MAX = 500


def _start_mood(slug: str | None) -> MoodDefinition | None:
    if not slug:
        return None
    try:
        return get_mood(slug).definition
    except NotFound:
        return None


def _preview_for(state: MoodForm, start_slug: str | None):
    """Preview what the form describes; placeholders let an unsaved new mood preview before it has a name."""
    if not any(state.value(f"features.{name}.target") for name in FEATURES):
        return None, MoodForm(values=dict(state.values))  # nothing to preview yet: a hint, not an error
    probe = MoodForm(values=dict(state.values))
    probe.values["slug"] = probe.values.get("slug") or "preview"
    probe.values["name"] = probe.values.get("name") or "Untitled"
    definition = validate(probe)
    if definition is None:
        return None, probe
    return mood_preview.build_preview(mood_preview.load_catalogue(), definition, _start_mood(start_slug)), probe


def _note(state: MoodForm) -> str:
    """The version note as typed; too long is a field error (the column holds 500 characters)."""
    note = request.form.get("note", "").strip()
    if len(note) > NOTE_MAX:
        state.errors.setdefault("note", []).append(f"keep the note under {NOTE_MAX} characters (it has {len(note)})")
    return note


def _render_editor(state: MoodForm, *, mood=None, base_version_id=None, status=200, conflict=None,
                   note: str = ""):
    start_slug = request.values.get("start", "")
    preview, probe = _preview_for(state, start_slug)
    return render_template(
        "curate/editor.html",
        form=state, mood=mood, base_version_id=base_version_id, conflict=conflict, note=note,
        features=feature_rows(), start_moods=active_moods(), start_slug=start_slug,
        preview=preview, preview_form=probe,
    ), status


@bp.get("/moods")
@curator_required
def moods():
    return render_template("curate/moods.html", moods=all_moods())


@bp.route("/moods/new", methods=["GET", "POST"])
@curator_required
def new_mood():
    if request.method == "GET":
        return _render_editor(blank_form())
    state = read_form(request.form)
    note = _note(state)
    if request.form.get("action") != "save":
        return _render_editor(state, note=note)
    if state.value("slug") in RESERVED_SLUGS:
        state.add_error("slug", reserved_slug_message(state.value("slug")))
    definition = validate(state)
    if definition is None or state.has_errors:
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
    mood = history.mood_row(slug)
    if request.method == "GET":
        state = form_from_mood(history.version_data(mood.current_version))
        return _render_editor(state, mood=mood, base_version_id=mood.current_version_id)
    state = read_form(request.form, slug=slug)
    note = _note(state)
    base = request.form.get("base_version_id", type=db_int)
    if request.form.get("action") != "save":
        # "Preview" without JavaScript, or a proposal opened from calibration: show, don't save.
        return _render_editor(state, mood=mood, base_version_id=base, note=note)
    if base is None:
        state.general_errors.append("The form lost track of which version you started from; reload the editor.")
        return _render_editor(state, mood=mood, base_version_id=mood.current_version_id, status=422, note=note)
    definition = validate(state)
    if definition is None or state.has_errors:
        return _render_editor(state, mood=mood, base_version_id=base, status=422, note=note)
    try:
        version = service.save_mood(definition, author=g.user, note=note, base_version_id=base)
    except VersionConflict as exc:
        theirs = history.version_data(exc.current)
        conflict = {
            "message": exc.message, "version": exc.current, "theirs": theirs,
            "diff": diff_moods(theirs, mood_to_dict(definition), old_label=f"version {exc.current.number}",
                               new_label="yours"),
        }
        # Yours stays in the form exactly as typed; saving again now means "mine over theirs", knowingly.
        return _render_editor(state, mood=mood, base_version_id=exc.current.id, status=409,
                              conflict=conflict, note=note)
    flash(f"Saved “{definition.name}” as version {version.number}.", "success")
    return redirect(url_for("curate.edit_mood", slug=slug))


@bp.post("/moods/preview")
@curator_required
def preview():
    """The preview fragment for the editor's script (the form as it is, nothing saved)."""
    slug = request.form.get("fixed_slug") or None
    state = read_form(request.form, slug=slug)
    result, probe = _preview_for(state, request.form.get("start"))
    return render_template("curate/_preview.html", preview=result, preview_form=probe)


@bp.post("/moods/<slug>/archive")
@curator_required
def archive(slug: str):
    service.set_archived(slug, True, actor=g.user)
    flash(f"Archived “{slug}”: listeners no longer see it; its history is kept.", "success")
    return redirect(url_for("curate.moods"))


@bp.post("/moods/<slug>/unarchive")
@curator_required
def unarchive(slug: str):
    service.set_archived(slug, False, actor=g.user)
    flash(f"“{slug}” is back on the listeners' list.", "success")
    return redirect(url_for("curate.moods"))


@bp.get("/moods/<slug>/history")
@curator_required
def mood_history(slug: str):
    mood = history.mood_row(slug)
    versions = history.versions(slug)
    return render_template("curate/history.html", mood=mood, versions=versions,
                           previews=history.preview_counts([v.id for v in versions]))


@bp.get("/moods/<slug>/diff")
@curator_required
def mood_diff(slug: str):
    mood = history.mood_row(slug)
    current = mood.current_version.number
    old_n = request.args.get("from", type=db_int)
    new_n = request.args.get("to", type=db_int) or current
    if old_n is None:
        old_n = max(1, new_n - 1)
    old, new = history.version(slug, old_n), history.version(slug, new_n)
    diff = diff_moods(history.version_data(old), history.version_data(new),
                      old_label=f"version {old.number}", new_label=f"version {new.number}")
    return render_template("curate/diff.html", mood=mood, old=old, new=new, diff=diff,
                           versions=history.versions(slug))


@bp.post("/moods/<slug>/rollback")
@curator_required
def rollback(slug: str):
    number = request.form.get("version", type=db_int)
    base = request.form.get("base_version_id", type=db_int)
    if number is None or base is None:
        raise CuratorError("Choose a version to roll back to.", field="version")
    try:
        version = service.rollback(slug, number, author=g.user, base_version_id=base)
    except VersionConflict as exc:
        mood = history.mood_row(slug)
        versions = history.versions(slug)
        return render_template("curate/history.html", mood=mood, versions=versions,
                               previews=history.preview_counts([v.id for v in versions]),
                               conflict=f"{exc.message} Check the history below before rolling back."), 409
    flash(f"Rolled “{slug}” back to version {number} (saved as version {version.number}).", "success")
    return redirect(url_for("curate.mood_history", slug=slug))


@bp.route("/moods/<slug>/calibrate", methods=["GET", "POST"])
@curator_required
def calibrate(slug: str):
    mood = history.mood_row(slug)
    current = get_mood(slug, include_archived=True)
    catalogue = mood_preview.load_catalogue()
    tags = examples.tag_counts(catalogue) if catalogue is not None else []
    context = {"mood": mood, "current": current, "tags": tags, "has_catalogue": catalogue is not None,
               "tag": request.form.get("tag", ""), "pasted": request.form.get("tracks", ""),
               "result": None, "error": None, "unrecognised": [], "proposal_fields": None}
    if request.method == "GET":
        return render_template("curate/calibrate.html", **context)
    if catalogue is None:
        context["error"] = "There is no track catalogue yet, so there are no examples to learn from."
        return render_template("curate/calibrate.html", **context), 422
    result, status = _calibrate_from_form(catalogue, current.definition, context)
    if result is not None:
        context["result"] = result
        context["diff"] = diff_moods(mood_to_dict(current.definition), mood_to_dict(result.proposed),
                                     old_label=f"version {current.number}", new_label="proposal")
        context["proposal_fields"] = form_from_mood(mood_to_dict(result.proposed)).values
        source = f"tag {context['tag']}" if context["tag"] else "pasted tracks"
        context["note"] = (f"Calibrated from {result.examples} examples ({source}): precision at "
                           f"{examples.K} {result.precision_proposed:.2f} (was {result.precision_current:.2f})")
    return render_template("curate/calibrate.html", **context), status


def _calibrate_from_form(catalogue, definition, context):
    tag = context["tag"]
    if tag:
        if tag not in dict(context["tags"]):
            context["error"] = f"No track in the catalogue carries the tag “{tag}”."
            return None, 422
        mask, missing = examples.tag_mask(catalogue, tag), []
    else:
        refs = examples.parse_track_refs(context["pasted"])
        context["unrecognised"] = refs.unrecognised
        if not refs.ids:
            context["error"] = "Choose a tag, or paste Spotify track links, URIs or ids (one per line)."
            return None, 422
        mask, missing = examples.ids_mask(catalogue, refs.ids)
        context["missing"] = missing
        if not mask.any():
            context["error"] = "None of those tracks is in the catalogue, so there is nothing to learn from."
            return None, 422
    try:
        return examples.calibrate(catalogue, definition, mask, missing=missing), 200
    except ValueError as exc:
        context["error"] = str(exc)
        return None, 422
