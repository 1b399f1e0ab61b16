"""The admin's use cases, one function per page or action, each owning its transaction: the
dashboard, users and their roles, the audit trail, the catalogue page, refreshes and seed lists.
Admin routes (admin/routes.py, admin/catalogue_routes.py) call only this module."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from curator.admin import audit_log
from curator.admin.roles import GRANTABLE, RoleChange, apply_role_change, find_user, staff, user_count
from curator.auth.service import same_site_path
from curator.catalogue import health, seeds
from curator.catalogue import jobs as refresh_jobs
from curator.extensions import db
from curator.models.catalogue import CatalogueImport, RefreshRun
from curator.models.user import User
from curator.moods.diff import diff_moods
from curator.moods.store import all_moods
from curator.playlists import service as playlists_service
from curator.problems import CuratorError, NotFound
from curator.spotify import call_log
from curator.spotify.gateway import SEED_SCOPES
from curator.spotify.refs import KINDS
from curator.spotify.token_store import granted_scopes
from curator.transaction import transaction

log = logging.getLogger(__name__)

# The problems the admin's pages show as a notice rather than an error page.
RefreshBusy = refresh_jobs.RefreshBusy
SeedsInvalid = seeds.SeedsInvalid
SEED_KINDS = KINDS
USERS_PER_PAGE = 50


# -- dashboard --------------------------------------------------------------------------------

def _catalogue_health() -> dict:
    try:
        return health.catalogue_health()
    except Exception:  # one broken panel must not take the dashboard down
        current_app.logger.exception("catalogue_health failed")
        db.session.rollback()
        return {"error": "Catalogue health could not be read; see the server log."}


def _refresh_runs(limit: int = 5) -> list:
    """(run, status, what it did, API calls) for each; the status says "interrupted" for a run whose
    worker died, and a finished run says what its report says first (as the catalogue page does)."""
    out = []
    for run in refresh_jobs.latest_runs(limit):
        shown = refresh_jobs.run_status(run)["run"]
        out.append((run, shown["status"], shown["report"][0] if shown["report"] else shown["message"],
                    shown["api_calls"]))
    return out


def dashboard() -> dict:
    """Everything the dashboard shows, as the template's arguments."""
    return {
        "staff": staff(), "user_count": user_count(), "health": _catalogue_health(), "runs": _refresh_runs(),
        "calls": call_log.summary(), "living": playlists_service.living_overview(),
        "recent": audit_log.recent(), "grantable": GRANTABLE, "admin_ids": admin_ids(),
    }


def admin_ids() -> list[str]:
    return list(current_app.config.get("ADMIN_SPOTIFY_IDS") or [])


# -- users and roles --------------------------------------------------------------------------

def users_page(q: str, page: int):
    """A page of users whose Spotify id or name contains `q` (all when empty), by Spotify id."""
    query = select(User).order_by(User.spotify_id)
    if q:
        like = f"%{audit_log.escape_like(q)}%"
        query = query.where(User.spotify_id.ilike(like, escape="\\") | User.display_name.ilike(like, escape="\\"))
    return db.paginate(query, page=max(1, page), per_page=USERS_PER_PAGE, error_out=False)


def change_role(actor: User | None, user_id: int, op: str | None, role: str, *, from_web: bool = True) -> RoleChange:
    """Grant or revoke `role` for user `user_id` ("grant" / "revoke"), audited, in one transaction."""
    with transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("That user doesn't exist.", field="user")
        if op not in ("grant", "revoke"):
            raise CuratorError("Choose grant or revoke.", field="op")
        return apply_role_change(actor, user, role, grant=op == "grant", from_web=from_web)


def change_role_by_spotify_id(spotify_id: str, role: str, *, grant: bool) -> RoleChange:
    """The command line's grant and revoke (no acting admin), audited, in one transaction."""
    with transaction():
        return apply_role_change(None, find_user(spotify_id), role, grant=grant, from_web=False)


def admin_path(target: str) -> str | None:
    """`target` when it is one of our admin pages (a redirect never leaves them), else None."""
    return target if target.startswith("/admin/") and same_site_path(target) else None


# -- audit trail ------------------------------------------------------------------------------

