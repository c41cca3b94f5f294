"""Getting into the family status page (standard.md §5 "family"): found with the reference
number and a guardian's phone, the same answer whatever is wrong, rate-limited in the
database per client address and per reference, never cached, open for a short time, and
the optional one-time code. What the page shows: tests/test_family_status_content.py."""

import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from cases import notify
from cases.family import selectors as family_status
from cases.family.selectors import FamilyState
from cases.family.views import CODE_KEY, NO_MATCH, VIEW_KEY, WRONG_CODE
from cases.intake import services
from cases.models import Guardian
from cases.references import check_character
from organizations import ratelimit
from organizations.models import RateLimitHit
from tests.intake_data import SECTIONS
from tests.test_workflow import querydict, submitted

pytestmark = pytest.mark.django_db

# The status page's rows in the one rate-limit table (organizations.ratelimit).
FAILURES = RateLimitHit.objects.filter(scope="family_status")

PHONE = SECTIONS["B"]["g1_phone"]  # 13800138000
OTHER_PHONE = SECTIONS["B"]["g2_phone"]  # 13900139000
STATUS = "/status/"
RESULT = "/status/result/"


@pytest.fixture
def application(people):
    return submitted(people["alice"])


@pytest.fixture
def family(client):
    """A family's browser: no account, Chinese (the default), one client address."""
    client.defaults["REMOTE_ADDR"] = "203.0.113.7"
    return client


def look_up(client, reference, phone, **extra):
    return client.post(STATUS, {"reference": reference, "phone": phone}, **extra)


def error_text(response) -> str:
    match = re.search(
        r'<div class="errors" role="alert" id="lookup-error">(.*?)</div>', page(response), re.S
    )
    return match[1] if match else ""


def page(response) -> str:
    return response.content.decode()


def zh(message, **params) -> str:
    """What the (Chinese) page shows for a message, as HTML. Computed through gettext, so
    that the tests hold before and after the translations are merged. With params, as
    {% blocktranslate %} writes it: only the values are escaped."""
    with translation.override("zh-hans"):
        text = gettext(message) if isinstance(message, str) else str(message)
    if params:
        return text % {name: escape(value) for name, value in params.items()}
    return escape(text)


def overall(html: str) -> str:
    return re.search(r'<h2 id="overall-word">(.*?)</h2>', html)[1]


def opened(client, application, phone=PHONE):
    response = look_up(client, application.reference, phone)
    assert response.status_code == 302 and response["Location"] == RESULT, page(response)
    return client.get(RESULT)


# --- finding the application ---------------------------------------------------------------


def test_a_family_finds_its_status_with_the_reference_and_the_guardians_phone(family, application):
    response = opened(family, application)
    assert response.status_code == 200
    html = page(response)
    assert application.reference in html
    assert 'lang="zh-Hans"' in html
    # Every member reviews it; papers are missing from the checklist, so that comes first.
    assert html.count('class="member-line state-reviewing"') == 8
    assert overall(html) == zh(FamilyState.DOCUMENTS.label)
    assert 'class="status-box state-documents"' in html
    contact = html[html.index('id="contact"') :]
    assert application.member.name_zh in contact


def test_the_reference_and_phone_may_be_typed_as_people_type_them(family, application):
    loose_reference = application.reference.lower().replace("-", " ")
    for phone in (
        "+86 138 0013 8000",
        "138-0013-8000",
        "１３８００１３８０００",
        "0086 13800138000",
    ):
        family.cookies.clear()
        response = look_up(family, loose_reference, phone)
        assert response.status_code == 302, (phone, error_text(response))


def test_the_second_guardians_phone_opens_it_too(family, application):
    assert opened(family, application, OTHER_PHONE).status_code == 200


def test_a_wrong_phone_and_a_wrong_reference_get_the_same_page(family, application, people):
    other = submitted(people["alice"], sequence="125")
    wrong_phone = look_up(family, application.reference, "13700137000")
    wrong_reference = look_up(family, some_reference(1), PHONE)
    last = application.reference[-1]
    mistyped = look_up(family, application.reference[:-1] + ("1" if last == "0" else "0"), PHONE)
    garbage = look_up(family, "not a reference", PHONE)
    # The phone of another application's guardian does not open this one either.
    Guardian.objects.filter(application=other, position=1).update(phone="13600136000")
    someone_elses_phone = look_up(family, application.reference, "13600136000")

    def without_input(response):
        html = re.sub(
            r'name="csrfmiddlewaretoken" value="[^"]+"| nonce="[^"]+"', "", page(response)
        )
        return re.sub(r'(name="(reference|phone)"[^>]*?) value="[^"]*"', r"\1", html)

    answers = [wrong_phone, wrong_reference, mistyped, garbage, someone_elses_phone]
    assert {r.status_code for r in answers} == {200}
    assert error_text(wrong_phone) == f"<p>{zh(NO_MATCH)}</p>"
    assert len({error_text(r) for r in answers}) == 1
    assert len({without_input(r) for r in answers}) == 1


