"""The staff list as a CSV download (/applications.csv): what each role gets, the filters,
masking, formula neutralisation, streaming and the access records it writes."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse

from cases.intake import list_export
from cases.models import AccessRecord, Child
from tests.test_workflow import submitted

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def two_members(people):
    """An application of member 1 (alice) and one of member 2 (carol)."""
    return submitted(people["alice"], sequence="123"), submitted(people["carol"], sequence="125")


def test_member_staff_get_their_members_applications_only(client, people, two_members):
    ours, theirs = two_members
    client.force_login(people["alice"])
    response = client.get("/applications.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    assert rows[0][:2] == ["申请编号", "状态"]
    references = [row[0] for row in rows[1:]]
    assert references == [ours.reference]
    assert theirs.reference not in references


def test_the_secretariat_gets_every_application(client, people, two_members):
    client.force_login(people["sam"])
    references = {row[0] for row in rows_of(client.get("/applications.csv"))[1:]}
    assert references == {a.reference for a in two_members}


def test_the_download_follows_the_lists_filters(client, people, two_members):
    ours, theirs = two_members
    client.force_login(people["sam"])
    only_one = rows_of(client.get("/applications.csv", {"q": theirs.reference}))
    assert [row[0] for row in only_one[1:]] == [theirs.reference]
    drafts = rows_of(client.get("/applications.csv", {"status": "draft"}))
    assert drafts[1:] == []


def test_id_numbers_are_masked_and_formulas_neutralised(client, people, two_members):
    ours, _ = two_members
    Child.objects.filter(pk=ours.child_id).update(name='=HYPERLINK("http://x","y")')
    client.force_login(people["alice"])
    row = rows_of(client.get("/applications.csv"))[1]
    full = Child.objects.get(pk=ours.child_id).id_number
    assert full not in row
    assert row[4] == full[:6] + "********" + full[-4:]
    assert row[3] == '\'=HYPERLINK("http://x","y")'


def test_each_exported_application_gets_an_access_record(client, people, two_members):
    client.force_login(people["sam"])
    before = AccessRecord.objects.count()
    rows_of(client.get("/applications.csv"))
    records = AccessRecord.objects.order_by("pk")[before:]
    assert {(r.application_id, r.user_id, r.view) for r in records} == {
        (a.pk, people["sam"].pk, list_export.VIEW) for a in two_members
    }


@pytest.mark.parametrize("username", ["carol", "dave"])
def test_another_members_staff_never_get_member_ones_rows(client, people, two_members, username):
    ours, _ = two_members
    Child.objects.filter(pk=ours.child_id).update(name="欧阳一诺")
    client.force_login(people[username])
    body = b"".join(client.get("/applications.csv").streaming_content).decode()
    assert ours.reference not in body
    assert "欧阳一诺" not in body
    client.force_login(people["alice"])  # and the test can fail: member 1 does get it
    assert "欧阳一诺" in b"".join(client.get("/applications.csv").streaming_content).decode()


def test_a_family_or_anonymous_visitor_is_sent_to_the_login(client, two_members):
    response = client.get("/applications.csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_user_without_a_role_is_refused(client, people, two_members):
    from organizations.models import User

    nobody = User.objects.create_user("nobody", password="pw")
    client.force_login(nobody)
    assert client.get("/applications.csv").status_code == 403


def test_the_list_page_links_to_the_download_with_its_filters(client, people, two_members):
    client.force_login(people["alice"])
    html = client.get("/applications/", {"status": "submitted"}).content.decode()
    assert 'href="/applications.csv?status=submitted"' in html


@pytest.mark.parametrize("query", [{"status": "bogus"}, {"member": "nobody-such"}])
def test_a_mistyped_filter_is_refused_not_read_as_everything(client, people, two_members, query):
    client.force_login(people["sam"])
    before = AccessRecord.objects.count()
    response = client.get("/applications.csv", query)
    assert response.status_code == 400
    assert AccessRecord.objects.count() == before


def test_the_download_makes_the_same_number_of_queries_for_one_or_many(
    client, people, django_assert_num_queries
):
    # session, user with its second-factor device, the access records (one INSERT … SELECT),
    # the rows (one query, chunked by the cursor)
    client.force_login(people["sam"])
    submitted(people["alice"], sequence="123")
    with django_assert_num_queries(4):
        rows_of(client.get("/applications.csv"))
    submitted(people["alice"], sequence="125")
    submitted(people["carol"], sequence="127")
    with django_assert_num_queries(4):
        assert len(rows_of(client.get("/applications.csv"))) == 4
