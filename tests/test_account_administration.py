"""Staff accounts are created and changed by administrators only (standard.md §5: the
secretariat "reads all ... no creating or changing staff accounts"); each change is an
account event that the member's reviewers read on the member's page."""

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied

from organizations import services
from organizations.models import AccountEvent, User

pytestmark = pytest.mark.django_db

USERS = "/admin/organizations/user/"
STRONG = "草原上的风-2026-long"
NEW_CASEWORKER = {
    "username": "mallory",
    "password1": STRONG,
    "password2": STRONG,
    "role": User.Role.CASEWORKER,
}


def change_form(client, user):
    """The admin change URL of a user and the form's values as shown."""
    url = f"{USERS}{user.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if name != "password"}
    return url, {name: value for name, value in data.items() if value not in (None, False)}


def events(**filters):
    return AccountEvent.objects.exclude(kind=AccountEvent.Kind.CREATED, by=None).filter(**filters)


def test_the_secretariat_cannot_create_a_caseworker_in_the_admin(client, people):
    client.force_login(people["sam"])
    data = {**NEW_CASEWORKER, "organization": people["alice"].organization_id}
    assert client.post(f"{USERS}add/", data).status_code == 403
    assert client.get(f"{USERS}add/").status_code == 403
    assert not User.objects.filter(username="mallory").exists()
    assert not events().exists()


@pytest.mark.parametrize(
    "change",
    [
        {"role": User.Role.REVIEWER},
        {"organization": "member 2"},
        {"is_active": ""},  # an unticked box is absent from the POST
        {"is_superuser": "on"},
        {"username": "alice2"},
    ],
)
def test_the_secretariat_reads_a_user_but_cannot_change_it(client, people, change):
    alice, carol = people["alice"], people["carol"]
    root_client = client.__class__()
    root_client.force_login(people["root"])
    url, data = change_form(root_client, alice)
    client.force_login(people["sam"])
    page = client.get(url)
    assert page.status_code == 200 and "alice" in page.text
    assert 'name="_save"' not in page.text  # the view-only page offers no save
    if change.get("organization"):
        change = {"organization": carol.organization_id}
    data.update(change)
    data = {k: v for k, v in data.items() if v != ""}
    assert client.post(url, data).status_code == 403
    alice.refresh_from_db()
    assert (alice.username, alice.role, alice.organization_id, alice.is_active) == (
        "alice",
        User.Role.CASEWORKER,
        people["bob"].organization_id,
        True,
    )
    assert not alice.is_superuser and not events().exists()


def test_the_secretariat_cannot_set_a_password(client, people):
    client.force_login(people["sam"])
    url = f"{USERS}{people['alice'].pk}/password/"
    assert client.get(url).status_code == 403
    response = client.post(
        url, {"usable_password": "true", "password1": STRONG, "password2": STRONG}
    )
    assert response.status_code == 403
    assert authenticate(username="alice", password="pw") is not None
    assert not events().exists()


@pytest.mark.parametrize("action", ["deactivate", "activate", "reset_second_factor"])
def test_the_secretariat_is_offered_no_user_action_and_a_posted_one_does_nothing(
    client, people, action
):
    services.user_set_active(user=people["carol"], is_active=False, by=people["root"])
    client.force_login(people["sam"])
    users = client.get(USERS)
    assert users.status_code == 200 and "alice" in users.text
    assert f'value="{action}"' not in users.text
    selected = [people["alice"].pk, people["carol"].pk]
    client.post(USERS, {"action": action, "_selected_action": selected})
    assert User.objects.get(pk=people["alice"].pk).is_active
    assert not User.objects.get(pk=people["carol"].pk).is_active
    assert not events(by=people["sam"]).exists()


def _every_account_service(user, member, by):
    return [
        lambda: services.user_create(
            by=by, username="mallory", password=STRONG, role="caseworker", organization=member
        ),
        lambda: services.user_assign(user=user, role="reviewer", organization=member, by=by),
        lambda: services.user_set_active(user=user, is_active=False, by=by),
        lambda: services.user_set_password(user=user, password=STRONG, by=by),
        lambda: services.user_set_administrator(user=user, is_superuser=True, by=by),
        lambda: services.user_change_details(user=user, by=by, username="alice2"),
    ]


