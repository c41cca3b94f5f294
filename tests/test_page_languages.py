"""Every page in Chinese has no English left, and in English no Chinese outside proper
names (issue 16, finding 5). The pages are rendered for the named users as they reach them;
the visible text (tags, scripts and styles stripped; the titles, labels and placeholders
people hear or read kept) is scanned."""

import html
import re

import pytest
from django.conf import settings

from cases.intake import services as intake
from cases.leads import services as lead_services
from cases.models import MemberReview
from cases.review import services as workflow
from organizations.models import Hospital, User
from organizations.services import user_create
from tests.test_workflow import review_of, submitted

pytestmark = pytest.mark.django_db

# Proper names and codes that are the same in both languages.
ALLOWED_EN = {
    "API",
    "PDF",
    "CSV",
    "XLSX",
    "ICD",
    "ID",
    "OTP",
    "TOTP",
    "JSON",
    "QR",
    "DB",
    "CN",
    "OK",
    "P",
    "v",
    "alice",
    "bob",
    "carol",
    "dave",
    "sam",
    "root",
    "hana",
    "e-mail",
    "English",  # the language switcher names each language in itself
    "Google",
    "Microsoft",
    "FreeOTP",
    "Authenticator",  # the authenticator apps' names
}
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{1,}")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
HAN = re.compile(r"[\u4e00-\u9fff]+")


def visible_text(page: str) -> str:
    # Scripts and styles are not read; <code> is a literal (a command, a field's code).
    page = re.sub(r"(?is)<(script|style|code)\b.*?</\1>", " ", page)
    kept = re.findall(r'(?i)\b(?:title|aria-label|placeholder|alt)="([^"]*)"', page)
    text = re.sub(r"(?s)<[^>]+>", " ", page)
    text = html.unescape(" ".join([text, *kept]))
    return re.sub(r"`[^`]*`", " ", text)  # a command quoted as in a terminal


def english_left(text: str) -> list[str]:
    words = {w for w in WORD.findall(text) if w not in ALLOWED_EN and not w.isupper()}
    return sorted(words | set(SNAKE.findall(text)))


@pytest.fixture
def pages(people):
    """(user, url) of the pages each named user reaches, with one routed application."""
    # Treated at a hospital of the directory, with the guardian's consent to share with it
    # (issue 17): the hospital user's pages show it, the members' show its confirmation.
    application = submitted(
        people["alice"],
        D={"treating_hospital": "首都医科大学附属北京儿童医院"},
        H={"consent_hospital": "on"},
    )
    people["hana"] = user_create(
        by=None,
        username="hana",
        password="pw",
        role=User.Role.HOSPITAL_STAFF,
        hospital=Hospital.objects.get(code="bch"),
    )
    bob_review = review_of(application, 1)
    ref = application.reference
    # The caseworker's home with a request waiting for her answer and a draft (issue 16).
    workflow.review_request_info(
        review=review_of(application, 2), items="请补充病案首页", by=people["dave"]
    )
    draft = intake.application_create(by=people["alice"]).reference
    common = ["/", "/directory/", "/eligibility/", "/accounts/tokens/"]
    member = application.member
    lead = lead_services.lead_create(
        member=member,
        name="王大明",
        phone="13800138000",
        region="530000",
        category=application.category,
        consent=True,
    )
    return {
        "alice": [
            *common,
            "/applications/",
            f"/applications/{ref}/",
            f"/applications/{ref}/edit/",
            "/leads/",
            f"/leads/{lead.pk}/",
            f"/applications/{draft}/discard/",
        ],
        "bob": [
            *common,
            "/inbox/",
            f"/applications/{ref}/",
            "/payments/",
            f"/pledges/{bob_review.pk}/",
        ]
        if bob_review.state in MemberReview.PLEDGING_STATES
        else [*common, "/inbox/", f"/applications/{ref}/", "/payments/"],
        "sam": [
            *common,
            "/reports/",
            "/access-records/",
            f"/applications/{ref}/",
            "/hospitals/match/",
        ],
        "hana": [
            *common,
            "/hospital/",
            "/hospital/?show=confirmed",
            f"/hospital/applications/{ref}/",
            f"/hospital/applications/{ref}/receipts/new/",
        ],
        None: [
            "/status/",
            "/accounts/login/",
            "/eligibility/",
            f"/contact-me/{member.short_name}/",
            f"/contact-me/{member.short_name}/sent/",
        ],
    }


def _render(client, people, user, url, language):
    if user:
        client.force_login(people[user])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url, follow=True)
    assert response.status_code == 200, (user, url, response.status_code)
    return visible_text(response.content.decode())


def test_no_english_is_left_in_the_chinese_pages(client, people, pages):
    found = {}
    for user, urls in pages.items():
        for url in urls:
            words = english_left(_render(client, people, user, url, "zh-hans"))
            if words:
                found[f"{user} {url}"] = words
    assert not found, "\n" + "\n".join(f"{page}: {' '.join(left)}" for page, left in found.items())


@pytest.mark.xfail(
    strict=True,
    reason="issue 16 finding 5, not done yet: member names, disease categories and choices "
    "are shown by name_zh in English; region names and typed data (names, hospitals) need "
    "an allow-list. Strict: remove this mark when the English pages pass.",
)
def test_no_chinese_is_left_in_the_english_pages(client, people, pages):
    found = {}
    for user, urls in pages.items():
        for url in urls:
            chinese = sorted(set(HAN.findall(_render(client, people, user, url, "en"))))
            if chinese:
                found[f"{user} {url}"] = chinese
    assert not found, "\n" + "\n".join(f"{page}: {' '.join(left)}" for page, left in found.items())
