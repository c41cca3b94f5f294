"""The list rows rendered in Python (cases.templatetags.list_rows, issue 18) are the HTML the
row templates rendered: the templates are kept here as the reference, and both render the
same rows, every branch among them (consent withdrawn, a hospital's confirmation, no
category, information requested, papers waiting, a discarded draft, an empty list)."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import translation

from cases.templatetags import list_rows

# The row loops as cases/inbox.html (over the selector's row dicts) and
# cases/application_list.html had them.
REFERENCE = Path(__file__).parent / "list_rows"


def reference(name: str) -> Template:
    return Template((REFERENCE / name).read_text(encoding="utf-8").removesuffix("\n"))


# Late in the evening in UTC: the next day in China, so the time zone shows.
LATE = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)
LEUK = {"name_zh": "白血病", "name_en": "Leukaemia"}


def inbox_row(**changes) -> dict:
    row = {
        "pk": 1,
        "member_id": 1,
        "application_id": 1,
        "reference": "CRCF-2026-000001",
        "child": "王<小>明",
        "withdrawn_at": None,
        "confirmation": None,
        "category": LEUK,
        "state": "pending",
        "state_label": "",
        "eligible": True,
        "gap": Decimal("105000.50"),
        "routed_at": LATE,
        "due_at": None,
    }
    row.update(changes)
    return row


INBOX_ROWS = [
    inbox_row(),
    inbox_row(reference="CRCF-2026-000002", withdrawn_at=LATE, eligible=False, category=None),
    inbox_row(reference="CRCF-2026-000003", withdrawn_at=LATE, child=""),  # another member's
    inbox_row(
        reference="CRCF-2026-000004",
        state="in_review",
        confirmation={"hospital": "协和 & 医院", "at": LATE, "kind": "corrected"},
        gap=Decimal(0),
    ),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("rows", [INBOX_ROWS, []], ids=["rows", "empty"])
def test_the_inbox_rows_are_the_templates(language, rows):
    from cases.models import HospitalConfirmation, MemberReview

    with translation.override(language):
        for row in rows:
            row["state_label"] = MemberReview.State(row["state"]).label
            if row["confirmation"]:
                kind = row["confirmation"]["kind"]
                row["confirmation"]["kind_label"] = HospitalConfirmation.Kind(kind).label
        expected = reference("inbox_rows.html").render(Context({"rows": rows}))
        rendered = list_rows.inbox_rows(rows)
    assert rendered == expected
    if rows:
        assert "王&lt;小&gt;明" in rendered and "<小>" not in rendered
        assert "协和 &amp; 医院 · 2026-03-02 04:30" in rendered  # China's time, escaped
        assert "105,000.50" in rendered


def application(**changes):
    values = {
        "reference": "CRCF-2026-000001",
        "child": SimpleNamespace(name="李<四>", id_number="110101201501010012"),
        "consent_withdrawn_at": None,
        "category": SimpleNamespace(**LEUK),
        "member": SimpleNamespace(name_zh="中国儿童基金", name_en="China Children Fund"),
        "discarded_at": None,
        "info_requested": False,
        "status": "submitted",
        "family_waiting": False,
        "created_at": LATE,
    }
    values.update(changes)
    shown = SimpleNamespace(**values)
    from cases.models import Application

    shown.get_status_display = lambda: Application.Status(shown.status).label
    return shown


APPLICATIONS = [
    application(),
    application(consent_withdrawn_at=LATE, category=None, family_waiting=True),
    application(info_requested=True),
    application(info_requested=True, status="closed"),
    application(status="draft", discarded_at=LATE, child=SimpleNamespace(name="", id_number="")),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("applications", [APPLICATIONS, []], ids=["rows", "empty"])
def test_the_application_list_rows_are_the_templates(language, applications):
    with translation.override(language):
        expected = reference("application_rows.html").render(Context({"page": applications}))
        rendered = list_rows.application_rows(applications)
    assert rendered == expected
    if applications:
        assert "李&lt;四&gt;" in rendered and "110101201501010012" not in rendered


# --- kept by a digest of what the rows show (list_rows.ROWS_KEPT) ---------------------------

CHANGES = {
    "reference": {"reference": "CRCF-2026-000009"},
    "child's name": {"child": SimpleNamespace(name="李五", id_number="110101201501010012")},
    "ID number": {"child": SimpleNamespace(name="李<四>", id_number="110101201501020018")},
    "consent withdrawn": {"consent_withdrawn_at": LATE},
    "discarded": {"discarded_at": LATE, "status": "draft"},
    "information requested": {"info_requested": True},
    "status": {"status": "closed"},
    "papers waiting": {"family_waiting": True},
    "category's name": {"category": SimpleNamespace(name_zh="白血病", name_en="Leukemia")},
    "member's name": {"member": SimpleNamespace(name_zh="中国儿童基金", name_en="CCF")},
    "created": {"created_at": datetime(2026, 3, 5, 1, 0, tzinfo=UTC)},
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_in_any_shown_value_is_another_kept_entry(change):
    with translation.override("en"):
        before = list_rows.application_rows([application()])
        after = list_rows.application_rows([application(**change)])
        assert after == list_rows._application_rows([application(**change)])
    assert after != before


def test_the_inbox_rows_kept_follow_the_rows_and_the_language():
    changed = [inbox_row(gap=Decimal("99.00"), state="in_review")]
    for language in ("zh-hans", "en", "zh-hans"):
        with translation.override(language):
            for rows in (INBOX_ROWS, changed):
                assert list_rows.inbox_rows(rows) == list_rows._inbox_rows(rows)
