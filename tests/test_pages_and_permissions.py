"""Every page, by who may see it and who is refused (standard.md §5)."""

import pytest

from organizations.models import RuleSet, User

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["/", "/directory/", "/directory/P01/", "/eligibility/", "/accounts/login/"]


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_open_without_an_account(client, directory, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"


def test_unknown_project_is_404(client, directory):
    assert client.get("/directory/P99/").status_code == 404


def test_directory_says_its_rules_are_demo_values(client, directory):
    html = client.get("/directory/").content.decode()
    assert "notice" in html and "小天使基金" in html
    assert html.count('class="project"') == 24


def test_directory_page_query_count_is_constant(client, directory, django_assert_num_queries):
    # members, their projects with current rules (prefetch), category names
    with django_assert_num_queries(3):
        assert client.get("/directory/").status_code == 200


def test_member_workspace_needs_a_login(client, people):
    response = client.get("/members/crcf/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("username", ["alice", "bob", "sam", "root"])
def test_member_workspace_is_open_to_its_staff_and_the_secretariat(client, people, username):
    client.force_login(people[username])
    response = client.get("/members/crcf/")
    assert response.status_code == 200
    assert "alice" in response.content.decode()


@pytest.mark.parametrize("username", ["carol", "dave"])
def test_staff_of_another_member_get_404_for_a_workspace(client, people, username):
    client.force_login(people[username])
    assert client.get("/members/crcf/").status_code == 404


def test_a_user_without_a_role_gets_403_for_a_workspace(client, people):
    nobody = User.objects.create_user("nobody", password="pw")
    client.force_login(nobody)
    assert client.get("/members/crcf/").status_code == 403


def test_member_workspace_query_count(client, people, django_assert_num_queries):
    client.force_login(people["alice"])
    # session, user with its member (organizations.auth_backends), the page's member,
    # staff, projects
    with django_assert_num_queries(5):
        assert client.get("/members/crcf/").status_code == 200


@pytest.mark.parametrize("username", ["alice", "bob", "carol"])
def test_member_staff_are_refused_by_the_admin(client, people, username):
    client.force_login(people[username])
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert client.get("/admin/organizations/aidproject/").status_code == 302


def test_anonymous_is_refused_by_the_admin(client, directory):
    assert client.get("/admin/organizations/ruleset/").status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/organizations/memberorganization/",
        "/admin/organizations/diseasecategory/",
        "/admin/organizations/aidproject/",
        "/admin/organizations/ruleset/",
        "/admin/organizations/user/",
    ],
)
def test_secretariat_edits_the_directory_and_reads_users_in_the_admin(client, people, url):
    client.force_login(people["sam"])
    assert client.get(url).status_code == 200


def test_secretariat_cannot_delete_or_see_administrators(client, people):
    client.force_login(people["sam"])
    member = people["alice"].organization
    response = client.get(f"/admin/organizations/memberorganization/{member.pk}/delete/")
    assert response.status_code == 403
    users = client.get("/admin/organizations/user/").content.decode()
    assert "alice" in users and ">root<" not in users
    assert client.get(f"/admin/organizations/user/{people['root'].pk}/change/").status_code == 302


def current_rules_form(client, code):
    """The admin change URL of a project's current rules and the form's values as shown."""
    current = RuleSet.objects.get(project__code=code, project__current_rules__isnull=False)
    url = f"/admin/organizations/ruleset/{current.pk}/change/"
    form = client.get(url).context["adminform"].form
    return url, {name: form[name].value() for name in form.fields if form[name].value() is not None}


def test_saving_rules_in_the_admin_publishes_a_new_version(client, people):
    client.force_login(people["sam"])
    url, data = current_rules_form(client, "P15")
    data.update({"grant_amount": "12000", "change_note": "raised to 12,000"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    versions = RuleSet.objects.filter(project__code="P15").order_by("version")
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].grant_amount == 10000  # the old version stays as it was
    assert versions[1].grant_amount == 12000 and versions[1].created_by == people["sam"]
    assert versions[1].project.current_rules == versions[1]


def test_bad_rules_in_the_admin_get_a_message_at_the_field(client, people):
    client.force_login(people["sam"])
    url, data = current_rules_form(client, "P02")
    data["tiers"] = "[[5000, 10000, 5000], [8000, 15000, 10000]]"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "tiers" in response.context["adminform"].form.errors
    assert RuleSet.objects.filter(project__code="P02").count() == 1


def test_region_options_list_the_cities_of_a_province(client, directory):
    html = client.get(
        "/regions/options/?prefix=household&level=prefecture&household_province=53"
    ).content.decode()
    assert "昆明市" in html and 'value="5301"' in html
    html = client.get(
        "/regions/options/?prefix=household&level=county&household_prefecture=5301"
    ).content.decode()
    assert "五华区" in html and 'value="530102"' in html


def test_region_options_refuse_an_unknown_form(client, directory):
    assert client.get("/regions/options/?prefix=evil&level=county").status_code == 400


def test_language_switch_turns_the_page_english(client, directory):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/directory/"})
    assert response.status_code == 302
    page = client.get("/directory/")
    assert page["Content-Language"] == "en"
    assert "Little Angel Fund" in page.content.decode()


def test_browser_accept_language_does_not_override_chinese_first(client, directory):
    page = client.get("/directory/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page["Content-Language"] == "zh-hans"


def test_pages_send_a_content_security_policy(client, directory):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "object-src 'none'" in policy


def test_home_page_query_count(client, directory, django_assert_num_queries):
    # member and project counts, category count
    with django_assert_num_queries(2):
        assert client.get("/").status_code == 200


def test_precheck_query_counts(client, directory, django_assert_num_queries):
    with django_assert_num_queries(1):  # the illness choices
        assert client.get("/eligibility/").status_code == 200
    answers = {
        "dob": "2018-03-10",
        "category": "LEUK",
        "household_province": "11",
        "household_prefecture": "110105",
        "registration": "urban",
        "hospital_province": "11",
        "flags": ["dibao"],
        "household_size": "4",
        "household_income": "30000",
        "estimated_cost": "200000",
        "coverage": "90000",
        "other_aid": "0",
        "plan_chemotherapy": "in_progress",
    }
    # validate the category, open projects with rules, category names, projects for the
    # results, the illness choices again for the form
    with django_assert_num_queries(5):
        response = client.post("/eligibility/", answers)
    assert response.status_code == 200
    html = response.content.decode()
    assert "P01" in html and "30,000" in html


def test_precheck_keeps_what_was_typed_and_explains_errors_in_chinese(client, directory):
    response = client.post(
        "/eligibility/", {"dob": "2018-02-30", "household_size": "0", "icd": "Q21.0"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "dob" in form.errors and "household_size" in form.errors
    html = response.content.decode()
    assert 'value="Q21.0"' in html  # the typed value comes back
    assert "有效的日期" in html or "日期" in str(form.errors["dob"])
