"""Families find their way (issue 16, finding 4): /status/ linked from the home page, the
navigation and the login page; every member's phone and e-mail required in the directory
and shown where a family needs one; the pre-check says how to apply and that members
together never pay beyond the funding gap."""

import re

import pytest
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from organizations.admin import MemberOrganizationForm
from organizations.models import MemberOrganization
from tests.conftest import client_for
from tests.test_family_status import PHONE, look_up
from tests.test_workflow import submitted

pytestmark = pytest.mark.django_db


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return escape(gettext(message))


def test_the_home_page_and_the_navigation_link_to_the_status_page(client, directory):
    html = client.get("/").content.decode()
    nav = html.split('<nav class="wrap main-nav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/status/"' in nav
    cards = html.split('<section class="cards"', 1)[1].split("</section>", 1)[0]
    assert 'href="/status/"' in cards


def test_the_login_page_links_families_to_the_status_page(client, directory):
    html = client.get("/accounts/login/").content.decode()
    hint = html.split(zh("Families do not need an account."), 1)[1].split("</p>", 1)[0]
    assert 'href="/status/"' in hint


def test_the_printed_receipt_gives_the_members_phone_and_e_mail(client, people):
    application = submitted(people["alice"])
    member = application.member
    html = client_for(client, people["alice"]).get(
        f"/applications/{application.reference}/receipt/"
    )
    html = html.content.decode()
    assert member.contact_phone and member.contact_email
    assert f'href="tel:{member.contact_phone.replace(" ", "")}"' in html
    assert f'href="mailto:{member.contact_email}"' in html


def test_the_lockout_page_lists_every_members_phone_without_naming_the_application(client, people):
    application = submitted(people["alice"])
    client.defaults["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(5):
        look_up(client, application.reference, "13700137000")
    response = look_up(client, application.reference, PHONE)
    assert response.status_code == 429
    html = response.content.decode()
    members = MemberOrganization.objects.filter(is_active=True)
    assert members.count() == 8
    for member in members:
        assert f'href="tel:{member.contact_phone.replace(" ", "")}"' in html
        assert f'href="mailto:{member.contact_email}"' in html
    assert application.reference not in html


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


def test_the_pre_check_says_how_to_apply_and_that_the_gap_caps_the_total(client, directory):
    html = client.post("/eligibility/", PRECHECK).content.decode()
    results = html.count('<li class="result eligible">')
    assert results > 0
    assert html.count('<div class="how-to-apply">') == results
    assert html.count(zh("How to apply")) == results
    how = html.split('<div class="how-to-apply">')[1].split("</div>", 1)[0]
    assert 'href="tel:' in how and 'href="mailto:' in how
    assert (
        zh(
            "Together the members never pay more than the funding gap: the cost left after "
            "insurance and other aid. The amounts below are each member's suggestion; they do "
            "not add up beyond that gap."
        )
        in html
    )


def test_the_directory_form_requires_a_members_phone_and_e_mail(directory):
    member = directory[0]
    data = {
        "number": member.number,
        "short_name": member.short_name,
        "name_zh": member.name_zh,
        "name_en": member.name_en,
        "kind": member.kind,
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
        "is_active": "on",
        "review_days": 30,
    }
    form = MemberOrganizationForm(data=data, instance=member)
    assert not form.is_valid()
    assert set(form.errors) == {"contact_phone", "contact_email"}
    form = MemberOrganizationForm(
        data={**data, "contact_phone": "010-1234 5678", "contact_email": "a@example.org"},
        instance=member,
    )
    assert form.is_valid(), form.errors


def test_the_secretariat_cannot_save_a_member_without_a_phone_in_the_admin(client, people):
    member = MemberOrganization.objects.get(number=3)
    root = client_for(client, people["root"])
    page = root.get(f"/admin/organizations/memberorganization/{member.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("contact_phone", "contact_email"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)[0]
        assert " required" in tag, tag
    refused = root.post(
        f"/admin/organizations/memberorganization/{member.pk}/change/",
        {
            "number": member.number,
            "short_name": member.short_name,
            "name_zh": member.name_zh,
            "name_en": member.name_en,
            "kind": member.kind,
            "contact_phone": "",
            "contact_email": "",
            "is_active": "on",
            "review_days": 30,
        },
    )
    assert refused.status_code == 200  # the form again, with its errors
    member.refresh_from_db()
    assert member.contact_phone
