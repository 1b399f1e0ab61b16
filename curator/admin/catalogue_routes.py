"""Admin pages for the track catalogue: seed lists, refresh runs, coverage. Admins only."""
from __future__ import annotations

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from curator.admin import bp
from curator.auth.decorators import admin_required
from curator.catalogue import health, jobs, seeds
from curator.errors import NotFound
from curator.extensions import db
from curator.inputs import db_int
from curator.models.catalogue import CatalogueImport, RefreshRun
from curator.moods.store import all_moods
from curator.spotify.gateway import SEED_SCOPES
from curator.spotify.refs import KINDS
from curator.spotify.token_store import granted_scopes

FIELD_LABELS = {
    "playlist": ("Playlists", "Links, spotify:playlist: URIs or ids, one a line."),
    "artist": ("Artists", "Links, spotify:artist: URIs or ids, one a line. Their albums and singles are read."),
    "track": ("Tracks", "Links, spotify:track: URIs or ids, one a line."),
    "search": ("Searches", "Spotify search queries, one a line, e.g. genre:ambient year:2010-2024."),
}


def _mood_slugs() -> list[str]:
    return [m.slug for m in all_moods() if not m.archived]


@bp.get("/catalogue")
@admin_required
def catalogue():
    runs = jobs.latest_runs(10)
    imports = list(db.session.scalars(select(CatalogueImport).order_by(CatalogueImport.id.desc()).limit(10)))
    return render_template(
        "admin/catalogue.html",
        health=health.catalogue_health(),
        runs=[jobs.run_status(run)["run"] for run in runs],
        imports=[{**_import_row(i)} for i in imports],
        seed_counts=seeds.seed_counts(),
        seed_scopes_missing=not set(SEED_SCOPES) <= granted_scopes(g.user.id),
    )


def _import_row(entry: CatalogueImport) -> dict:
    return {"filename": entry.filename, "at": entry.at, "status": entry.status, "rows_read": entry.rows_read,
            "imported": entry.imported, "updated": entry.updated, "skipped": entry.skipped,
            "problems": entry.problems or [], "seconds": entry.seconds, "actor": entry.actor_label}


@bp.post("/catalogue/refresh")
@admin_required
def refresh_start():
    mood = request.form.get("mood") or None
    if mood and mood not in _mood_slugs():
        raise NotFound(f"There is no mood called “{mood}”.", field="mood")
    try:
        run = jobs.start_refresh(g.user, requested_by=g.user, mood=mood)
    except jobs.RefreshBusy as exc:
        flash(exc.message, "warning")
        return redirect(url_for("admin.catalogue", _anchor="refresh-heading"))
    # The page opens at the progress line; admin-refresh.js removes this notice when the run ends.
    flash(f"Refresh #{run.id} started; its progress shows below.", "info")
    return redirect(url_for("admin.catalogue", _anchor="refresh-heading"))


@bp.get("/catalogue/refresh/status")
@admin_required
def refresh_status():
    """JSON for the page's progress line: the latest run, or the one asked for with ?run=ID."""
    if request.args.get("run"):
        run_id = request.args.get("run", type=db_int)
        run = db.session.get(RefreshRun, run_id) if run_id is not None else None
        if run is None:
            return jsonify({"error": {"code": "not_found", "message": "No such refresh run.", "field": "run"}}), 404
    else:
        run = db.session.scalar(select(RefreshRun).order_by(RefreshRun.id.desc()).limit(1))
    return jsonify(jobs.run_status(run))


@bp.get("/catalogue/seeds")
@admin_required
def seeds_index():
    return render_template("admin/seeds.html", moods=_mood_slugs(), counts=seeds.seed_counts(),
                           by_mood=seeds.seeds_by_mood())


@bp.route("/catalogue/seeds/<slug>", methods=["GET", "POST"])
@admin_required
def seeds_edit(slug: str):
    if slug not in _mood_slugs():
        if any(m.slug == slug for m in all_moods()):
            raise NotFound(f"“{slug}” is archived, so a refresh skips its seeds. Unarchive it on the moods page "
                           "to edit them.")
        raise NotFound(f"There is no mood called “{slug}”.")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        texts = {kind: request.form.get(kind, "") for kind in KINDS}
        try:
            counts = seeds.save_mood_seeds(slug, texts, actor=g.user)
        except seeds.SeedsInvalid as exc:
            errors = exc.errors
            flash(exc.message, "error")
            return render_template("admin/seeds_edit.html", slug=slug, texts=texts, errors=errors,
                                   labels=FIELD_LABELS, kinds=KINDS), 422
        flash(f"Saved the {slug} seeds: {counts['added']} added, {counts['removed']} removed, "
              f"{counts['kept']} kept.", "info")
        return redirect(url_for("admin.seeds_edit", slug=slug))
    return render_template("admin/seeds_edit.html", slug=slug, texts=seeds.seed_texts(slug), errors=errors,
                           labels=FIELD_LABELS, kinds=KINDS, seed_rows=seeds.seeds_by_mood(slug).get(slug, []))
