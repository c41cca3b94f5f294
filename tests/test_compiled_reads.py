"""A read compiled once per process (aid_alliance.compiled_reads), as the family status page
uses it: the same rows as Django's own queryset, for each key its own rows, every change
seen on the next read (only the statement is kept), and the statement counted as a query."""

import threading
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models.sql.compiler import SQLCompiler

from aid_alliance.compiled_reads import CompiledRead, padded
from cases.family import selectors as family_status
from cases.models import Application, MemberReview
from cases.review import selectors as review_selectors
from cases.review import services as workflow
from organizations.models import MemberOrganization
from tests.test_family_status import RESULT, opened, page
from tests.test_family_status_content import _pay
from tests.test_workflow import project, review_of, submitted

pytestmark = pytest.mark.django_db


def application_rows(application_id):
    return (
        Application.objects.filter(pk=application_id)
        .order_by()
        .values_list("reference", "economic_flags", "submitted_at", "member__name_zh")
    )


def review_rows(application_id):
    return (
        MemberReview.objects.filter(application_id=application_id)
        .order_by("member__number")
        .values_list("pk", "state", "paid_total", "member__contact_phone")
    )


@pytest.fixture
def applications(people):
    return submitted(people["alice"]), submitted(people["carol"], sequence="125")


def test_the_rows_are_those_of_the_queryset_with_their_types(applications):
    first, second = applications
    Application.objects.filter(pk=first.pk).update(economic_flags=["dibao", "tekun"])
    read = CompiledRead(Application, application_rows)
    for application in (first, second, first):
        rows = read.rows(application.pk)
        assert rows == list(application_rows(application.pk))
    # Through the compiler's converters, on SQLite too: a list from JSON, an aware time.
    ((_, flags, submitted_at, _),) = read.rows(first.pk)
    assert flags == ["dibao", "tekun"]
    assert isinstance(submitted_at, datetime) and submitted_at.tzinfo is not None
    assert read.rows(-5) == []


def test_each_key_reads_its_own_rows(applications):
    first, second = applications
    read = CompiledRead(MemberReview, review_rows)
    mine, theirs = read.rows(first.pk), read.rows(second.pk)
    assert mine == list(review_rows(first.pk)) and theirs == list(review_rows(second.pk))
    assert not {row[0] for row in mine} & {row[0] for row in theirs}
    assert all(isinstance(row[2], Decimal) for row in mine)


def test_the_statement_is_compiled_once_and_every_read_goes_to_the_database(
    applications, monkeypatch, django_assert_num_queries
):
    first, _ = applications
    read = CompiledRead(MemberReview, review_rows)
    read.rows(first.pk)
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    with django_assert_num_queries(2):
        read.rows(first.pk)
        MemberOrganization.objects.filter(reviews__application=first).update(
            contact_phone="010-1234 5678"
        )
    assert compiled == [1]  # the update's, not the read's
    assert {row[3] for row in read.rows(first.pk)} == {"010-1234 5678"}


@pytest.mark.parametrize(
    "build",
    [
        lambda key: review_rows(key).exclude(pk=key),  # the key twice
        lambda key: MemberReview.objects.values_list("pk"),  # no key at all
    ],
)
def test_a_read_that_does_not_take_its_key_once_is_refused(applications, build):
    with pytest.raises(ValueError, match="one varying parameter of the read"):
        CompiledRead(MemberReview, build).rows(applications[0].pk)


def test_a_read_of_several_keys_takes_each_in_its_place(applications):
    first, second = applications

    def build(application_id, *ids):
        return (
            MemberReview.objects.filter(application_id=application_id, pk__in=ids)
            .order_by("pk")
            .values_list("pk", "application_id")
        )

    read = CompiledRead(MemberReview, build, size=4)
    mine = list(MemberReview.objects.filter(application=first).order_by("pk"))
    theirs = list(MemberReview.objects.filter(application=second).order_by("pk"))
    assert read.rows(first.pk, *padded([mine[0].pk, mine[2].pk], 3)) == [
        (mine[0].pk, first.pk),
        (mine[2].pk, first.pk),
    ]
    assert read.rows(second.pk, *padded([theirs[1].pk], 3)) == [(theirs[1].pk, second.pk)]
    # Another application's review among the ids is not read.
    assert read.rows(first.pk, *padded([theirs[0].pk], 3)) == []
    with pytest.raises(TypeError, match="4 key"):
        read.rows(first.pk)
    with pytest.raises(ValueError, match="at most 3"):
        padded([1, 2, 3, 4], 3)


