"""The caseworker's home (issue 16): a new application, the information requests waiting
for the caseworker's answer, the caseworker's drafts, and discarding a draft (recorded,
never deleted), from both sides."""

import pytest
from django.db import IntegrityError, transaction

from cases.errors import ApplicationError, InvalidInput, NotAllowed
from cases.intake import services
from cases.models import AccessRecord, Application, ApplicationEvent
from cases.review import services as workflow
from tests.test_workflow import review_of, submitted

pytestmark = pytest.mark.django_db


def drafts_of(people, count, who="alice"):
    made = []
    for n in range(count):
        application = services.application_create(by=people[who])
        application.child.name = f"王{n}号"
        application.child.save()
        made.append(application)
    return made


def asked(people, *, by_member=2, items="请补充病案首页", sequence="123"):
    """alice's application, submitted, and a member asking her for information."""
    application = submitted(people["alice"], sequence=sequence)
    reviewer = people["dave"] if by_member == 2 else people["bob"]
    workflow.review_request_info(review=review_of(application, by_member), items=items, by=reviewer)
    return application


# --- the home page ---------------------------------------------------------------------


def test_the_caseworker_home_offers_a_new_application(client, people):
    client.force_login(people["alice"])
    html = client.get("/").content.decode()
    assert 'action="/applications/new/"' in html
    assert 'id="home-new-application"' in html


def test_the_home_lists_the_requests_waiting_for_the_caseworkers_answer(client, people):
    application = asked(people)
    client.force_login(people["alice"])
    response = client.get("/")
    awaiting = response.context["awaiting"]
    assert [r.application.reference for r in awaiting] == [application.reference]
    html = response.content.decode()
    assert "请补充病案首页" in html and application.reference in html


def test_an_answered_request_leaves_the_home(client, people):
    application = asked(people)
    workflow.review_answer_info(review=review_of(application, 2), by=people["alice"])
    client.force_login(people["alice"])
    assert client.get("/").context["awaiting"] == []


def test_another_members_caseworker_never_sees_the_request(client, people):
    asked(people)
    client.force_login(people["carol"])  # member 2 asked, but the application is member 1's
    response = client.get("/")
    assert response.context["awaiting"] == []
    assert response.context["drafts"] == []


def test_the_home_lists_only_the_caseworkers_own_open_drafts(client, people):
    mine = drafts_of(people, 2)
    drafts_of(people, 1, who="carol")
    drafts_of(people, 1, who="bob")  # a colleague's draft is on the list page, not here
    submitted(people["alice"])
    client.force_login(people["alice"])
    shown = {a.reference for a in client.get("/").context["drafts"]}
    assert shown == {a.reference for a in mine}


def test_the_home_records_the_childrens_names_it_shows(client, people):
    drafts = drafts_of(people, 2)
    client.force_login(people["alice"])
    client.get("/")
    recorded = set(
        AccessRecord.objects.filter(user=people["alice"], view="home").values_list(
            "application__reference", flat=True
        )
    )
    assert recorded == {a.reference for a in drafts}


def test_a_reviewer_sees_no_discard_action_on_the_home(client, people):
    drafts_of(people, 1, who="bob")
    client.force_login(people["bob"])
    html = client.get("/").content.decode()
    assert "/discard/" not in html


@pytest.mark.parametrize("rows", [1, 6])
def test_the_home_query_count_does_not_grow_with_rows(
    client, people, rows, django_assert_num_queries
):
    drafts_of(people, rows)
    for n in range(rows):
        asked(people, sequence=f"{211 + 2 * n}")  # odd: a boy, as A04 says
    client.force_login(people["alice"])
    # session, user with its member (organizations.auth_backends), the directory's summary
    # (two counts), the requests waiting with their application, child and member, the
    # drafts with child and category, the access records (one insert)
    with django_assert_num_queries(7):
        response = client.get("/")
    assert len(response.context["drafts"]) == rows
    assert len(response.context["awaiting"]) == rows


# --- the application list's state column ---------------------------------------------------


def test_the_list_says_information_requested_instead_of_submitted(client, people):
    waiting = asked(people)
    plain = submitted(people["alice"], sequence="457")
    client.force_login(people["alice"])
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/applications/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    rows = {ref: row for ref, row in _rows(html)}
    assert "待补充材料" in rows[waiting.reference]
    assert "待补充材料" not in rows[plain.reference] and "已提交" in rows[plain.reference]


def _rows(html):
    for row in html.split("<tr>")[1:]:
        for ref in row.split("/applications/")[1:2]:
            yield ref.split("/")[0], row


# --- discarding a draft -----------------------------------------------------------------------


def test_discarding_is_one_decision_confirmed_with_a_reason(client, people):
    draft = drafts_of(people, 1)[0]
    client.force_login(people["alice"])
    page = client.get(f"/applications/{draft.reference}/discard/")
    assert page.status_code == 200
    assert draft.reference in page.content.decode()
    draft.refresh_from_db()
    assert draft.discarded_at is None  # the page asks; it does not discard

    response = client.post(f"/applications/{draft.reference}/discard/", {"reason": "录入重复"})
    assert response.status_code == 302 and response["Location"] == "/"
    draft.refresh_from_db()
    assert draft.discarded_at is not None
    assert draft.discarded_by == people["alice"] and draft.discard_reason == "录入重复"
    assert draft.status == Application.Status.DRAFT  # kept, never deleted
    event = ApplicationEvent.objects.get(application=draft, action="discarded")
    assert event.actor == people["alice"] and event.note == "录入重复"
    assert AccessRecord.objects.filter(application=draft, view="discard").exists()


