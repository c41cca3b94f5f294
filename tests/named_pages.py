"""The pages each named user reaches, with one routed application in every state a page
shows: the one list both the language scan (tests/test_page_languages.py) and the browser's
axe run (tests/browser/test_every_page_in_browser.py) go through (issue 16).

alice's application is submitted and routed; member 3 (erin) asks for a paper and alice
changes section A in answer (the history shows changes); member 1 (bob) has pledged 30,000
yuan to it under P01 and recorded a receipt; member 2 (dave) has not decided yet, so his
approval form (refused, then confirmed) can be shown. sam has asked for a report. alice
also has a draft, refused when she submits it; erin has not enrolled a second factor yet.
The child is treated at a directory hospital whose staff (hana) see the application.
A family has asked member 1 to call back. The error pages are reached as people reach
them: a typo, another member's workspace (carol), the secretariat's reports (alice).

A visit is a GET, or a POST of `data` made from the page at `start` (as a person sends the
form they see there); `user` None is someone not signed in. `password_only` stops the login
after the password, on the second-factor page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from aid_alliance.text import PlainTextField
from cases.bills import services as bills
from cases.intake import services as intake
from cases.intake.forms import SECTION_FORMS
from cases.leads import services as lead_services
from cases.models import Application
from cases.review import services as workflow
from organizations.models import Hospital, User
from organizations.services import user_create
from reports.models import ReportRun
from tests.conftest import second_factor_device
from tests.intake_data import SECTIONS
from tests.test_bills import RECEIPT
from tests.test_workflow import project, querydict, review_of, reviewer_of, submitted

PRECHECK = {
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
ITEMS = "请补充近三个月的住院费用清单"
APPROVAL_NOTE = "理事会 3 月讨论"
HOSPITAL = "首都医科大学附属北京儿童医院"  # in the hospital directory (issue 17)


@dataclass(frozen=True)
class Visit:
    user: str | None
    name: str
    url: str
    data: dict = field(default_factory=dict)  # a POST when not empty
    start: str = ""  # the page whose form sends `data`
    password_only: bool = False  # signed in with the password, the second factor not yet
    status: int = 0  # the error page expected (403, 404); else 200, or 400 for a refused form

    @property
    def is_post(self) -> bool:
        return bool(self.data)


def named_pages(people) -> tuple[Application, list[Visit]]:
    """Make the state described in the module's docstring; the application and the
    visits, user by user."""
    alice, bob = people["alice"], people["bob"]
    # Treated at a hospital of the directory, with the guardian's consent to share with it
    # (issue 17): the hospital user's pages show it, the members' show its confirmation.
    application = submitted(alice, D={"treating_hospital": HOSPITAL}, H={"consent_hospital": "on"})
    user_create(
        by=None,
        username="hana",
        password="pw",
        role=User.Role.HOSPITAL_STAFF,
        hospital=Hospital.objects.get(code="bch"),
    )
    ref = application.reference
    crcf, cccf, aiyou = (review_of(application, n) for n in (1, 2, 3))
    workflow.review_request_info(review=aiyou, items=ITEMS, by=reviewer_of(3, "erin"))
    # Changed in answer to the request: the history shows each change by code, label and value.
    changes = {"ethnicity": "回族", "registration": "rural", "address": "北京市朝阳区某街道 2 号"}
    saved = intake.section_save(
        application=application,
        section="A",
        data=querydict({**SECTIONS["A"], "id_number": application.child.id_number, **changes}),
        by=alice,
    )
    assert not saved.form.errors, saved.form.errors
    pledge = workflow.review_approve(
        review=crcf, project=project("P01"), amount=Decimal(30000), by=bob
    )
    receipt = bills.receipt_record(application=application, by=bob, **RECEIPT)
    run = ReportRun.objects.create(
        kind=ReportRun.Kind.values[0],
        period="2026-11",
        format=ReportRun.Format.values[0],
        requested_by=people["sam"],
    )
    draft = intake.application_create(by=alice).reference
    # A family asked member 1 to call back from the pre-check (issue 17).
    member = application.member
    lead = lead_services.lead_create(
        member=member,
        name=SECTIONS["B"]["g1_name"],
        phone=SECTIONS["B"]["g1_phone"],
        region="530000",
        category=application.category,
        consent=True,
    )
    for name in ("bob", "dave", "sam", "hana"):  # enrolled: their login asks for the code
        second_factor_device(User.objects.get(username=name))
    detail = f"/applications/{ref}/"
    public = ["/", "/directory/", "/directory/P01/", "/eligibility/"]
    staff = [*public, "/members/crcf/"]
    # API tokens need a second factor: a caseworker without one is sent to enrol (erin's).
    tokens = "/accounts/tokens/"

    def gets(user, urls):
        return [Visit(user, url, url) for url in urls]

    precheck = [
        Visit(None, "pre-check results", "/eligibility/", PRECHECK, "/eligibility/"),
        Visit(
            None,
            "pre-check errors",
            "/eligibility/",
            {**PRECHECK, "dob": "2018-02-30", "household_size": "0"},
            "/eligibility/",
        ),
    ]
    approve = f"/reviews/{cccf.pk}/approve/"
    approval = {"project": "P04", "amount": "10000", "note": APPROVAL_NOTE}
    return application, [
        *gets(
            None,
            [
                *public,
                "/status/",
                "/accounts/login/",
                "/accounts/password_reset/",
                f"/contact-me/{member.short_name}/",
                f"/contact-me/{member.short_name}/sent/",
            ],
        ),
        *precheck,
        Visit(
            None,
            "family status",
            "/status/",
            {"reference": ref, "phone": SECTIONS["B"]["g1_phone"]},
            "/status/",
        ),
        Visit(
            None,
            "refused login",
            "/accounts/login/",
            {"username": "alice", "password": "wrong"},
            "/accounts/login/",
        ),
        Visit(None, "page not found", "/no-such-page/", status=404),
        *gets(
            "alice",
            [
                *staff,
                "/applications/",
                detail,
                f"{detail}edit/",
                f"{detail}receipt/",
                f"{detail}withdraw-consent/",
                f"/applications/{draft}/edit/",
                f"/applications/{draft}/discard/",
                "/leads/",
                f"/leads/{lead.pk}/",
            ],
        ),
        Visit(
            "alice",
            "refused submission",
            f"/applications/{draft}/submit/",
            {"confirm": "yes"},
            f"/applications/{draft}/edit/",
        ),
        Visit("alice", "the secretariat's reports", "/reports/", status=403),
        Visit("bob", "second factor", "/accounts/otp/", password_only=True),
        *gets(
            "bob",
            [
                *staff,
                tokens,
                "/inbox/",
                detail,
                "/payments/",
                f"/pledges/{pledge.pk}/",
                f"/receipts/{receipt.pk}/",
                f"{detail}receipts/new/",
            ],
        ),
        Visit(
            "bob",
            "refused receipt",
            f"{detail}receipts/new/",
            {**{k: str(v) for k, v in RECEIPT.items()}, "issued_on": "2026-02-30", "total": "五万"},
            f"{detail}receipts/new/",
        ),
        Visit("carol", "another member's workspace", "/members/crcf/", status=404),
        *gets("dave", ["/inbox/", detail]),
        Visit("dave", "refused approval", approve, {**approval, "amount": "三万元"}, detail),
        Visit("dave", "approval to confirm", approve, approval, detail),
        *gets(
            "sam",
            [
                *staff,
                tokens,
                "/reports/",
                f"/reports/runs/{run.pk}/",
                "/access-records/",
                detail,
                "/members/crcf/accounts/",
                "/hospitals/match/",
            ],
        ),
        *gets(
            "hana",
            [
                *public,
                tokens,
                "/hospital/",
                "/hospital/?show=confirmed",
                f"/hospital/applications/{ref}/",
                f"/hospital/applications/{ref}/receipts/new/",
            ],
        ),
        Visit("erin", "second factor enrolment", "/accounts/otp/enrol/", password_only=True),
    ]


def typed_texts(application) -> set[str]:
    """What people typed as free text (the sections' plain-text fields: names, addresses,
    hospitals, banks; the receipt's hospital; the notes above): data, kept as typed in every
    language. Choices (ethnic group, relationship…) are not typed: they follow the language."""
    typed = set()
    for key, values in SECTIONS.items():
        fields = SECTION_FORMS[key](application=application).fields
        typed |= {
            value
            for name, value in values.items()
            if isinstance(fields.get(name), PlainTextField) and isinstance(value, str)
        }
    return typed | {RECEIPT["hospital"], ITEMS, APPROVAL_NOTE, HOSPITAL}