def test_a_draft_is_never_found(family, people):
    draft = services.application_create(by=people["alice"])
    services.section_save(
        application=draft,
        section="B",
        data=querydict(SECTIONS["B"]),
        by=people["alice"],
    )
    assert draft.guardians.filter(phone=PHONE).exists()
    response = look_up(family, draft.reference, PHONE)
    assert response.status_code == 200 and error_text(response) == f"<p>{zh(NO_MATCH)}</p>"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"reference": "", "phone": ""},
        {"reference": "x" * 500, "phone": "1" * 200},
        {"reference": "DB-2026-\x00", "phone": "138\x00"},
        {"reference": "<script>", "phone": "１３８"},
        {"reference": "DB-0000-000000", "phone": "+86"},
        {"phone": PHONE},
    ],
)
def test_bad_input_never_breaks_the_page(family, application, data):
    response = family.post(STATUS, data)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_only_get_and_post(family):
    assert family.put(STATUS).status_code == 405
    assert family.post(RESULT).status_code == 405
    assert family.get("/status/leave/").status_code == 405


# --- the rate limit --------------------------------------------------------------------------


def test_the_sixth_failure_gets_429_with_when_to_retry(family, application):
    for _ in range(5):
        assert look_up(family, application.reference, "13700137000").status_code == 200
    response = look_up(family, application.reference, "13700137000")
    assert response.status_code == 429
    html = page(response)
    assert 'id="rate-limited"' in html
    assert (
        zh("There were too many wrong tries. To protect your information, checking is paused.")
        in html
    )
    retry = int(response["Retry-After"])
    assert 14 * 60 < retry <= 15 * 60
    # When to retry, in China's time, to the minute.
    at = timezone.localtime(timezone.now() + timedelta(seconds=retry))
    assert f"{at:%H:%M}" in html or f"{at - timedelta(seconds=2):%H:%M}" in html
    assert "no-store" in response["Cache-Control"]
    # While the limit holds, even the right phone gets 429: nothing is checked.
    assert look_up(family, application.reference, PHONE).status_code == 429
    assert FAILURES.count() == 5


def test_the_limit_per_reference_holds_from_other_addresses(family, application):
    for n in range(5):
        look_up(family, application.reference, "13700137000", REMOTE_ADDR=f"198.51.100.{n}")
    response = look_up(family, application.reference, PHONE, REMOTE_ADDR="192.0.2.99")
    assert response.status_code == 429
    # Another application is not held up by it.
    assert look_up(family, "DB-2026-AAAAAA", PHONE, REMOTE_ADDR="192.0.2.99").status_code == 200


def test_the_limit_per_address_holds_across_references(family, application, people):
    other = submitted(people["alice"], sequence="125")
    for n in range(5):
        assert look_up(family, some_reference(n), PHONE).status_code == 200
    assert look_up(family, other.reference, PHONE).status_code == 429
    # The same reference from another address is fine.
    other_client = look_up(family, other.reference, PHONE, REMOTE_ADDR="192.0.2.1")
    assert other_client.status_code == 302


def some_reference(n: int) -> str:
    """A well-formed reference (right check character) that no application has."""
    payload = f"2026ABCD{n}"
    return f"DB-2026-ABCD{n}{check_character(payload)}"


def test_failures_leave_the_window_and_are_purged(family, application):
    for _ in range(5):
        look_up(family, application.reference, "13700137000")
    assert look_up(family, application.reference, PHONE).status_code == 429
    window = timedelta(seconds=django_settings.FAMILY_STATUS_WINDOW_SECONDS)
    FAILURES.update(at=timezone.now() - window - timedelta(seconds=1))
    assert look_up(family, application.reference, PHONE).status_code == 302
    assert not FAILURES.exists()


def test_successful_lookups_do_not_count(family, application):
    for _ in range(8):
        family.cookies.clear()
        assert look_up(family, application.reference, PHONE).status_code == 302
    assert not FAILURES.exists()


def test_neither_address_nor_reference_is_stored_in_clear(family, application):
    look_up(family, application.reference, "13700137000")
    row = FAILURES.get()
    stored = f"{row.first_key} {row.second_key}"
    assert "203.0.113.7" not in stored and application.reference not in stored
    assert len(row.first_key) == len(row.second_key) == 64