@pytest.mark.parametrize("actor", ["sam", "bob", "alice"])
def test_the_account_services_refuse_anyone_but_an_administrator(people, actor):
    alice = people["alice"]
    for call in _every_account_service(alice, alice.organization, people[actor]):
        with pytest.raises(PermissionDenied):
            call()
    alice.refresh_from_db()
    assert (alice.username, alice.role, alice.is_active, alice.is_superuser) == (
        "alice",
        User.Role.CASEWORKER,
        True,
        False,
    )
    assert authenticate(username="alice", password="pw") is not None
    assert not User.objects.filter(username="mallory").exists()
    assert not events().exists()


def test_a_deactivated_administrator_is_refused_too(people):
    root = services.user_set_active(user=people["root"], is_active=False, by=None)
    with pytest.raises(PermissionDenied):
        services.user_set_active(user=people["alice"], is_active=False, by=root)


def test_an_administrator_creates_a_caseworker_in_the_admin_and_it_is_recorded(client, people):
    client.force_login(people["root"])
    member = people["alice"].organization
    response = client.post(f"{USERS}add/", {**NEW_CASEWORKER, "organization": member.pk})
    assert response.status_code == 302, response.context["adminform"].form.errors
    mallory = User.objects.get(username="mallory")
    assert (mallory.role, mallory.organization, mallory.is_staff) == ("caseworker", member, False)
    assert authenticate(username="mallory", password=STRONG) == mallory
    event = AccountEvent.objects.get(user=mallory)
    assert (event.kind, event.by, event.role_before, event.role_after) == (
        AccountEvent.Kind.CREATED,
        people["root"],
        "",
        User.Role.CASEWORKER,
    )
    assert (event.organization_before, event.organization_after) == (None, member)


def test_an_administrator_changes_role_member_and_activity_each_recorded(client, people):
    alice, root = people["alice"], people["root"]
    m1, m2 = alice.organization, people["carol"].organization
    client.force_login(root)
    url, data = change_form(client, alice)
    data.update({"role": User.Role.REVIEWER, "organization": m2.pk, "first_name": "Alice"})
    del data["is_active"]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    alice.refresh_from_db()
    assert (alice.role, alice.organization, alice.is_active) == ("reviewer", m2, False)
    assert alice.first_name == "Alice" and not alice.is_staff
    kinds = {e.kind: e for e in events(user=alice)}
    assert set(kinds) == {
        AccountEvent.Kind.DETAILS_CHANGED,
        AccountEvent.Kind.ROLE_CHANGED,
        AccountEvent.Kind.DEACTIVATED,
    }
    assert all(e.by == root for e in kinds.values())
    role = kinds[AccountEvent.Kind.ROLE_CHANGED]
    assert (role.role_before, role.role_after) == (User.Role.CASEWORKER, User.Role.REVIEWER)
    assert (role.organization_before, role.organization_after) == (m1, m2)


def test_an_administrators_save_without_changes_records_nothing(client, people):
    client.force_login(people["root"])
    url, data = change_form(client, people["alice"])
    assert client.post(url, data).status_code == 302
    assert not events(user=people["alice"]).exists()


def test_making_someone_an_administrator_is_recorded_and_opens_the_admin(client, people):
    client.force_login(people["root"])
    sam = people["sam"]
    url, data = change_form(client, sam)
    data.update({"role": "", "is_superuser": "on"})
    assert client.post(url, data).status_code == 302
    sam.refresh_from_db()
    assert sam.is_superuser and sam.is_staff and sam.role == ""
    assert events(user=sam, kind=AccountEvent.Kind.ADMINISTRATOR_GRANTED, by=people["root"])


def test_an_administrator_sets_a_password_and_it_is_recorded(client, people):
    client.force_login(people["root"])
    url = f"{USERS}{people['alice'].pk}/password/"
    response = client.post(
        url, {"usable_password": "true", "password1": STRONG, "password2": STRONG}
    )
    assert response.status_code == 302
    assert authenticate(username="alice", password=STRONG) == people["alice"]
    event = events(user=people["alice"]).get()
    assert (event.kind, event.by) == (AccountEvent.Kind.PASSWORD_SET, people["root"])


