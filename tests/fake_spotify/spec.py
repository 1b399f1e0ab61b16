"""Check HTTP requests against the Spotify Web API OpenAPI document.

The document is vendored beside this module as ``spotify-openapi.yml`` (MIT, see
``LICENSE-openapi-spec``), so every clone runs the checks; the ``SPOTIFY_OPENAPI_SPEC``
environment variable points at another copy. When the file it names is absent, checking is
disabled: every check passes and one warning says so.

``SpecChecker.check`` answers a list of human-readable violations: an unknown or
deprecated operation, missing/unknown/invalid query parameters, invalid path
parameters, a request body that does not validate against the operation's
``requestBody`` schema (``$ref`` resolved with ``referencing``), a body where none
is declared, or a missing required body.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_ENV = "SPOTIFY_OPENAPI_SPEC"
SPEC_URI = "urn:spotify-web-api-openapi"
DEFAULT_API_BASE = "https://api.spotify.com/v1"

# Limits the spec states in prose (descriptions) rather than in schemas.
_DOCUMENTED_ITEM_LIMITS = {
    "POST /playlists/{playlist_id}/items": 100,
    "PUT /playlists/{playlist_id}/items": 100,
}

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class SpecViolation(AssertionError):
    """A request does not conform to the Spotify Web API OpenAPI document."""


class SpecNotFoundWarning(UserWarning):
    """The OpenAPI document is absent, so request checks are skipped."""


def repo_root() -> Path:
    """The directory that contains ``tests/``."""
    return Path(__file__).resolve().parents[2]


VENDORED_SPEC = Path(__file__).resolve().parent / "spotify-openapi.yml"


def spec_path() -> Path:
    """Where the OpenAPI document is: ``$SPOTIFY_OPENAPI_SPEC``, else the vendored copy."""
    override = os.environ.get(SPEC_ENV)
    if override:
        return Path(override)
    return VENDORED_SPEC


_warned_paths: set[str] = set()
_warn_lock = threading.Lock()


def _notice_missing(path: Path) -> None:
    with _warn_lock:
        if str(path) in _warned_paths:
            return
        _warned_paths.add(str(path))
    warnings.warn(
        f"Spotify OpenAPI spec not found at {path}; request checks skipped",
        SpecNotFoundWarning,
        stacklevel=3,
    )


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema dialect -> JSON Schema draft 4, pragmatically.

    ``nullable: true`` becomes a ``"null"`` member of ``type``; everything else the
    validator does not know (``example``, ``discriminator``, ``x-*``) is ignored by it.
    """
    if isinstance(node, dict):
        out = {k: _to_json_schema(v) for k, v in node.items()}
        if out.pop("nullable", False) is True:
            if isinstance(out.get("type"), str):
                out["type"] = [out["type"], "null"]
            elif "type" not in out and (
                "allOf" in out or "$ref" in out or "oneOf" in out
            ):
                out = {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_to_json_schema(v) for v in node]
    return node


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _walk(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    template: str  # e.g. /playlists/{playlist_id}/items
    pointer: str  # JSON pointer of the operation object in the document
    node: dict
    parameters: tuple[
        tuple[dict, str], ...
    ]  # (parameter object, pointer of its schema)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def deprecated(self) -> bool:
        return bool(self.node.get("deprecated"))


class _CompiledSpec:
    """The parsed document plus path-matching tables and cached validators."""

    def __init__(self, document: dict):
        self.document = document
        self.registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(document, default_specification=DRAFT4)
        )
        server = (document.get("servers") or [{"url": DEFAULT_API_BASE}])[0]["url"]
        self.base_path = urlsplit(server).path.rstrip("/")
        self.paths: list[tuple[re.Pattern[str], str, list[str]]] = []
        for template in document.get("paths", {}):
            names = re.findall(r"{([^}]+)}", template)
            regex = "^" + re.sub(r"\\{[^}]+\\}", "([^/]+)", re.escape(template)) + "$"
            self.paths.append((re.compile(regex), template, names))
        # Literal paths before templated ones (fewest parameters first).
        self.paths.sort(key=lambda entry: (len(entry[2]), entry[1]))
        self._validators: dict[str, Draft4Validator] = {}
        self._lock = threading.Lock()

    def deref(self, node: Any, pointer: str) -> tuple[Any, str]:
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"unsupported $ref {ref}")
            pointer = ref[1:]
            node = _walk(self.document, pointer)
        return node, pointer

    def operation(self, method: str, template: str) -> Operation | None:
        item = self.document["paths"].get(template)
        if not item or method.lower() not in item:
            return None
        item_ptr = f"/paths/{_escape(template)}"
        params: dict[tuple[str, str], tuple[dict, str]] = {}
        for base, entries in (
            (item_ptr, item.get("parameters", [])),
            (
                f"{item_ptr}/{method.lower()}",
                item[method.lower()].get("parameters", []),
            ),
        ):
            for i, entry in enumerate(entries):
                param, ptr = self.deref(entry, f"{base}/parameters/{i}")
                params[(param["name"], param["in"])] = (param, f"{ptr}/schema")
        return Operation(
            method=method.upper(),
            template=template,
            pointer=f"{item_ptr}/{method.lower()}",
            node=item[method.lower()],
            parameters=tuple(params.values()),
        )

    def validator(self, pointer: str) -> Draft4Validator:
        with self._lock:
            found = self._validators.get(pointer)
            if found is None:
                found = Draft4Validator(
                    {"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry
                )
                self._validators[pointer] = found
            return found

    def schema_at(self, pointer: str) -> Any:
        return self.deref(_walk(self.document, pointer), pointer)[0]


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> _CompiledSpec:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=loader)
    return _CompiledSpec(_to_json_schema(document))


