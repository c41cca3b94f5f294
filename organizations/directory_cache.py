"""The public directory's reads, built once per process for each version of the directory.

The directory API (/api/v1/projects/, /api/v1/hsds/), the eligibility API and the public
pre-check give every visitor the same answer until the directory changes, yet each request
rebuilt every project's engine rules and described them in words (issue 18: 18.5 ms of
the 24 projects' list). Here a request reads one row set, the category names, that also
carries the directory's version: a fingerprint of the members', projects' and categories'
rows, and the newest id and count of rule versions (a rule change is
always a new version: organizations.services.rules_publish). What was built for the same
version and language is reused; a new version empties the cache. The version is also the
responses' ETag, so a client that has the current answer gets 304 after that one query.

Per process, not in Django's cache: the built answers are small, and the shared cache is
the database's (settings.CACHES), which would cost a query of its own.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import translation

from organizations.eligibility import ProjectRules, bilingual
from organizations.models import AidProject, DiseaseCategory, MemberOrganization, RuleSet

MAX_ENTRIES = 512  # query strings of one version (filters, pages) before starting afresh

_lock = threading.Lock()
_built: dict[tuple, object] = {}
_built_version = ""


@dataclass(frozen=True)
class DirectoryState:
    version: str  # "" when there are no categories to carry it: nothing is cached then
    labels: dict[str, str]  # category code -> a lazy name in the reader's language


def _whole_table(function: str, model, field: str) -> RawSQL:
    """One figure of a whole (small) table, e.g. MAX(updated_at): a subquery that does not
    depend on the outer row, so the database computes it once."""
    quote = connection.ops.quote_name
    column = quote(model._meta.get_field(field).column)
    table = quote(model._meta.db_table)
    return RawSQL(f"SELECT {function}({column}) FROM {table}", [])  # noqa: S608, S611 - our names


def _fingerprint(model) -> RawSQL:
    """Every row's id and change time of a (small) table, in id order, as one text (its MD5
    on PostgreSQL): any row saved, added or removed changes it."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk, changed = (quote(model._meta.get_field(name).column) for name in ("id", "updated_at"))
    if connection.vendor == "postgresql":
        rows = f"string_agg({pk}::text || ':' || {changed}::text, ',' ORDER BY {pk})"
        return RawSQL(f"SELECT md5({rows}) FROM {table}", [])  # noqa: S608, S611 - our names
    ordered = f"SELECT {pk} AS i, {changed} AS c FROM {table} ORDER BY {pk}"  # noqa: S608
    return RawSQL(f"SELECT group_concat(i || ':' || c, ',') FROM ({ordered})", [])  # noqa: S608, S611


def directory_state() -> DirectoryState:
    """The category names and the directory's version, in one query."""
    figures = {
        "v_members": _fingerprint(MemberOrganization),
        "v_projects": _fingerprint(AidProject),
        "v_categories": _fingerprint(DiseaseCategory),
        "v_rules": _whole_table("MAX", RuleSet, "id"),
        "v_rule_count": _whole_table("COUNT", RuleSet, "id"),
    }
    rows = list(
        DiseaseCategory.objects.annotate(**figures)
        .order_by()
        .values_list("code", "name_zh", "name_en", *figures)
    )
    labels = {code: bilingual(zh, en) for code, zh, en, *_figures in rows}
    version = "|".join(str(value) for value in (*rows[0][3:], len(rows))) if rows else ""
    return DirectoryState(version=version, labels=labels)


def state_of(request) -> DirectoryState:
    """The directory's state, read once per request (the ETag and the view both need it)."""
    state = getattr(request, "_directory_state", None)
    if state is None:
        state = request._directory_state = directory_state()
    return state


def cached[T](state: DirectoryState, key: tuple, build: Callable[[], T]) -> T:
    """What `build` returns for this version of the directory and the active language."""
    global _built_version
    if not state.version:
        return build()
    key = (*key, translation.get_language())
    with _lock:
        if _built_version != state.version:
            _built.clear()
            _built_version = state.version
        if key in _built:
            return _built[key]  # type: ignore[return-value]
    value = build()
    with _lock:
        if _built_version == state.version:
            if len(_built) >= MAX_ENTRIES:
                _built.clear()
            _built[key] = value
    return value


def etag(request, *args, **kwargs) -> str | None:
    """For django.views.decorators.http.condition: the version, the language and the URL."""
    state = state_of(request)
    if not state.version:
        return None
    text = f"{state.version}\n{translation.get_language()}\n{request.get_full_path()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def open_projects_rules(state: DirectoryState) -> list[ProjectRules]:
    """The engine rules of the open projects (organizations.selectors), once per version."""
    from organizations import selectors

    return cached(state, ("open_projects_rules",), selectors.open_projects_rules)


__all__ = ["DirectoryState", "cached", "directory_state", "etag", "open_projects_rules"]
