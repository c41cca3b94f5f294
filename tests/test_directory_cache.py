"""The public directory built once per version of the directory (organizations.directory_cache):
HTTP validators on the directory API, and a change seen by the very next request.

Every test runs twice: with the version from the fingerprint query (no Redis), and from the
generation in Django's cache (settings.DIRECTORY_GENERATION, on with Redis; here the
process's own cache stands in for it, as the throttle's counters then do too)."""

import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction
from rest_framework.pagination import PageNumberPagination

from organizations import directory_cache, services
from organizations.models import AidProject, DiseaseCategory, MemberOrganization
from tests.test_api_cases import THROTTLE_QUERIES

pytestmark = pytest.mark.django_db

DIRECTORY_URLS = ["/api/v1/projects/", "/api/v1/projects/P02/", "/api/v1/hsds/"]


@pytest.fixture(autouse=True, params=["fingerprint", "generation"])
def version_source(request, settings):
    """The directory's version read from the fingerprint query, or from the generation."""
    if request.param == "generation":
        from django.core.cache import cache

        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "test-directory-generation",
            }
        }
        settings.DIRECTORY_GENERATION = True
        yield request.param
        cache.clear()
    else:
        settings.DIRECTORY_GENERATION = False
        yield request.param


@pytest.fixture
def version_queries(version_source):
    """The queries of a request answered from what was built: the fingerprint and the
    throttle's counter in the database cache, or none at all."""
    return 1 + THROTTLE_QUERIES if version_source == "fingerprint" else 0


@pytest.mark.parametrize("url", [*DIRECTORY_URLS, "/api/v1/organizations/"])
def test_a_repeat_request_with_the_etag_gets_304(client, directory, url):
    first = client.get(url)
    assert first.status_code == 200 and first["ETag"]
    again = client.get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    assert not again.content


@pytest.mark.parametrize("url", DIRECTORY_URLS)
def test_a_304_costs_only_the_directory_version(
    client, directory, url, django_assert_num_queries, version_queries
):
    etag = client.get(url)["ETag"]
    with django_assert_num_queries(version_queries):
        assert client.get(url, headers={"if-none-match": etag}).status_code == 304


@pytest.mark.parametrize("url", DIRECTORY_URLS)
def test_a_repeat_without_the_etag_is_served_from_the_built_answer(
    client, directory, url, django_assert_num_queries, version_queries
):
    first = client.get(url)
    assert first["Content-Type"] == "application/json"
    with django_assert_num_queries(version_queries):
        again = client.get(url)
    assert again.status_code == 200
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert again["Content-Type"] == "application/json"


def publish_p02_cap(cap: int):
    rules = AidProject.objects.get(code="P02").current_rules
    rules.per_capita_max = Decimal(cap)
    return services.rules_publish(rules=rules, by=None, note="new cap")


def test_a_rule_published_through_the_service_is_seen_by_the_next_request(client, directory):
    first = client.get("/api/v1/projects/P02/")
    assert first.json()["rules_version"] == 1
    listed = client.get("/api/v1/projects/").json()
    publish_p02_cap(44_444)
    second = client.get("/api/v1/projects/P02/", headers={"if-none-match": first["ETag"]})
    assert second.status_code == 200 and second["ETag"] != first["ETag"]
    assert second.json()["rules_version"] == 2
    assert "44,444" in " ".join(row["text"] for row in second.json()["rules"])
    assert client.get("/api/v1/projects/").json() != listed
    assert "44,444" in str(client.get("/api/v1/hsds/").json())


def test_the_pre_check_rules_follow_a_published_rule(directory):
    def cap_of_p02():
        state = directory_cache.directory_state()
        rules = directory_cache.open_projects_rules(state)
        return next(r for r in rules if r.code == "P02").per_capita_max

    before = cap_of_p02()
    publish_p02_cap(44_444)
    assert cap_of_p02() == Decimal(44_444) != before


def test_a_member_renamed_in_the_admin_is_seen_by_the_next_request(client, directory):
    etag = client.get("/api/v1/hsds/")["ETag"]
    member = MemberOrganization.objects.get(short_name="crcf")
    member.name_zh = "改名后的基金会"
    member.save()
    response = client.get("/api/v1/hsds/", headers={"if-none-match": etag})
    assert response.status_code == 200
    assert "改名后的基金会" in str(response.json())


