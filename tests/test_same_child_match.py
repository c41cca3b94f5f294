"""One child, no leaks (issue 14, finding 1): the same-child match across members.

Member 1's caseworker (alice) starts a draft for 赵机密 and does not submit it. Member 2's
caseworker (carol) types the same child. Before, member 2's edit page listed member 1's
draft with its reference and masked ID number, linking showed member 1's full ID number and
address, and member 2's edit of section A renamed member 1's child. Now member 2 learns only
that member 1 may have a record and whom to call, cannot link, and still cannot submit a
second open application for the child.
"""

import pytest

from cases import identity
from cases.intake import services
from cases.models import AccessRecord, Application, Child
from cases.review import services as workflow
from tests.intake_data import resident_id
from tests.test_api_cases import Api, recorded
from tests.test_workflow import fill, querydict

SECRET_ID = resident_id("110105", "2018-03-10", "357")  # odd: a boy
SECRET_CHILD = {
    "name": "赵机密",
    "dob": "2018-03-10",
    "id_number": SECRET_ID,
    "sex": "male",
    "address": "北京市东城区机密胡同 7 号",
}
OTHER_ID = resident_id("110105", "2018-03-10", "371")


def _section_a(application, by, **values):
    data = {
        "name": "",
        "id_type": "resident_id",
        "id_number": "",
        "sex": "male",
        "dob": "",
        "ethnicity": "汉族",
        "household_province": "11",
        "household_prefecture": "110105",
        "registration": "urban",
        "address": "",
        **values,
    }
    services.section_save(application=application, section="A", data=querydict(data), by=by)
    application.refresh_from_db()
    return application


@pytest.fixture
def secret_draft(people):
    """Member 1's unsubmitted draft: only section A, as in the finding."""
    draft = services.application_create(by=people["alice"])
    return _section_a(draft, people["alice"], **SECRET_CHILD)


def _leaks(text: str, secret_draft) -> list[str]:
    """What of member 1's draft shows in `text`."""
    masked = identity.mask_id_number(SECRET_ID)
    found = [
        value
        for value in (
            secret_draft.reference,
            SECRET_ID,
            masked,
            SECRET_CHILD["address"],
            "2018-03-10",
        )
        if value in text
    ]
    return found


TYPED = {
    "id number alone": {"id_number": SECRET_ID, "name": "赵某", "dob": "2018-03-10"},
    "name and birth date": {"name": "赵机密", "dob": "2018-03-10", "id_number": OTHER_ID},
}


@pytest.mark.parametrize("typed", TYPED.values(), ids=TYPED.keys())
def test_another_member_learns_only_whom_to_call_on_the_edit_page(
    client, people, secret_draft, typed
):
    carol = people["carol"]
    mine = _section_a(services.application_create(by=carol), carol, **typed)
    client.force_login(carol)
    response = client.get(f"/applications/{mine.reference}/edit/")
    page = response.content.decode()
    matches = response.context["duplicates"]
    assert [(m.member.number, m.application) for m in matches] == [(1, None)]
    assert "中国红十字基金会" in page and "010-0000 0001" in page
    # Only what carol typed herself may show: nothing of member 1's draft.
    typed_values = set(typed.values())
    assert [leak for leak in _leaks(page, secret_draft) if leak not in typed_values] == []
    assert "赵机密" not in page or typed["name"] == "赵机密"


def test_a_guardians_phone_with_the_name_is_a_match_too(client, people, secret_draft):
    alice, carol = people["alice"], people["carol"]
    services.section_save(
        application=secret_draft,
        section="B",
        data=querydict({"g1_name": "赵父", "g1_relationship": "father", "g1_phone": "13700137000"}),
        by=alice,
    )
    mine = _section_a(services.application_create(by=carol), carol, name="赵机密")
    services.section_save(
        application=mine,
        section="B",
        data=querydict({"g1_name": "赵父", "g1_relationship": "father", "g1_phone": "13700137000"}),
        by=carol,
    )
    client.force_login(carol)
    response = client.get(f"/applications/{mine.reference}/edit/")
    matches = response.context["duplicates"]
    assert [(m.member.number, m.application, m.basis) for m in matches] == [
        (1, None, ["name_phone"])
    ]
    assert _leaks(response.content.decode(), secret_draft) == []