def load_spec(path: Path | None = None) -> _CompiledSpec | None:
    """The compiled document at ``path`` (default ``spec_path()``), cached per process."""
    path = path or spec_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        _notice_missing(path)
        return None
    return _load(str(path), mtime)


def _normalise_query(query: Mapping[str, Any] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in (query or {}).items():
        if isinstance(value, (list, tuple)):
            out.setdefault(name, []).extend(str(v) for v in value)
        else:
            out.setdefault(name, []).append(str(value))
    return out


def _coerce(value: str, schema: Any) -> Any:
    kind = schema.get("type") if isinstance(schema, dict) else None
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    if "number" in kinds:
        try:
            return float(value)
        except ValueError:
            return value
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


def _short(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where + ': ' if where else ''}{error.message}"


class SpecChecker:
    """Checks requests against the Spotify Web API OpenAPI document.

    ``allow_deprecated("GET /audio-features")`` lets one named retired operation
    through (for a test of an optional provider); by default deprecated operations
    are violations.
    """

    def __init__(
        self, path: Path | str | None = None, api_base: str = DEFAULT_API_BASE
    ):
        self.path = Path(path) if path else spec_path()
        self.spec = load_spec(self.path)
        self.api_base_path = (
            urlsplit(api_base).path.rstrip("/")
            if "://" in api_base
            else api_base.rstrip("/")
        )
        self._allowed_deprecated: set[str] = set()

    @property
    def enabled(self) -> bool:
        return self.spec is not None

    # -- deprecated operations ---------------------------------------------------------

    def allow_deprecated(self, *operations: str) -> SpecChecker:
        """Allow the named deprecated operations, e.g. ``"GET /audio-features"``."""
        for name in operations:
            method, _, path = name.strip().partition(" ")
            key = f"{method.upper()} {path.strip()}"
            if self.spec is not None:
                found = self.find_operation(method, path.strip())
                if found is None:
                    raise ValueError(f"no operation {key} in the Spotify OpenAPI spec")
                key = found[0].key
            self._allowed_deprecated.add(key)
        return self

    def disallow_deprecated(self, *operations: str) -> None:
        """Undo ``allow_deprecated`` (all of it when no operation is named)."""
        if not operations:
            self._allowed_deprecated.clear()
            return
        for name in operations:
            method, _, path = name.strip().partition(" ")
            found = self.find_operation(method, path.strip()) if self.spec else None
            self._allowed_deprecated.discard(
                found[0].key if found else f"{method.upper()} {path.strip()}"
            )

    # -- lookup --------------------------------------------------------------------

    def relative_path(self, url_or_path: str) -> tuple[str, dict[str, list[str]]]:
        """The path relative to the API base, and any query string found in it."""
        parts = urlsplit(url_or_path)
        path = unquote(parts.path) or "/"
        for base in {self.api_base_path, self.spec.base_path if self.spec else ""}:
            if base and (path == base or path.startswith(base + "/")):
                path = path[len(base) :] or "/"
                break
        if len(path) > 1:
            path = path.rstrip("/")
        return path, parse_qs(parts.query, keep_blank_values=True)

    def find_operation(
        self, method: str, path: str
    ) -> tuple[Operation, dict[str, str]] | None:
        """The operation for ``method`` at an API-relative ``path``, with path parameters."""
        if self.spec is None:
            return None
        for regex, template, names in self.spec.paths:
            match = regex.match(path)
            if match:
                op = self.spec.operation(method, template)
                if op is not None:
                    return op, dict(zip(names, match.groups(), strict=True))
        return None

    def _methods_at(self, path: str) -> list[str]:
        assert self.spec is not None
        methods: list[str] = []
        for regex, template, _names in self.spec.paths:
            if regex.match(path):
                item = self.spec.document["paths"][template]
                methods += [m.upper() for m in _HTTP_METHODS if m in item]
        return sorted(set(methods))

    # -- checks ---------------------------------------------------------------------

    def check(
        self,
        method: str,
        url_or_path: str,
        query: Mapping[str, Any] | None = None,
        body: bytes | str | None = None,
        content_type: str | None = None,
    ) -> list[str]:
        """Violations of the spec by this request (empty when it conforms or checks are off)."""
        if self.spec is None:
            return []
        method = method.upper()
        path, url_query = self.relative_path(url_or_path)
        merged = _normalise_query(url_query)
        for name, values in _normalise_query(query).items():
            merged.setdefault(name, []).extend(values)
        found = self.find_operation(method, path)
        if found is None:
            methods = self._methods_at(path)
            if methods:
                return [
                    f"unknown operation {method} {path} (the spec has {', '.join(methods)} there)"
                ]
            return [f"unknown operation {method} {path}"]
        op, path_params = found
        label = f"{method} {path}"
        problems: list[str] = []
        if op.deprecated and op.key not in self._allowed_deprecated:
            problems.append(f"deprecated operation {op.key} (called as {label})")
        problems += self._check_parameters(op, label, path_params, merged)
        problems += self._check_body(op, label, body, content_type)
        return problems

    def assert_valid(
        self,
        method: str,
        url_or_path: str,
        query: Mapping[str, Any] | None = None,
        body: bytes | str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Raise ``SpecViolation`` listing every violation of this request."""
        problems = self.check(method, url_or_path, query, body, content_type)
        if problems:
            raise SpecViolation("; ".join(problems))

    def _check_parameters(
        self,
        op: Operation,
        label: str,
        path_params: dict[str, str],
        query: dict[str, list[str]],
    ) -> list[str]:
        assert self.spec is not None
        problems: list[str] = []
        declared_query = {
            p["name"]: (p, ptr) for p, ptr in op.parameters if p["in"] == "query"
        }
        for name in query:
            if name not in declared_query:
                known = ", ".join(sorted(declared_query)) or "none"
                problems.append(
                    f"unknown query parameter {name!r} for {label} (declared: {known})"
                )
        for param, schema_ptr in op.parameters:
            where, name = param["in"], param["name"]
            if where == "query":
                if name not in query:
                    if param.get("required"):
                        problems.append(
                            f"missing required query parameter {name!r} for {label}"
                        )
                    continue
                raw = query[name]
            elif where == "path":
                raw = [path_params.get(name, "")]
            else:
                continue  # headers and cookies are not checked
            schema = self.spec.schema_at(schema_ptr)
            is_array = isinstance(schema, dict) and schema.get("type") == "array"
            if is_array:
                explode = param.get("explode", param.get("style", "form") == "form")
                items = (
                    raw
                    if explode and len(raw) > 1
                    else [v for r in raw for v in r.split(",")]
                )
                value: Any = [_coerce(v, schema.get("items", {})) for v in items]
            else:
                if len(raw) > 1:
                    problems.append(
                        f"{where} parameter {name!r} given {len(raw)} times for {label}"
                    )
                    continue
                if raw[0] == "" and where == "query":
                    problems.append(f"empty {where} parameter {name!r} for {label}")
                    continue
                value = _coerce(raw[0], schema)
            for error in self.spec.validator(schema_ptr).iter_errors(value):
                problems.append(
                    f"{where} parameter {name!r}={','.join(raw)!r} invalid for {label}: {_short(error)}"
                )
        return problems

    def _check_body(
        self,
        op: Operation,
        label: str,
        body: bytes | str | None,
        content_type: str | None,
    ) -> list[str]:
        assert self.spec is not None
        if isinstance(body, str):
            body = body.encode("utf-8")
        has_body = bool(body)
        request_body = op.node.get("requestBody")
        if request_body is None:
            return (
                [
                    f"{label} declares no request body, but one was sent ({len(body or b'')} bytes)"
                ]
                if has_body
                else []
            )
        request_body, rb_ptr = self.spec.deref(
            request_body, f"{op.pointer}/requestBody"
        )
        if not has_body:
            return (
                [f"missing required request body for {label}"]
                if request_body.get("required")
                else []
            )
        declared = request_body.get("content", {})
        media = (content_type or "").split(";")[0].strip().lower()
        if not media:
            media = "application/json" if "application/json" in declared else ""
        if media not in declared:
            return [
                f"content type {media or '(none)'!r} not declared for {label} (declared: {', '.join(declared)})"
            ]
        schema_ptr = f"{rb_ptr}/content/{_escape(media)}/schema"
        if media == "application/json" or media.endswith("+json"):
            try:
                document = json.loads(body)
            except ValueError as exc:
                return [f"request body of {label} is not valid JSON: {exc}"]
            problems = [
                f"request body invalid for {label}: {_short(e)}"
                for e in self.spec.validator(schema_ptr).iter_errors(document)
            ]
            limit = _DOCUMENTED_ITEM_LIMITS.get(op.key)
            uris = document.get("uris") if isinstance(document, dict) else None
            if limit and isinstance(uris, list) and len(uris) > limit:
                problems.append(
                    f"request body of {label} has {len(uris)} uris (documented maximum {limit})"
                )
            return problems
        schema = declared[media].get("schema") or {}
        if schema.get("format") == "base64":
            try:
                base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                return [f"request body of {label} is not base64 ({media})"]
        return []


def query_from_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Group (name, value) pairs into the ``dict[str, list[str]]`` that ``check`` takes."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out
