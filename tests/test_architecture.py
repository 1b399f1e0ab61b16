"""The house's rules about imports, checked by walking every module's `import` statements (`ast`,
nothing is imported or run). Each rule says what it protects.

**Routes are thin.** A route module (`routes.py`, `*_routes.py`) under `curator/` may import from
`curator` only:

- its own package (`curator.<area>` and the modules in it: its blueprint, its service, forms and
  view helpers);
- the service of the domain it shows (`AREA_SERVICES`: the listener's pages and the JSON API call
  `curator.playlists.service`);
- the shared web helpers in `SHARED`: `curator.errors` (error types mapped to pages and JSON),
  `curator.problems` (the error types themselves), `curator.auth.decorators` (access rules),
  `curator.ratelimit`, `curator.inputs` (input the database and parser can take), `curator.demo`
  (who may try the listener's pages before setup);
- any package's `errors` module: the problems a domain raises are its public vocabulary.

So never `curator.models`, `curator.extensions`, the engine, the gateway, or another package's
internals: a rule or a query found in a view belongs in a service.

**One door into the playlist domain.** A module outside `curator/playlists/` may import from it
only `curator.playlists.service` (the use cases) and `curator.playlists.errors` (its problems).

**One caching idiom.** Outside the engine, a value kept beyond the line that computed it is kept
on the app through `curator.caching` (valid for a version), never in a `functools` cache.

**No import cycles.** No module reaches, through its imports (nested ones included), back to
itself: a cycle means neither side can be read, tested or moved without the other. Two edges are
not counted: the composition root `curator` (`create_app` imports every area to assemble the app,
and a worker may import `create_app`), and a blueprint package's `__init__` importing its own route
modules (Flask's idiom: the routes register themselves on the package's `bp`).

`PENDING` lists route modules still being converted by another change; the test fails as soon as
one of them obeys the rules, so that the entry is removed.
"""
from __future__ import annotations

import ast
from pathlib import Path

CURATOR = Path(__file__).resolve().parents[1] / "curator"

SHARED = {"curator.errors", "curator.problems", "curator.auth.decorators", "curator.ratelimit", "curator.inputs",
          "curator.demo"}
AREA_SERVICES = {
    "curator.listen": {"curator.playlists.service"},
    "curator.api": {"curator.playlists.service"},
}
PLAYLISTS_DOORS = {"curator.playlists", "curator.playlists.service", "curator.playlists.errors"}