def test_limits_come_from_the_settings(family, application, settings):
    settings.FAMILY_STATUS_MAX_FAILURES = 2
    for _ in range(2):
        look_up(family, application.reference, "13700137000")
    assert look_up(family, application.reference, PHONE).status_code == 429


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(family, application, settings):
    for n in range(5):
        look_up(family, f"DB-2026-{n}", PHONE, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    # A client cannot escape its limit by writing the header itself.
    assert look_up(family, "x", PHONE, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429

    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    # Behind one proxy the client is the rightmost entry; what the client wrote is ignored.
    for n in range(5):
        look_up(family, "x", PHONE, HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.5", **proxy)
    blocked = look_up(family, "x", PHONE, HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.5", **proxy)
    assert blocked.status_code == 429
    other = look_up(family, "x", PHONE, HTTP_X_FORWARDED_FOR="198.51.100.6", **proxy)
    assert other.status_code == 200


def test_client_addresses_as_counted():
    def address(remote, forwarded="", hops=0):
        request = SimpleNamespace(META={"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded})
        with override_settings(TRUSTED_PROXY_COUNT=hops):
            return family_status.client_address(request)

    assert address("203.0.113.7") == "203.0.113.7"
    # An IPv6 subscriber holds a /64: changing the last half does not make a new client.
    assert address("2001:db8:1:2:aaaa::1") == address("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address("::ffff:203.0.113.7") == "203.0.113.7"
    assert address("10.0.0.1", "1.1.1.1, 2.2.2.2, 3.3.3.3", hops=2) == "2.2.2.2"
    # Fewer entries than proxies: the header is not what the proxies write; use the peer.
    assert address("10.0.0.1", "3.3.3.3", hops=2) == "10.0.0.1"
    assert address("") == ""


def test_phone_normalisation():
    assert family_status.normalize_phone("+86 138-0013-8000") == "13800138000"
    assert family_status.normalize_phone("８６１３８００１３８０００") == "13800138000"
    assert family_status.normalize_phone("(138) 0013 8000") == "13800138000"
    assert family_status.normalize_phone("86") == "86"


# --- the verified page ------------------------------------------------------------------------


def test_every_response_of_the_page_says_no_store(family, application):
    responses = [
        family.get(STATUS),
        look_up(family, application.reference, "13700137000"),
        look_up(family, application.reference, PHONE),
        family.get(RESULT),
        family.post("/status/leave/"),
        family.get(RESULT),
        family.get("/status/code/"),
    ]
    for _ in range(5):
        responses.append(look_up(family, application.reference, "13700137000"))
    assert responses[-1].status_code == 429
    for response in responses:
        assert "no-store" in response["Cache-Control"], response


def test_the_page_closes_after_its_lifetime(family, application, settings):
    settings.FAMILY_STATUS_VIEW_SECONDS = 120
    before = timezone.now().timestamp()
    opened(family, application)
    session = family.session
    until = session[VIEW_KEY]["until"]
    assert before + 119 <= until <= before + 122
    # Time passes: the session's deadline is now behind us.
    session[VIEW_KEY] = {**session[VIEW_KEY], "until": int(before) - 1}
    session.save()
    response = family.get(RESULT)
    assert response.status_code == 302 and response["Location"] == STATUS
    assert VIEW_KEY not in family.session
    closed = "To protect your information the page closed. Please enter the details again."
    assert zh(closed) in page(family.get(STATUS))
    # And it stays closed.
    assert family.get(RESULT)["Location"] == STATUS


def test_the_result_page_needs_a_lookup_first(family, application):
    assert family.get(RESULT)["Location"] == STATUS


def test_done_closes_the_page_at_once(family, application):
    opened(family, application)
    assert family.post("/status/leave/")["Location"] == STATUS
    assert family.get(RESULT)["Location"] == STATUS


def test_the_session_key_changes_when_the_page_opens(family, application):
    family.get(STATUS)
    family.session.save()
    planted = family.session.session_key
    opened(family, application)
    assert family.session.session_key != planted


def test_neither_reference_nor_phone_goes_into_a_url(family, application):
    response = look_up(family, application.reference, PHONE)
    assert application.reference not in response["Location"]
    assert PHONE not in response["Location"]


# --- the optional one-time code ----------------------------------------------------------------


@pytest.fixture
def sent(monkeypatch):
    monkeypatch.setattr(notify.LoggingNotifier, "sent", [])
    return notify.LoggingNotifier.sent


def test_no_code_is_sent_by_default(family, application, sent):
    assert not django_settings.FAMILY_STATUS_ONE_TIME_CODE
    opened(family, application)
    assert sent == []


@pytest.fixture
def with_code(settings):
    settings.FAMILY_STATUS_ONE_TIME_CODE = True


def _code_from(sent) -> str:
    phone, text = sent[-1]
    assert phone == PHONE
    return re.findall(r"\b\d{6}\b", text.replace(reference_in(text), ""))[-1]


def reference_in(text: str) -> str:
    return re.search(r"DB-\d{4}-[0-9A-Z]{6}", text)[0]


def test_with_the_code_switched_on_the_page_opens_only_with_the_texted_code(
    family, application, sent, with_code
):
    response = look_up(family, application.reference, "+86 138 0013 8000")
    assert response["Location"] == "/status/code/"
    assert family.get(RESULT)["Location"] == STATUS
    code = _code_from(sent)
    # In Chinese, whatever the language of the page.
    texted = (
        "Your code to see application %(reference)s is %(code)s. It works for 5 minutes. "
        "Do not tell anyone."
    )
    with translation.override("zh-hans"):
        # Like every text to a family, it ends with the status page's address (issue 17).
        expected = gettext(texted) % {"reference": application.reference, "code": code}
        assert sent[-1][1] == notify.family_text(expected, reference=application.reference)
    assert code not in str(dict(family.session))
    wrong = family.post("/status/code/", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 200 and zh(WRONG_CODE) in page(wrong)
    response = family.post("/status/code/", {"code": code})
    assert response["Location"] == RESULT
    assert family.get(RESULT).status_code == 200
    assert CODE_KEY not in family.session
    # The send's row went with the right code; the wrong code stays a failure.
    assert FAILURES.count() == 1


def test_three_wrong_codes_end_the_try(family, application, sent, with_code):
    look_up(family, application.reference, PHONE)
    code = _code_from(sent)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        assert family.post("/status/code/", {"code": wrong}).status_code == 200
    response = family.post("/status/code/", {"code": wrong})
    assert response["Location"] == STATUS
    assert family.post("/status/code/", {"code": code})["Location"] == STATUS
    assert family.get(RESULT)["Location"] == STATUS
    # The send and three wrong codes all count against the limit.
    assert FAILURES.count() == 4


def test_an_expired_code_does_not_open_the_page(family, application, sent, with_code):
    look_up(family, application.reference, PHONE)
    code = _code_from(sent)
    session = family.session
    session[CODE_KEY] = {**session[CODE_KEY], "until": int(timezone.now().timestamp()) - 1}
    session.save()
    assert family.post("/status/code/", {"code": code})["Location"] == STATUS
    assert family.get(RESULT)["Location"] == STATUS


def test_sending_codes_counts_against_the_limit(family, application, sent, with_code):
    for _ in range(5):
        family.cookies.clear()
        assert look_up(family, application.reference, PHONE).status_code == 302
    assert len(sent) == 5
    assert look_up(family, application.reference, PHONE).status_code == 429
    assert len(sent) == 5


def test_a_notifier_failure_shows_a_message_not_an_error(
    family, application, with_code, monkeypatch
):
    def broken(self, *, phone, text):
        raise ConnectionError("gateway down")

    monkeypatch.setattr(notify.LoggingNotifier, "send", broken)
    response = look_up(family, application.reference, PHONE)
    failed = "The text message could not be sent. Please try later."
    assert response.status_code == 200 and zh(failed) in page(response)
    assert not FAILURES.exists()


# --- the receipt -----------------------------------------------------------------------------


def test_the_receipt_explains_the_status_page_and_carries_the_reference(
    client, people, application
):
    client.force_login(people["alice"])
    html = page(client.get(f"/applications/{application.reference}/receipt/"))
    assert html.count(application.reference) >= 2
    assert "/status/" in html
    enter = "Enter the reference number %(reference)s and the guardian's mobile number on file."
    assert zh(enter, reference=application.reference) in html


# --- simultaneous guesses (PostgreSQL: SQLite serialises every writer) --------------------------


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a race needs PostgreSQL: set DATABASE_URL"
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("earlier", [0, 4])
def test_simultaneous_guesses_on_several_servers_get_no_more_tries_than_the_limit(
    earlier, monkeypatch
):
    from tests.test_workflow_concurrency import at_once

    reference = "DB-2026-ABCD01"
    for _ in range(earlier):
        ratelimit.hit("family_status", client="198.51.100.1", reference=reference)
    real = ratelimit._retry_at

    def counted_late(*args, **kwargs):
        # Every server has written its row before any of them counts: the worst case.
        time.sleep(0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(ratelimit, "_retry_at", counted_late)
    attempts = at_once(
        *(
            lambda n=n: ratelimit.hit("family_status", client=f"203.0.113.{n}", reference=reference)
            for n in range(10)
        )
    )
    passed = [a for a in attempts if isinstance(a, ratelimit.Hit) and a.allowed]
    assert len(passed) <= django_settings.FAMILY_STATUS_MAX_FAILURES - earlier
    assert FAILURES.count() == earlier + len(passed)
