"""Call-back requests from the pre-check (standard.md §3 "联系我", issue 17): a family asks
one member to call it; the request is that member's lead (new → contacted → became
application <ref>, or closed with a reason), with a history row per change; another
member never sees it; spam meets a honeypot and a 429; the family gets the reference by
text when an application is opened from it; the retention command clears its name and
phone after LEAD_RETENTION_DAYS."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases import notify
from cases.leads import selectors, services
from cases.models import Application, ApplicationEvent, Lead, LeadEvent
from organizations.models import DiseaseCategory, MemberOrganization, RateLimitHit
from tests.conftest import StaffClient
from tests.test_family_status import page, zh
from tests.test_family_wayfinding import PRECHECK

pytestmark = pytest.mark.django_db

VALID = {
    "name": "王大明",
    "phone": "138 0013 8000",
    "region": "53",
    "category": "LEUK",
    "note": "孩子在昆明住院",
    "consent": "on",
}


@pytest.fixture
def m1(directory):
    return directory[0]


@pytest.fixture
def family(client):
    client.defaults["REMOTE_ADDR"] = "203.0.113.9"
    return client


def staff(user):
    client = StaffClient()
    client.force_login(user)
    return client


def form_url(member):
    return f"/contact-me/{member.short_name}/"


def send(family, member, **changes):
    return family.post(form_url(member), {**VALID, **changes})


def a_lead(member, phone="13800138000", **extra):
    return services.lead_create(
        member=member,
        name=extra.pop("name", "王大明"),
        phone=phone,
        region="530000",
        category=DiseaseCategory.objects.get(code="LEUK"),
        consent=True,
        **extra,
    )


def test_the_pre_check_results_offer_each_helping_member_once(family, directory):
    response = family.post("/eligibility/", PRECHECK)
    html = page(response)
    links = re.findall(r'href="/contact-me/([\w-]+)/\?region=110105&amp;category=LEUK"', html)
    assert links and len(links) == len(set(links))


def test_a_family_sends_a_request_and_it_lands_with_that_member_only(family, m1, people):
    assert LEUK_OK()
    response = send(family, m1)
    assert response.status_code == 302 and response.url == f"/contact-me/{m1.short_name}/sent/"
    lead = Lead.objects.get()
    assert (lead.member, lead.name, lead.phone, lead.region) == (
        m1,
        "王大明",
        "13800138000",
        "530000",
    )
    assert lead.state == Lead.State.NEW and lead.consented_at
    (event,) = LeadEvent.objects.all()
    assert event.actor is None and event.to_state == "new"
    # In the member's list, masked; in no other member's.
    html = page(staff(people["alice"]).get("/leads/"))
    assert "王**" in html and "138****8000" in html
    assert "王大明" not in html and "13800138000" not in html
    assert "王**" not in page(staff(people["carol"]).get("/leads/"))


def LEUK_OK():  # noqa: N802 - the demo directory has the leukaemia category
    return DiseaseCategory.objects.filter(code="LEUK").exists()


def test_the_form_prefills_what_the_pre_check_knows(family, m1):
    html = page(family.get(form_url(m1) + "?region=530100&category=LEUK"))
    assert re.search(r'<option value="53" selected>', html)
    assert re.search(r'<option value="LEUK" selected>', html)


def test_consent_is_required_and_a_refused_form_keeps_what_was_typed(family, m1):
    response = send(family, m1, consent="", phone="12345")
    assert response.status_code == 400
    html = page(response)
    assert 'id="error-summary"' in html
    assert 'href="#id_consent"' in html and 'href="#id_phone"' in html
    assert zh("Tick the box to agree to be contacted: without it we cannot call.") in html
    assert 'value="王大明"' in html and 'value="12345"' in html and "孩子在昆明住院" in html
    assert re.search(r'<input[^>]*name="phone"[^>]*aria-invalid="true"', html)
    assert not Lead.objects.exists()


def test_an_inactive_or_unknown_member_takes_no_request(family, m1):
    assert family.get("/contact-me/no-such-member/").status_code == 404
    MemberOrganization.objects.filter(pk=m1.pk).update(is_active=False)
    assert send(family, m1).status_code == 404
    assert not Lead.objects.exists()


def test_lead_spam_gets_a_429_per_address_and_per_phone(family, m1, settings):
    settings.LEAD_MAX_REQUESTS = 3
    for n in range(3):
        assert send(family, m1, phone=f"1380013800{n}").status_code == 302
    response = send(family, m1, phone="13800138009")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert zh(
        "Too many call-back requests were sent from here or for this phone number. "
        "Your earlier request has arrived: the charity will call you."
    ) in page(response)
    assert Lead.objects.count() == 3
    # Per phone: the same number from other addresses.
    RateLimitHit.objects.all().delete()
    for n in range(3):
        family.defaults["REMOTE_ADDR"] = f"198.51.100.{n}"
        assert send(family, m1).status_code == 302
    family.defaults["REMOTE_ADDR"] = "198.51.100.200"
    assert send(family, m1).status_code == 429
    assert Lead.objects.count() == 6


def test_a_robot_filling_the_hidden_field_is_thanked_and_nothing_is_kept(family, m1):
    response = send(family, m1, website="http://spam.example")
    assert response.status_code == 302
    assert not Lead.objects.exists()


def test_another_members_staff_get_404_on_every_lead_page(m1, people):
    lead = a_lead(m1)
    carol = staff(people["carol"])
    for path in ("", "contacted/", "close/", "open-application/"):
        url = f"/leads/{lead.pk}/{path}"
        response = carol.post(url, {"reason": "spam"}) if path else carol.get(url)
        assert response.status_code == 404, url
    assert staff(people["sam"]).get("/leads/").status_code == 403
    assert staff(people["sam"]).get(f"/leads/{lead.pk}/").status_code == 403
    lead.refresh_from_db()
    assert lead.state == Lead.State.NEW and lead.application is None


def test_contacted_then_closed_with_a_reason_each_with_a_history_row(m1, people):
    lead = a_lead(m1)
    alice = staff(people["alice"])
    alice.post(f"/leads/{lead.pk}/contacted/", {"note": "已电话联系"})
    response = alice.post(f"/leads/{lead.pk}/close/", {"reason": "", "note": "x"})
    assert response.status_code == 400
    assert 'href="#id_reason"' in page(response)
    alice.post(f"/leads/{lead.pk}/close/", {"reason": "not_eligible", "note": ""})
    lead.refresh_from_db()
    assert lead.state == Lead.State.CLOSED and lead.closing_reason == "not_eligible"
    assert list(lead.events.values_list("from_state", "to_state")) == [
        ("", "new"),
        ("new", "contacted"),
        ("contacted", "closed"),
    ]
    html = page(alice.get(f"/leads/{lead.pk}/"))
    assert "已电话联系" in html and "alice" in html
    # Closed is final.
    alice.post(f"/leads/{lead.pk}/open-application/")
    assert Lead.objects.get().application is None


def test_opening_an_application_prefills_a_draft_and_texts_the_reference(
    m1, people, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://aid.example.org"
    lead = a_lead(m1)
    notify.LoggingNotifier.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff(people["alice"]).post(f"/leads/{lead.pk}/open-application/")
    lead.refresh_from_db()
    application = lead.application
    assert (
        response.status_code == 302
        and response.url == f"/applications/{application.reference}/edit/"
    )
    assert lead.state == Lead.State.APPLICATION
    assert application.status == Application.Status.DRAFT and application.member == m1
    guardian = application.guardians.get()
    assert (guardian.name, guardian.phone, guardian.is_primary) == ("王大明", "13800138000", True)
    assert application.child.household_region == "530000"
    assert application.category.code == "LEUK"
    assert application.events.filter(action=ApplicationEvent.Action.OPENED_FROM_LEAD).exists()
    ((phone, text),) = notify.LoggingNotifier.sent
    assert phone == "13800138000"
    assert application.reference in text and "https://aid.example.org/status/" in text
    html = page(staff(people["alice"]).get("/leads/"))
    assert application.reference in html


def test_the_list_costs_the_same_queries_for_one_lead_or_thirty(
    m1, people, django_assert_num_queries
):
    alice = staff(people["alice"])
    a_lead(m1)
    alice.get("/leads/")  # warm the session
    # Session, user with its member (organizations.auth_backends), the count, the page with
    # categories and applications, the counts by state.
    with django_assert_num_queries(5):
        assert alice.get("/leads/").status_code == 200
    for n in range(29):
        a_lead(m1, phone=f"139001390{n:02d}")
    with django_assert_num_queries(5):
        html = page(alice.get("/leads/"))
    assert html.count('class="lead state-new"') == 25


def test_masking():
    assert selectors.masked_name("王大明") == "王**"
    assert selectors.masked_phone("13800138000") == "138****8000"


def test_retention_clears_the_name_phone_and_note_of_old_requests(m1, people):
    old = a_lead(m1, note="孩子在昆明住院")
    services.lead_mark_contacted(lead=old, by=people["alice"], note="电话 13800138000")
    recent = a_lead(m1, phone="13900139000")
    Lead.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=400))
    out = io.StringIO()
    call_command("anonymise_closed", "--by=sam", stdout=out)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.name, old.phone, old.note) == ("", "", "") and old.anonymised_at
    assert not old.events.exclude(note="").exists()
    assert old.region == "530000" and old.category.code == "LEUK"
    assert recent.phone == "13900139000" and recent.anonymised_at is None
    assert "1 call-back requests" in out.getvalue()


def test_a_phone_in_other_scripts_digits_is_refused(family, m1):
    response = send(family, m1, phone="13८00138000")  # a Devanagari 8
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_the_text_of_an_opened_draft_says_the_status_page_finds_it_once_submitted(
    m1, people, settings, django_capture_on_commit_callbacks
):
    # The status page does not find drafts: the text must not send the family there now.
    settings.SITE_URL = "https://aid.example.org"
    lead = a_lead(m1)
    notify.LoggingNotifier.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        staff(people["alice"]).post(f"/leads/{lead.pk}/open-application/")
    ((_phone, text),) = notify.LoggingNotifier.sent
    assert "申请提交后" in text and "https://aid.example.org/status/" in text


def test_many_old_requests_are_cleared_in_batches(m1, people, monkeypatch):
    """A statement takes at most 65,535 parameters (psycopg 3's server-side binding): the
    requests are cleared a batch at a time, every one of them."""
    from cases.privacy import retention

    monkeypatch.setattr(retention, "LEAD_BATCH", 2)
    old = [a_lead(m1, phone=f"1390013{n:04d}") for n in range(5)]
    for lead in old:
        services.lead_mark_contacted(lead=lead, by=people["alice"], note="电话 13800138000")
    recent = a_lead(m1, phone="13900139999")
    Lead.objects.filter(pk__in=[lead.pk for lead in old]).update(
        updated_at=timezone.now() - timedelta(days=400)
    )
    assert retention.anonymise_leads(older_than_days=365) == 5
    assert set(Lead.objects.filter(anonymised_at__isnull=False).values_list("phone", "name")) == {
        ("", "")
    }
    assert Lead.objects.filter(anonymised_at__isnull=False).count() == 5
    assert not LeadEvent.objects.filter(lead__in=old).exclude(note="").exists()
    recent.refresh_from_db()
    assert recent.phone == "13900139999" and recent.anonymised_at is None
