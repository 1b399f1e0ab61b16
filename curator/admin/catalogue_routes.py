"""Admin pages for the track catalogue: seed lists, refresh runs, coverage. Admins only; each view
calls `admin/service.py`."""
from __future__ import annotations

from flask import flash, g, jsonify, redirect, render_template, request, url_for

from curator.admin import bp, service
from curator.auth.decorators import admin_required
from curator.errors import NotFound
from curator.inputs import db_int

FIELD_LABELS = {
    "playlist": ("Playlists", "Links, spotify:playlist: URIs or ids, one a line."),
    "artist": ("Artists", "Links, spotify:artist: URIs or ids, one a line. Their albums and singles are read."),
    "track": ("Tracks", "Links, spotify:track: URIs or ids, one a line."),
    "search": ("Searches", "Spotify search queries, one a line, e.g. genre:ambient year:2010-2024."),
}


@bp.get("/catalogue")
@admin_required
def catalogue():
    return render_template("admin/catalogue.html", **service.catalogue_page(g.user))


@bp.post("/catalogue/refresh")
@admin_required
def refresh_start():
    try:
        run = service.start_refresh(g.user, request.form.get("mood") or None)
    except service.RefreshBusy as exc:
        flash(exc.message, "warning")
        return redirect(url_for("admin.catalogue", _anchor="refresh-heading"))
    # The page opens at the progress line; admin-refresh.js removes this notice when the run ends.
    flash(f"Refresh #{run.id} started; its progress shows below.", "info")
    return redirect(url_for("admin.catalogue", _anchor="refresh-heading"))


@bp.get("/catalogue/refresh/status")
@admin_required
def refresh_status():
    """JSON for the page's progress line: the latest run, or the one asked for with ?run=ID."""
    asked = bool(request.args.get("run"))
    try:
        return jsonify(service.refresh_status(request.args.get("run", type=db_int), asked))
    except NotFound as exc:
        return jsonify({"error": {"code": "not_found", "message": exc.message, "field": "run"}}), 404


@bp.get("/catalogue/seeds")
@admin_required
def seeds_index():
    return render_template("admin/seeds.html", **service.seeds_overview())


@bp.route("/catalogue/seeds/<slug>", methods=["GET", "POST"])
@admin_required
def seeds_edit(slug: str):
    kinds = service.SEED_KINDS
    if request.method == "POST":
        texts = {kind: request.form.get(kind, "") for kind in kinds}
        try:
            counts = service.save_seeds(slug, texts, actor=g.user)
        except service.SeedsInvalid as exc:
            flash(exc.message, "error")
            return render_template("admin/seeds_edit.html", slug=slug, texts=texts, errors=exc.errors,
                                   labels=FIELD_LABELS, kinds=kinds, names={}), 422
        flash(f"Saved the {slug} seeds: {counts['added']} added, {counts['removed']} removed, "
              f"{counts['kept']} kept.", "info")
        return redirect(url_for("admin.seeds_edit", slug=slug))
    return render_template("admin/seeds_edit.html", slug=slug, errors={}, labels=FIELD_LABELS, kinds=kinds,
                           **service.mood_seeds(slug))