def test_each_language_gets_its_own_answer(client, directory):
    chinese = client.get("/api/v1/projects/P02/").json()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/api/v1/projects/P02/").json()
    assert chinese["rules"] != english["rules"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert client.get("/api/v1/projects/P02/").json() == chinese


def test_without_a_version_nothing_is_kept():
    state = directory_cache.DirectoryState(version="", labels={})
    calls = []
    directory_cache.cached(state, ("x",), lambda: calls.append(1))
    directory_cache.cached(state, ("x",), lambda: calls.append(1))
    assert calls == [1, 1]


def test_a_category_renamed_is_seen_by_the_next_request(client, directory):
    first = client.get("/api/v1/projects/P02/").json()
    category = DiseaseCategory.objects.get(code=first["categories"][0])
    category.name_zh = "改名后的病种"
    category.save()
    assert "改名后的病种" in str(client.get("/api/v1/projects/P02/").json()["rules"])


def test_a_project_closed_is_seen_by_the_next_request(client, directory):
    assert client.get("/api/v1/projects/P02/").json()["is_open"] is True
    project = AidProject.objects.get(code="P02")
    project.is_open = False
    project.save()
    assert client.get("/api/v1/projects/P02/").json()["is_open"] is False


def test_a_refused_request_is_not_kept(client, directory):
    assert client.get("/api/v1/projects/P99/").status_code == 404
    assert client.get("/api/v1/projects/P99/").status_code == 404
    bad = client.get("/api/v1/projects/?kind=nonsense")
    assert bad.status_code == 400 and "kind" in bad.json()
    assert client.get("/api/v1/projects/?kind=nonsense").status_code == 400


def test_each_media_type_gets_its_own_body(client, directory):
    compact = client.get("/api/v1/projects/P02/")
    indented = client.get("/api/v1/projects/P02/", headers={"accept": "application/json; indent=2"})
    assert indented.content.startswith(b'{\n  "code"')
    assert not compact.content.startswith(b"{\n")
    assert client.get("/api/v1/projects/P02/").content == compact.content
    assert client.get("/api/v1/projects/", headers={"accept": "text/html"}).status_code == 406


def test_each_host_gets_its_own_page_links(client, directory, settings, monkeypatch):
    """The pagination's links are absolute: a body built for one host is not another's."""
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    monkeypatch.setattr(PageNumberPagination, "page_size", 5)
    one = client.get("/api/v1/projects/", headers={"host": "one.example"}).json()
    two = client.get("/api/v1/projects/", headers={"host": "two.example"}).json()
    assert one["next"] == "http://one.example/api/v1/projects/?page=2"
    assert two["next"] == "http://two.example/api/v1/projects/?page=2"


def test_a_signed_in_caller_gets_the_same_public_answer(client, directory, people):
    anonymous = client.get("/api/v1/projects/").content
    client.force_login(people["alice"])
    assert client.get("/api/v1/projects/").content == anonymous


@pytest.mark.django_db(transaction=True)
def test_a_change_read_before_its_commit_is_not_kept(
    client, directory, version_source, monkeypatch
):
    """A request on another connection that reads the old rows after the save's new
    generation but before the commit keeps the old answer under that generation: the
    commit sets another one, so the next request builds afresh."""
    if version_source != "generation":
        pytest.skip("the fingerprint of uncommitted rows is not another connection's")
    from organizations import api

    old = api.directory_hsds(labels=directory_cache.generation_state().labels)
    with transaction.atomic():
        member = MemberOrganization.objects.get(short_name="crcf")
        member.name_zh = "提交前读到的旧名"
        member.save()
        with monkeypatch.context() as patched:  # the other connection still reads the old rows
            patched.setattr(api, "directory_hsds", lambda labels: old)
            assert "提交前读到的旧名" not in client.get("/api/v1/hsds/").content.decode()
    assert "提交前读到的旧名" in client.get("/api/v1/hsds/").content.decode()


def test_a_generation_is_dropped_after_its_age(client, directory, version_source, monkeypatch):
    """A change made in SQL (no signal) counts after MAX_AGE_SECONDS at the latest, for the
    body and for its ETag: a client holding the old ETag gets the new body, not 304."""
    if version_source != "generation":
        pytest.skip("the fingerprint reads the rows on every request")
    step = directory_cache._age_bucket()
    monkeypatch.setattr(directory_cache, "_age_bucket", lambda: step)
    first = client.get("/api/v1/projects/P02/")
    AidProject.objects.filter(code="P02").update(name_en="Renamed in SQL")
    assert client.get("/api/v1/projects/P02/").json()["name_en"] != "Renamed in SQL"
    held = {"if-none-match": first["ETag"]}
    assert client.get("/api/v1/projects/P02/", headers=held).status_code == 304
    monkeypatch.setattr(directory_cache, "_age_bucket", lambda: step + 1)  # 15 minutes on
    later = client.get("/api/v1/projects/P02/", headers=held)
    assert later.status_code == 200
    assert later.json()["name_en"] == "Renamed in SQL"
    assert later["ETag"] != first["ETag"]


@pytest.mark.django_db(transaction=True)
def test_a_change_saved_first_and_committed_last_is_seen_after_its_commit(
    client, directory, version_source
):
    """The case MAX(updated_at) missed: A saves, B saves and commits, a request reads B's
    change, then A commits; the next request shows A's change too (PostgreSQL, two
    connections)."""
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once need PostgreSQL")
    saved, commit = threading.Event(), threading.Event()

    def writer_a():
        try:
            with transaction.atomic():
                member = MemberOrganization.objects.get(short_name="crcf")
                member.name_zh = "先保存后提交"
                member.save()
                saved.set()
                commit.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=writer_a)
    thread.start()
    assert saved.wait(10)
    try:
        assert "先保存后提交" not in client.get("/api/v1/hsds/").content.decode()
        project = AidProject.objects.get(code="P02")
        project.name_zh = "后保存先提交"
        project.save()
        body = client.get("/api/v1/hsds/").content.decode()
        assert "后保存先提交" in body and "先保存后提交" not in body
    finally:
        commit.set()
        thread.join(10)
    body = client.get("/api/v1/hsds/").content.decode()
    assert "先保存后提交" in body and "后保存先提交" in body


def test_made_up_query_strings_do_not_each_keep_a_copy_of_the_hsds_body(
    client, directory, monkeypatch, version_source
):
    """The HSDS body reads neither the query nor the host: one copy per version, language
    and media type, whatever query strings are sent (each used to keep its own, up to 512,
    and the 512th emptied what the projects' pages had built)."""
    from aid_alliance.throttling import ClientRateThrottle

    monkeypatch.setattr(ClientRateThrottle, "allow_request", lambda *args: True)
    body = client.get("/api/v1/hsds/").content
    for n in range(20):
        assert client.get(f"/api/v1/hsds/?junk={n}").content == body
    store = {
        "fingerprint": directory_cache._by_fingerprint,
        "generation": directory_cache._by_generation,
    }[version_source]
    assert [key for key in store.built if key[0] == "hsds"] == [
        ("hsds", "", "application/json", "zh-hans")
    ]