def test_a_weak_password_is_refused_at_the_field_in_chinese(client, people):
    client.force_login(people["root"])
    url = f"{USERS}{people['alice'].pk}/password/"
    response = client.post(url, {"usable_password": "true", "password1": "123", "password2": "123"})
    assert response.status_code == 200
    errors = response.context["form"].errors["password2"]
    assert errors and all("密码" in message for message in errors)
    assert authenticate(username="alice", password="pw") is not None
    assert not events().exists()


def test_an_administrator_deactivates_in_bulk_and_each_is_recorded(client, people):
    client.force_login(people["root"])
    selected = [people["alice"].pk, people["carol"].pk]
    response = client.post(USERS, {"action": "deactivate", "_selected_action": selected})
    assert response.status_code == 302
    assert not User.objects.filter(pk__in=selected, is_active=True).exists()
    recorded = events(kind=AccountEvent.Kind.DEACTIVATED, by=people["root"])
    assert sorted(recorded.values_list("user__username", flat=True)) == ["alice", "carol"]


EVENTS_PAGE = "/members/{}/accounts/"


def move_alice_to_member_2(people):
    return services.user_assign(
        user=people["alice"],
        role=User.Role.CASEWORKER,
        organization=people["carol"].organization,
        by=people["root"],
    )


def test_member_1s_reviewer_reads_its_account_events_in_chinese(client, people):
    services.user_set_active(user=people["alice"], is_active=False, by=people["root"])
    member = people["bob"].organization
    client.force_login(people["bob"])
    workspace = client.get(f"/members/{member.short_name}/")
    assert EVENTS_PAGE.format(member.short_name) in workspace.text
    page = client.get(EVENTS_PAGE.format(member.short_name))
    assert page.status_code == 200
    html = page.text
    assert "账户已停用" in html and "alice" in html and "root" in html
    assert "账户已创建" in html and member.name_zh in html
    assert "deactivated" not in html  # labels, never raw values
    # member 2's own accounts are not member 1's business
    assert "carol" not in html and "dave" not in html


@pytest.mark.parametrize("username", ["sam", "root"])
def test_the_secretariat_and_administrators_read_a_members_account_events(client, people, username):
    client.force_login(people[username])
    member = people["bob"].organization
    assert "alice" in client.get(EVENTS_PAGE.format(member.short_name)).text


@pytest.mark.parametrize(("username", "status"), [("dave", 404), ("carol", 404), ("alice", 403)])
def test_other_members_staff_get_404_and_caseworkers_403_for_account_events(
    client, people, username, status
):
    client.force_login(people[username])
    member = people["bob"].organization
    assert client.get(EVENTS_PAGE.format(member.short_name)).status_code == status
    if username == "alice":
        workspace = client.get(f"/members/{member.short_name}/").text
        assert EVENTS_PAGE.format(member.short_name) not in workspace


def test_a_move_between_members_shows_to_both_members_reviewers(client, people):
    move_alice_to_member_2(people)
    m1, m2 = people["bob"].organization, people["dave"].organization
    for reviewer, member in (("bob", m1), ("dave", m2)):
        client.force_login(people[reviewer])
        html = client.get(EVENTS_PAGE.format(member.short_name)).text
        assert "转到其他成员" in html, reviewer
        assert f"{m1.name_zh} → {m2.name_zh}" in html, reviewer


def test_account_events_page_query_count(client, people, django_assert_num_queries):
    move_alice_to_member_2(people)
    services.user_set_active(user=people["bob"], is_active=False, by=people["root"])
    services.user_set_active(user=people["bob"], is_active=True, by=people["root"])
    client.force_login(people["bob"])
    # session, user with its member and second-factor device (organizations.auth_backends),
    # the page's member, the events' count, the events with their users and members
    with django_assert_num_queries(5):
        response = client.get(EVENTS_PAGE.format("crcf"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 5