def test_a_discard_without_a_reason_comes_back_with_the_error_at_the_field(client, people):
    draft = drafts_of(people, 1)[0]
    client.force_login(people["alice"])
    response = client.post(f"/applications/{draft.reference}/discard/", {"reason": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html and 'href="#id_reason"' in html
    assert 'aria-invalid="true"' in html
    draft.refresh_from_db()
    assert draft.discarded_at is None


def test_a_discarded_draft_leaves_the_lists_but_the_secretariat_sees_who_and_when(client, people):
    draft = drafts_of(people, 1)[0]
    services.application_discard_draft(application=draft, by=people["alice"], reason="重复")
    client.force_login(people["alice"])
    assert client.get("/").context["drafts"] == []
    assert draft.reference not in {
        a.reference for a in client.get("/applications/").context["page"]
    }
    client.force_login(people["sam"])
    listed = {a.reference: a for a in client.get("/applications/").context["page"]}
    assert listed[draft.reference].discarded_at is not None
    html = client.get(f"/applications/{draft.reference}/").content.decode()
    assert 'id="discarded-notice"' in html and "alice" in html and "重复" in html


def test_a_discarded_draft_cannot_be_edited_submitted_or_discarded_again(client, people):
    draft = drafts_of(people, 1)[0]
    services.application_discard_draft(application=draft, by=people["alice"], reason="重复")
    client.force_login(people["alice"])
    edit = client.get(f"/applications/{draft.reference}/edit/")
    assert edit.status_code == 302 and edit["Location"].endswith(f"/{draft.reference}/")
    with pytest.raises(ApplicationError):
        services.section_save(application=draft, section="A", data={}, by=people["alice"])
    with pytest.raises(ApplicationError):
        services.application_submit(application=draft, by=people["alice"])
    with pytest.raises(ApplicationError):
        services.application_discard_draft(application=draft, by=people["alice"], reason="x")
    assert client.get(f"/applications/{draft.reference}/discard/").status_code == 404


def test_another_members_caseworker_gets_404_on_discard(client, people):
    draft = drafts_of(people, 1)[0]
    client.force_login(people["carol"])
    assert client.get(f"/applications/{draft.reference}/discard/").status_code == 404
    assert (
        client.post(f"/applications/{draft.reference}/discard/", {"reason": "x"}).status_code == 404
    )
    draft.refresh_from_db()
    assert draft.discarded_at is None


@pytest.mark.parametrize("who", ["bob", "sam"])
def test_a_reviewer_or_the_secretariat_cannot_discard(client, people, who):
    draft = drafts_of(people, 1)[0]
    client.force_login(people[who])
    assert client.get(f"/applications/{draft.reference}/discard/").status_code == 403
    assert (
        client.post(f"/applications/{draft.reference}/discard/", {"reason": "x"}).status_code == 403
    )
    with pytest.raises(NotAllowed):
        services.application_discard_draft(application=draft, by=people[who], reason="x")
    draft.refresh_from_db()
    assert draft.discarded_at is None


def test_a_submitted_application_is_never_discarded(client, people):
    application = submitted(people["alice"])
    client.force_login(people["alice"])
    assert client.get(f"/applications/{application.reference}/discard/").status_code == 404
    with pytest.raises(ApplicationError):
        services.application_discard_draft(application=application, by=people["alice"], reason="x")


def test_the_service_refuses_an_empty_reason_at_its_field(people):
    draft = drafts_of(people, 1)[0]
    with pytest.raises(InvalidInput) as refused:
        services.application_discard_draft(application=draft, by=people["alice"], reason=" ")
    assert refused.value.field == "reason"
    assert not ApplicationEvent.objects.filter(application=draft, action="discarded").exists()


def test_the_database_refuses_a_discarded_application_that_is_not_a_draft(people):
    application = submitted(people["alice"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=application.pk).update(
            discarded_at=application.submitted_at, discarded_by=people["alice"]
        )


def test_the_secretariats_csv_says_which_drafts_were_discarded(client, people):
    kept, discarded = drafts_of(people, 2)
    services.application_discard_draft(application=discarded, by=people["alice"], reason="重复")
    client.force_login(people["sam"])
    client.cookies["django_language"] = "en"
    response = client.get("/applications.csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    rows = {line.split(",")[0]: line for line in lines[1:]}
    assert rows[discarded.reference].split(",")[1] == "Discarded draft"
    assert rows[kept.reference].split(",")[1] == "Draft"
    client.force_login(people["alice"])
    mine = b"".join(client.get("/applications.csv").streaming_content).decode("utf-8-sig")
    assert discarded.reference not in mine and kept.reference in mine


def test_the_api_lists_a_discarded_draft_only_for_the_secretariat_with_its_time(client, people):
    kept, discarded = drafts_of(people, 2)
    services.application_discard_draft(application=discarded, by=people["alice"], reason="重复")
    client.force_login(people["alice"])
    mine = [row["reference"] for row in client.get("/api/v1/applications/").json()["results"]]
    assert mine == [kept.reference]
    client.force_login(people["sam"])
    rows = {r["reference"]: r for r in client.get("/api/v1/applications/").json()["results"]}
    assert rows[discarded.reference]["discarded_at"] is not None
    assert rows[kept.reference]["discarded_at"] is None
    detail = client.get(f"/api/v1/applications/{discarded.reference}/").json()
    assert detail["discarded_at"] is not None and detail["editable"] is False
