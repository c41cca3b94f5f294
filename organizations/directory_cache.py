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

With Redis (settings.DIRECTORY_GENERATION), the directory API's reads (`state_of`) take
the version from a generation in Django's cache instead of the fingerprint query: every
save or delete of a member, project, category or rule version sets a new generation, at
once and again when the change commits (`directory_changed`, as organizations.auth_backends
does for the users). A request reads the generation before the database, so what it builds
is never older than the generation it is kept under: a change counts from the next request
after its commit, whatever the order of the commits (the review of MAX(updated_at) found a
change saved early and committed late missed; a generation has no such order,
tests/test_directory_cache.py). The version also names the clock's step of
MAX_AGE_SECONDS, so what a generation missed (a change made in SQL, or a process that died
between a commit and its new generation) is rebuilt, and answered 304, for at most that
long. Routing and the pre-check (`directory_state`) keep the fingerprint:
read inside the submission's transaction, they see a rule the moment it commits.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import translation

from aid_alliance import generations, replayed_pages
from organizations.eligibility import ProjectRules, bilingual
from organizations.models import AidProject, DiseaseCategory, MemberOrganization, RuleSet

MAX_ENTRIES = 512  # query strings of one version (filters, pages) before starting afresh
MAX_AGE_SECONDS = 15 * 60  # a generation's version changes at least this often
GENERATION_KEY = "directory-generation"
GENERATION_PREFIX = "generation:"  # a fingerprint's version is hex digits and "|"


class _Store:
    """What was built for one version at a time, in this process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.built: dict[tuple, object] = {}
        self.version = ""

    def get[T](self, version: str, key: tuple, build: Callable[[], T]) -> T:
        with self.lock:
            if self.version != version:
                self.built.clear()
                self.version = version
            if key in self.built:
                return self.built[key]  # type: ignore[return-value]
        with replayed_pages.not_recorded():  # the version stands for what it reads
            value = build()
        with self.lock:
            if self.version == version:
                if len(self.built) >= MAX_ENTRIES:
                    self.built.clear()
                self.built[key] = value
        return value


_by_fingerprint = _Store()
_by_generation = _Store()


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


def keys_with_the_session(_user_id) -> list[str]:
    """Read with the session (aid_alliance.session_store): most pages compare it."""
    return [GENERATION_KEY] if settings.DIRECTORY_GENERATION else []


def generation() -> str:
    """The directory's current generation in Django's cache, made when missing."""
    return generations.current(GENERATION_KEY)[0]


def _age_bucket() -> int:
    """The wall clock in steps of MAX_AGE_SECONDS: the same in every process."""
    return int(time.time() // MAX_AGE_SECONDS)


def generation_state() -> DirectoryState:
    """The state under the current generation: no query once this process has its labels.
    The generation is read first, so labels read after a change are never kept as older.
    The version also names the clock's step, so that what a missed generation left (see
    the module's note) is rebuilt, and its ETag no longer answers 304, within
    MAX_AGE_SECONDS: one ETag never names two bodies for longer (the review of issue 18)."""
    version = f"{GENERATION_PREFIX}{generation()}:{_age_bucket()}"
    return DirectoryState(
        version=version, labels=_by_generation.get(version, ("labels",), _category_labels)
    )


def _category_labels() -> dict[str, str]:
    from organizations import selectors

    return selectors.category_labels()


def directory_changed(sender=None, **kwargs) -> None:
    """post_save/post_delete of a member, project, category or rule version (and
    organizations.services after an update()): a new generation now, and again when the
    change commits (a request that read the old rows before the commit is not kept)."""
    if settings.DIRECTORY_GENERATION:
        generations.renew_now_and_at_commit(GENERATION_KEY)


def state_of(request=None) -> DirectoryState:
    """The directory's state for the directory API, read once per request (the ETag and the
    view both need it): the generation's with Redis, else the fingerprint's. Without a
    request (a script, a test), read afresh."""
    state = getattr(request, "_directory_state", None)
    if state is None:
        read = generation_state if settings.DIRECTORY_GENERATION else directory_state
        state = read()
        if request is not None:
            request._directory_state = state
    return state


def cached[T](state: DirectoryState, key: tuple, build: Callable[[], T]) -> T:
    """What `build` returns for this version of the directory and the active language."""
    if not state.version:
        return build()
    key = (*key, translation.get_language())
    store = _by_generation if state.version.startswith(GENERATION_PREFIX) else _by_fingerprint
    return store.get(state.version, key, build)


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


__all__ = [
    "DirectoryState",
    "cached",
    "directory_changed",
    "directory_state",
    "etag",
    "generation_state",
    "open_projects_rules",
    "state_of",
]