def audit_page(args, page: int) -> dict:
    """The audit page's arguments: filters from the query string (a malformed one is `error`, and
    the page shows everything), a page of events with a diff for mood changes, the actions known."""
    try:
        filters, error = audit_log.filters_from(args), None
    except CuratorError as exc:
        filters, error = audit_log.AuditFilters(), exc
    pagination = audit_log.search(filters, page)
    return {"pagination": pagination, "events": [_event_view(e) for e in pagination.items], "filters": filters,
            "actions": audit_log.actions(), "error": error}


def _event_view(event) -> dict:
    before, after = event.before, event.after
    diff = None
    if isinstance(before, dict) and isinstance(after, dict) and "features" in after:
        diff = diff_moods(before, after)
    return {"event": event, "before": before, "after": after, "diff": diff}


# -- catalogue, refreshes and seed lists --------------------------------------------------------

def mood_slugs() -> list[str]:
    return [m.slug for m in all_moods() if not m.archived]


def catalogue_page(admin: User) -> dict:
    """The catalogue page's arguments: coverage, the last runs and imports, seed counts, and whether
    the admin still has to grant the playlist-reading scopes."""
    imports = db.session.scalars(select(CatalogueImport).order_by(CatalogueImport.id.desc()).limit(10))
    return {
        "health": health.catalogue_health(),
        "runs": [refresh_jobs.run_status(run)["run"] for run in refresh_jobs.latest_runs(10)],
        "imports": [_import_row(i) for i in imports],
        "seed_counts": seeds.seed_counts(),
        "seed_scopes_missing": not set(SEED_SCOPES) <= granted_scopes(admin.id),
    }


def _import_row(entry: CatalogueImport) -> dict:
    return {"filename": entry.filename, "at": entry.at, "status": entry.status, "rows_read": entry.rows_read,
            "imported": entry.imported, "updated": entry.updated, "skipped": entry.skipped,
            "problems": entry.problems or [], "seconds": entry.seconds, "actor": entry.actor_label}


def start_refresh(admin: User, mood: str | None) -> RefreshRun:
    """Queue a refresh of every seed (or one mood's) read with `admin`'s Spotify login. Raises
    NotFound for an unknown mood, RefreshBusy while one is queued or running."""
    if mood and mood not in mood_slugs():
        raise NotFound(f"There is no mood called “{mood}”.", field="mood")
    return refresh_jobs.start_refresh(admin, requested_by=admin, mood=mood)


def refresh_status(run_id: int | None, asked: bool) -> dict:
    """The progress endpoint's answer: run `run_id` when one was asked for (NotFound when there is
    no such run), else the latest."""
    if asked:
        run = db.session.get(RefreshRun, run_id) if run_id is not None else None
        if run is None:
            raise NotFound("No such refresh run.", field="run")
    else:
        run = db.session.scalar(select(RefreshRun).order_by(RefreshRun.id.desc()).limit(1))
    return refresh_jobs.run_status(run)


def seeds_overview() -> dict:
    by_mood = seeds.seeds_by_mood()
    return {"moods": mood_slugs(), "counts": seeds.seed_counts(), "by_mood": by_mood,
            "names": seeds.seed_names([seed for rows in by_mood.values() for seed in rows])}


def editable_mood(slug: str) -> str:
    """`slug` if its seeds can be edited; NotFound saying why not otherwise."""
    if slug not in mood_slugs():
        if any(m.slug == slug for m in all_moods()):
            raise NotFound(f"“{slug}” is archived, so a refresh skips its seeds. Unarchive it on the moods page "
                           "to edit them.")
        raise NotFound(f"There is no mood called “{slug}”.")
    return slug


def mood_seeds(slug: str) -> dict:
    """The seed editor's contents for an editable mood: its texts and its seeds' rows."""
    editable_mood(slug)
    rows = seeds.seeds_by_mood(slug).get(slug, [])
    return {"texts": seeds.seed_texts(slug), "seed_rows": rows, "names": seeds.seed_names(rows)}


def save_seeds(slug: str, texts: dict[str, str], *, actor: User | None = None) -> dict[str, int]:
    """Replace an editable mood's seed lists with the editor's texts, all or nothing (audited).
    Returns {added, removed, kept}; raises SeedsInvalid naming each bad line."""
    editable_mood(slug)
    with transaction():
        return seeds.save_mood_seeds(slug, texts, actor=actor)