def test_another_member_cannot_link_to_an_unshared_draft(client, people, secret_draft):
    carol = people["carol"]
    mine = _section_a(services.application_create(by=carol), carol, **SECRET_CHILD)
    client.force_login(carol)
    url = f"/applications/{mine.reference}/link-child/{secret_draft.reference}/"
    assert client.post(url).status_code == 404
    with pytest.raises(services.ApplicationError):
        services.application_link_child(application=mine, other=secret_draft, by=carol)
    mine.refresh_from_db()
    assert mine.child.identity_id != secret_draft.child.identity_id


def test_editing_section_a_never_changes_another_members_child(client, people, secret_draft):
    carol = people["carol"]
    mine = _section_a(services.application_create(by=carol), carol, **SECRET_CHILD)
    _section_a(mine, carol, **{**SECRET_CHILD, "name": "改名", "address": "别处 9 号"})
    secret_draft.child.refresh_from_db()
    assert (secret_draft.child.name, secret_draft.child.address) == (
        "赵机密",
        SECRET_CHILD["address"],
    )


def test_the_api_tells_the_same_as_the_page_and_refuses_the_link(client, people, secret_draft):
    carol = people["carol"]
    mine = _section_a(services.application_create(by=carol), carol, **SECRET_CHILD)
    api = Api(client, carol)
    response = api.get(f"/applications/{mine.reference}/possible-duplicates/")
    assert response.status_code == 200
    assert response.json() == [
        {
            "member": {
                "short_name": "crcf",
                "name": "中国红十字基金会",
                "contact_name": "联络人（演示）",
                "contact_phone": "010-0000 0001",
                "contact_email": "member1@demo.invalid",
            },
            "basis": ["id_number", "name_dob"],
            "reference": None,
        }
    ]
    refused = api.post(
        f"/applications/{mine.reference}/link-child/", {"reference": secret_draft.reference}
    )
    assert refused.status_code == 404
    # The reveal shows carol's own typing, never member 1's record, and is filed under hers.
    revealed = api.get(f"/applications/{mine.reference}/reveal/").json()
    assert revealed["id_number"] == SECRET_ID
    assert (
        AccessRecord.objects.filter(application=secret_draft).exclude(user=people["alice"]).count()
        == 0
    )


def test_a_double_application_is_refused_whoever_submits_first(people, secret_draft):
    alice, carol = people["alice"], people["carol"]
    mine = fill(services.application_create(by=carol), carol, sequence="357")
    _section_a(mine, carol, **SECRET_CHILD)
    # Member 2 submits first; member 1's draft then cannot become a second open one.
    services.application_submit(application=mine, by=carol)
    fill(secret_draft, alice, sequence="357", A=SECRET_CHILD)
    with pytest.raises(services.DuplicateApplication) as refused:
        services.application_submit(application=secret_draft, by=alice)
    # Member 2's application went to member 1: it is shared, so its reference is named.
    assert refused.value.match.application == mine
    assert mine.reference in str(refused.value)
    secret_draft.refresh_from_db()
    assert secret_draft.status == "draft"
    # The same ID number is the same child: one identity, each application its own record.
    assert Child.objects.get(pk=mine.child_id).identity_id == (
        Child.objects.get(pk=secret_draft.child_id).identity_id
    )
    assert Child.objects.get(pk=secret_draft.child_id).address == SECRET_CHILD["address"]


