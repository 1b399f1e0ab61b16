"""Who commits (docs/architecture.md, "Who commits"): a use case's service function owns its
transaction, through `with transaction():` (curator/transaction.py). Any other place that commits
(`.commit()`, or `.begin()`, which commits when its block ends) must be one of the few named in
`PLACES`, each a documented step of a journal or a write that must outlive the view; and
`with transaction():` itself is opened only in service modules (`*/service.py`). The test walks
every module's code (`ast`, nothing is run) and fails on a commit anywhere else, and on an entry
that no longer commits, so the list stays short and true.
"""
from __future__ import annotations

import ast
from pathlib import Path

CURATOR = Path(__file__).resolve().parents[1] / "curator"

# (module, function) -> why it may commit; "*": every function of a journal module.
PLACES = {
    ("curator.transaction", "transaction"):
        "the rule itself: the commit of a service function's `with transaction():`",
    ("curator.playlists.saving", "*"):
        "the save journal: each step committed the moment Spotify has done it, so a retry resumes",
    ("curator.playlists.refreshing", "*"):
        "the refresh journal of living playlists: claims of due times and each step committed before and "
        "after its call to Spotify, so a crash resumes instead of repeating or leaving a playlist half",
    ("curator.deferred_writes", "flush"):
        "the call log and a forgotten token, written after the view so they outlive its rollback",
    ("curator.remote_call", "commit_keeping_loaded"):
        "the end of a read-only transaction before a call to Spotify, and a refreshed token's own short "
        "transaction (`short_write`), which must outlive the view",
    ("curator.playlists.save_lease", "_Heartbeat._renew"):
        "the heartbeat that renews running saves' and refreshes' leases, on a connection of its own",
    ("curator.deferred_writes", "write"):
        "the same outside a request (CLI, jobs): written at once on a connection of its own",
    ("curator.sessions", "DatabaseSessionInterface.save_session"):
        "the session row, written after the view's transaction has ended",
    # The catalogue's refresh journal, job runner and lease: the job runner's change (curator/jobs/)
    # rewrites these; it updates these entries when it moves them.
    ("curator.catalogue.refresh", "*"):
        "the refresh journal: each seed committed as it is read, so Spotify calls never hold the database",
    ("curator.catalogue.jobs", "*"): "a job's run record and progress, seen by other processes while it runs",
    ("curator.catalogue.covers", "look_up_covers"):
        "the cover look-ups' journal: each track's answer committed as Spotify gives it (no transaction "
        "held across a call; a track is looked up once, ever), then the catalogue's version once",
    ("curator.jobs.lease", "*"): "the lock between workers, on a connection of its own",
    ("curator.jobs.records", "*"):
        "a job's row (state, progress, lease), on a connection of its own so other processes see it as it runs",
    # Commits inside helpers the job runner's change moves into services (owned by that change).
    ("curator.catalogue.importer", "import_csv"): "a CSV import's batches (moves into a service)",
    ("curator.catalogue.seeds", "import_shipped_if_empty"): "the first run's seed lists (moves into a service)",
}


# Modules outside a service.py that open a service transaction, until another change moves them
# (none now: admin/roles.py's changes run in admin/service.py's transaction).
PENDING_TRANSACTIONS: set[str] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(CURATOR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def commit_sites(source: str) -> list[tuple[int, str]]:
    """(line, enclosing function's qualified name) for every `.commit()` and `.begin()` call."""
    found = []

    def visit(node: ast.AST, names: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*names, child.name])
                continue
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                    and child.func.attr in ("commit", "begin")):
                found.append((child.lineno, ".".join(names)))
            visit(child, names)

    visit(ast.parse(source), [])
    return found


def allowed(module: str, function: str) -> bool:
    """Listed by name (a nested function by an enclosing one's), or its module as a whole ("*")."""
    parts = function.split(".")
    return (module, "*") in PLACES or any((module, ".".join(parts[:i])) in PLACES for i in range(1, len(parts) + 1))


def all_sites() -> list[tuple[str, int, str]]:
    return [(module_name(path), line, function)
            for path in sorted(CURATOR.rglob("*.py")) for line, function in commit_sites(path.read_text())]


def test_every_commit_is_a_service_transaction_or_a_listed_step():
    stray = [f"{module}:{line} in {function or 'module level'}"
             for module, line, function in all_sites() if not allowed(module, function)]
    assert not stray, ("commits outside a service's `with transaction():` and the listed places "
                       "(tests/test_commit_sites.py, docs/architecture.md):\n" + "\n".join(stray))


def test_every_listed_place_still_commits():
    sites = all_sites()
    stale = [place for place in PLACES if not any(
        module == place[0] and (place[1] == "*" or function == place[1] or function.startswith(place[1] + "."))
        for module, _line, function in sites)]
    assert not stale, f"these no longer commit; remove them from PLACES and the docs: {stale}"


def transaction_users() -> set[str]:
    """Modules that call `transaction(...)` (the `with transaction():` of a use case)."""
    users = set()
    for path in sorted(CURATOR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "transaction":
                users.add(module_name(path))
    return users


def test_only_service_modules_open_a_use_cases_transaction():
    users = transaction_users()
    stray = sorted(m for m in users - PENDING_TRANSACTIONS if not m.endswith(".service"))
    assert not stray, f"`with transaction():` belongs in a service module's function: {stray}"
    done = sorted(PENDING_TRANSACTIONS - users)
    assert not done, f"these no longer open a transaction; remove them from PENDING_TRANSACTIONS: {done}"


def test_the_walk_finds_commits_where_they_are():
    source = "def outer():\n    def inner():\n        db.session.commit()\n\nclass A:\n    def f(self):\n" \
             "        with db.engine.begin() as conn:\n            pass\n"
    assert commit_sites(source) == [(3, "outer.inner"), (7, "A.f")]
    assert allowed("curator.catalogue.jobs", "execute_run.on_progress")
    assert allowed("curator.sessions", "DatabaseSessionInterface.save_session")
    assert not allowed("curator.playlists.service", "create_preview")
