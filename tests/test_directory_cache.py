"""The public directory built once per version of the directory (organizations.directory_cache):
HTTP validators on the directory API, and a rule change seen by the very next request."""

from decimal import Decimal

import pytest
from django.conf import settings

from organizations import directory_cache, services
from organizations.models import AidProject, MemberOrganization
from tests.test_api_cases import THROTTLE_QUERIES

pytestmark = pytest.mark.django_db

DIRECTORY_URLS = ["/api/v1/projects/", "/api/v1/projects/P02/", "/api/v1/hsds/"]


@pytest.mark.parametrize("url", [*DIRECTORY_URLS, "/api/v1/organizations/"])
def test_a_repeat_request_with_the_etag_gets_304(client, directory, url):
    first = client.get(url)
    assert first.status_code == 200 and first["ETag"]
    again = client.get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    assert not again.content


@pytest.mark.parametrize("url", DIRECTORY_URLS)
def test_a_304_costs_only_the_directory_version(client, directory, url, django_assert_num_queries):
    etag = client.get(url)["ETag"]
    with django_assert_num_queries(1 + THROTTLE_QUERIES):
        assert client.get(url, headers={"if-none-match": etag}).status_code == 304


def test_a_repeat_without_the_etag_is_served_from_the_built_answer(
    client, directory, django_assert_num_queries
):
    first = client.get("/api/v1/projects/").json()
    with django_assert_num_queries(1 + THROTTLE_QUERIES):
        assert client.get("/api/v1/projects/").json() == first


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