def test_the_api_refusal_of_a_double_application_is_structured(client, people):
    alice, carol = people["alice"], people["carol"]
    first = fill(services.application_create(by=alice), alice, sequence="357")
    services.application_submit(application=first, by=alice)
    workflow.consent_withdraw(application=first, note="家长撤回", by=alice)
    second = fill(services.application_create(by=carol), carol, sequence="357")
    response = Api(client, carol).post(f"/applications/{second.reference}/submit/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "duplicate_application"
    assert body["errors"][0]["code"] == "A03"
    # Consent withdrawn: member 1's application is no longer shared with member 2.
    assert body["match"]["reference"] is None
    assert body["match"]["member"]["contact_phone"] == "010-0000 0001"
    assert first.reference not in response.content.decode()
    assert Application.objects.get(pk=second.pk).status == "draft"


def test_after_consent_is_withdrawn_the_match_tells_another_member_nothing(client, people):
    alice, carol = people["alice"], people["carol"]
    first = fill(services.application_create(by=alice), alice, sequence="357")
    services.application_submit(application=first, by=alice)
    second = fill(services.application_create(by=carol), carol, sequence="357")
    client.force_login(carol)
    before = client.get(f"/applications/{second.reference}/edit/").context["duplicates"]
    assert [m.application for m in before] == [first]  # routed to member 2: shared
    workflow.consent_withdraw(application=first, note="家长撤回", by=alice)
    response = client.get(f"/applications/{second.reference}/edit/")
    assert response.context["duplicates"] == []
    assert first.reference not in response.content.decode()
    url = f"/applications/{second.reference}/link-child/{first.reference}/"
    assert client.post(url).status_code == 404


def test_a_shared_application_can_be_linked_and_stays_its_own_record(client, people):
    alice, carol = people["alice"], people["carol"]
    first = fill(services.application_create(by=alice), alice, sequence="357")
    services.application_submit(application=first, by=alice)
    second = _section_a(services.application_create(by=carol), carol, **SECRET_CHILD)
    client.force_login(carol)
    matches = client.get(f"/applications/{second.reference}/edit/").context["duplicates"]
    assert [m.application for m in matches] == [first]
    response = client.post(f"/applications/{second.reference}/link-child/{first.reference}/")
    assert response.status_code == 302
    second.refresh_from_db()
    first_child = Child.objects.get(pk=first.child_id)
    assert second.child.identity_id == first_child.identity_id
    _section_a(second, carol, **{**SECRET_CHILD, "name": "赵改名"})
    first_child.refresh_from_db()
    assert first_child.name == "王小明"  # member 1's own section A, untouched


def test_receipts_follow_the_child_but_not_past_a_withdrawal_of_consent(client, people):
    """The child's receipts are found by identity on each of its applications; another
    member's, once its guardian withdrew consent, are not shown to member 2."""
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    first = fill(services.application_create(by=alice), alice, sequence="357")
    services.application_submit(application=first, by=alice)
    kept = recorded(first, bob, number="00000001")
    second = fill(
        services.application_create(by=carol),
        carol,
        sequence="357",
        D={"category": "CHD", "icd": "Q21.0", "diagnosis_text": "室间隔缺损"},
    )
    services.application_submit(application=second, by=carol)
    client.force_login(carol)
    page = client.get(f"/applications/{second.reference}/")
    assert [r.pk for r in page.context["receipts"]] == [kept.pk]
    workflow.consent_withdraw(application=first, note="家长撤回", by=alice)
    withheld = recorded(first, bob, number="00000002")
    page = client.get(f"/applications/{second.reference}/")
    assert withheld.pk not in [r.pk for r in page.context["receipts"]]
    assert kept.pk not in [r.pk for r in page.context["receipts"]]


def test_another_members_staff_and_the_secretariat_cannot_read_or_link_a_drafts_matches(
    client, people, secret_draft
):
    """The match endpoints are the draft's own member's: anyone else gets 404 or 403."""
    url = f"/applications/{secret_draft.reference}/possible-duplicates/"
    for username in ("carol", "dave"):
        api = Api(client, people[username])
        assert api.get(url).status_code == 404
        linked = api.post(
            f"/applications/{secret_draft.reference}/link-child/",
            {"reference": secret_draft.reference},
        )
        assert linked.status_code == 404
    assert Api(client, people["sam"]).get(url).status_code == 403  # reads, never enters
    client.force_login(people["carol"])
    page = f"/applications/{secret_draft.reference}/link-child/{secret_draft.reference}/"
    assert client.post(page).status_code == 404