# Route modules another change is converting (none now: admin/ calls admin/service.py). Remove an
# entry once it obeys the rules.
PENDING: set[str] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(CURATOR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    """Whether `dotted` names a module or package under curator/ (not a name inside one)."""
    base = CURATOR.parent.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def curator_imports(path: Path, module: str | None = None) -> list[tuple[int, str]]:
    """(line, module) for every module of `curator` that `path` imports, nested imports included.
    `from a import b` counts as importing `a.b` when that is a module, else `a`. `module`: the
    file's dotted name (read from its place under curator/ when not given)."""
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                dotted = f"{base}.{alias.name}"
                found.append((node.lineno, dotted if is_module(dotted) else base))
    return sorted({(line, name) for line, name in found if name == "curator" or name.startswith("curator.")})


def route_modules() -> list[Path]:
    return sorted(p for p in CURATOR.rglob("*.py") if p.name == "routes.py" or p.name.endswith("_routes.py"))


def route_violations(path: Path) -> list[str]:
    own = module_name(path).rsplit(".", 1)[0]
    allowed = SHARED | AREA_SERVICES.get(own, set())
    bad = []
    for line, name in curator_imports(path):
        if name == own or name.startswith(own + ".") or name in allowed or name.endswith(".errors"):
            continue
        bad.append(f"{path.relative_to(CURATOR.parent)}:{line} imports {name}")
    return bad


def test_route_modules_import_only_their_service_their_own_helpers_and_shared_web_helpers():
    assert route_modules(), "no route module found: has the layout changed?"
    problems, obeying_pending = [], []
    for path in route_modules():
        bad = route_violations(path)
        if str(path.relative_to(CURATOR.parent)) in PENDING:
            if not bad:
                obeying_pending.append(str(path.relative_to(CURATOR.parent)))
            continue
        problems += bad
    assert not problems, "route modules reaching past their service:\n" + "\n".join(problems)
    assert not obeying_pending, f"these obey the rules now; remove them from PENDING: {obeying_pending}"


def test_pending_entries_name_route_modules_that_exist():
    routes = {str(p.relative_to(CURATOR.parent)) for p in route_modules()}
    assert PENDING <= routes, f"PENDING names modules that are gone: {sorted(PENDING - routes)}"


def test_only_the_service_and_errors_of_the_playlist_domain_are_imported_from_outside_it():
    problems = []
    for path in sorted(CURATOR.rglob("*.py")):
        if (CURATOR / "playlists") in path.parents:
            continue
        for line, name in curator_imports(path):
            if (name == "curator.playlists" or name.startswith("curator.playlists.")) and name not in PLAYLISTS_DOORS:
                problems.append(f"{path.relative_to(CURATOR.parent)}:{line} imports {name}")
    assert not problems, "modules reaching into curator.playlists past its service:\n" + "\n".join(problems)


def test_the_import_walk_sees_what_it_must(tmp_path):
    """The walker itself: nested, relative and `from package import module` imports are all seen."""
    def imports(text: str) -> list[tuple[int, str]]:
        path = tmp_path / "routes.py"
        path.write_text(text)
        return curator_imports(path, "curator.listen.routes")

    assert imports("from curator import models\n") == [(1, "curator.models")]
    assert imports("def f():\n    from curator.extensions import db\n") == [(2, "curator.extensions")]
    assert imports("import curator.playlists.saving\n") == [(1, "curator.playlists.saving")]
    assert imports("from ..playlists import saving\n") == [(1, "curator.playlists.saving")]
    assert imports("from .charts import arc_chart\n") == [(1, "curator.listen.charts")]
    assert imports("from curator.playlists.service import SAVE_STOPPED\n") == [(1, "curator.playlists.service")]


def import_graph() -> dict[str, set[str]]:
    """Module -> the curator modules it imports, without the two edges the rule does not count."""
    modules = {module_name(p): p for p in CURATOR.rglob("*.py")}
    graph = {}
    for module, path in modules.items():
        if module == "curator":
            continue
        deps = {name for _, name in curator_imports(path) if name in modules and name != "curator"}
        if path.name == "__init__.py":  # a blueprint package registering its own routes
            deps = {d for d in deps if not (d.startswith(module + ".") and d.rsplit(".", 1)[1].endswith("routes"))}
        graph[module] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_package_has_a_tests_folder_of_its_name():
    """tests/ mirrors curator/ (tests/__init__.py says how): a package's tests are found in one place."""
    tests = Path(__file__).resolve().parent
    packages = sorted(p.parent.name for p in CURATOR.glob("*/__init__.py"))
    assert len(packages) >= 10, "too few packages found: has the layout changed?"
    missing = [name for name in packages if not (tests / name / "__init__.py").is_file()]
    assert not missing, f"packages without a tests/<package>/ folder: {missing}"


def test_the_web_half_keeps_values_only_through_curator_caching():
    """One caching idiom (curator/caching.py): no functools caches outside the engine, which knows no app."""
    problems = []
    for path in sorted(CURATOR.rglob("*.py")):
        if (CURATOR / "engine") in path.parents or path.name == "caching.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module == "functools":
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "functools":
                names = [node.attr]
            if {"lru_cache", "cache"} & set(names):
                problems.append(f"{path.relative_to(CURATOR.parent)}:{node.lineno} uses functools' cache")
    assert not problems, "keep values with curator.caching instead:\n" + "\n".join(problems)


def test_the_clock_is_taken_from_curator_clock():
    """`utcnow` lives in curator/clock.py; a module that takes it from the user model depends on
    people for the time of day."""
    problems = []
    for path in sorted([*CURATOR.rglob("*.py"), *CURATOR.parent.joinpath("tests").rglob("*.py"),
                        *CURATOR.parent.joinpath("bench").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.ImportFrom) and node.module == "curator.models.user"
                    and any(alias.name == "utcnow" for alias in node.names)):
                problems.append(f"{path.relative_to(CURATOR.parent)}:{node.lineno}")
    assert not problems, "import utcnow from curator.clock:\n" + "\n".join(problems)