def test_the_inbox_reads_only_its_members_reviews(applications):
    first, _ = applications
    one, two = review_of(first, 1), review_of(first, 2)
    rows = review_selectors.inbox_rows(one.member, [two.pk, one.pk])
    assert [row["pk"] for row in rows] == [one.pk]
    assert rows[0]["reference"] == first.reference


# --- the status page on its compiled reads -------------------------------------------------------


@pytest.fixture
def family(client):
    client.defaults["REMOTE_ADDR"] = "203.0.113.7"
    return client


def test_a_change_in_sql_without_any_service_shows_on_the_next_request(
    family, applications, people
):
    """Only statements are kept: an update() that no signal sees is on the page at once."""
    application, _ = applications
    html = page(opened(family, application))
    assert "010-8888 0000" not in html
    MemberOrganization.objects.filter(pk=application.member_id).update(
        contact_phone="010-8888 0000"
    )
    assert "010-8888 0000" in page(family.get(RESULT))
    MemberReview.objects.filter(application=application).update(state=MemberReview.State.DECLINED)
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.CLOSED, closing_reason="treatment_ended"
    )
    view = family_status.family_view(application.pk)
    assert view.state == family_status.FamilyState.CLOSED and view.needed == []


def test_the_view_holds_rows_of_its_own_application_only(applications, people):
    first, second = applications
    bob = people["bob"]
    workflow.review_approve(
        review=review_of(first, 1), project=project("P01"), amount=Decimal(30000), by=bob
    )
    _pay(review_of(first, 1), bob, [(date(2026, 11, 20), 500)])
    mine, theirs = family_status.family_view(first.pk), family_status.family_view(second.pk)
    assert mine.reference == first.reference and theirs.reference == second.reference
    assert [line.amount for line in mine.members].count(Decimal(30000)) == 1
    assert Decimal(30000) not in [line.amount for line in theirs.members]
    assert [(p.paid_on, p.amount) for p in mine.payments] == [(date(2026, 11, 20), 500)]
    assert theirs.payments == []
    # The members as the family sees them: names and how to reach them, nothing else.
    assert set(family_status.MemberContact.__dataclass_fields__) == {
        "name_zh",
        "name_en",
        "contact_phone",
        "contact_email",
    }
    assert isinstance(mine.contact, family_status.MemberContact)


def test_a_draft_is_never_read(people):
    draft = submitted(people["alice"])
    Application.objects.filter(pk=draft.pk).update(status=Application.Status.DRAFT)
    assert family_status.family_view(draft.pk) is None


def test_an_application_with_no_review_yet_reads_as_submitted(people, django_assert_num_queries):
    """Its one row of the application-and-reviews read carries no review (a LEFT JOIN)."""
    application = submitted(people["alice"])
    MemberReview.objects.filter(application=application).delete()
    with django_assert_num_queries(1):  # nobody is deciding: no documents to read
        view = family_status.family_view(application.pk)
    assert view.members == [] and view.needed == []
    assert view.state == family_status.FamilyState.SUBMITTED
    assert view.reference == application.reference


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="another thread's read: SQLite locks the test's tables; set DATABASE_URL",
)
def test_each_thread_compiles_for_its_own_connection(applications, monkeypatch):
    """The kept compiler refers to its thread's connection: another thread compiles its own
    (as Django gives it its own connection) and the first thread keeps its."""
    read = CompiledRead(MemberReview, review_rows)
    read.rows(applications[0].pk)
    compiled = []
    original = CompiledRead._compile
    monkeypatch.setattr(
        CompiledRead, "_compile", lambda self, alias: compiled.append(1) or original(self, alias)
    )
    elsewhere = []

    def other_thread():
        try:
            elsewhere.append(read.rows(-5))
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert elsewhere == [[]] and compiled == [1]
    read.rows(applications[0].pk)
    assert compiled == [1]
