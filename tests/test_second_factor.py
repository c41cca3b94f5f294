"""The staff second factor (TOTP): reviewers, the secretariat and administrators give a
code after the password before any staff page, API call with a session, download, export
or admin page; wrong codes count in the login lockout; enrolment, reset and their record."""

import re

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.intake import services as case_services
from organizations import services
from organizations.models import AccountEvent, RateLimitHit, User
from tests.conftest import api_token_for, current_code, second_factor_device
from tests.intake_data import PDF_BYTES

pytestmark = pytest.mark.django_db


def second_factor_events():
    # Creating the fixtures' users is an account event too.
    return AccountEvent.objects.exclude(kind=AccountEvent.Kind.CREATED)


# The login lockout's rows in the one rate-limit table (organizations.ratelimit).
FAILURES = RateLimitHit.objects.filter(scope="login")

OTP = "/accounts/otp/"
ENROL = "/accounts/otp/enrol/"
WRONG = "This code is not right"
LOCKED = "Too many failed logins"


def english(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def password_login(client, username, *, address="10.0.0.1", next_url=""):
    """The login form, as a person fills it in: the password only."""
    data = {"username": username, "password": "pw"}
    if next_url:
        data["next"] = next_url
    return english(client).post("/accounts/login/", data, REMOTE_ADDR=address)


def enter_code(client, code, *, url=OTP, address="10.0.0.1", next_url=""):
    data = {"code": code}
    if next_url:
        data["next"] = next_url
    return english(client).post(url, data, REMOTE_ADDR=address)


def field_error(response) -> str:
    match = re.search(r'<div class="error" id="id_code_error">(.*?)</div>', response.text, re.S)
    return match.group(1) if match else ""


def wrong_code(device) -> str:
    return f"{(int(current_code(device)) + 1) % 1_000_000:06d}"


def unthrottle(device):
    """django-otp's own growing delay after a wrong code (seconds): let it pass."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)


@pytest.fixture
def document(people):
    application = case_services.application_create(by=people["alice"])
    return case_services.document_upload(
        application=application,
        doc_type="other",
        flag="",
        upload=SimpleUploadedFile("estimate.pdf", PDF_BYTES),
        by=people["alice"],
    )


def staff_paths(username, document) -> list[str]:
    return {
        "bob": ["/applications/", "/inbox/", f"/documents/{document.pk}/"],
        "sam": ["/applications/", "/access-records/", "/reports/download/?period=2026&format=csv"],
        "root": ["/applications/", "/reports/authorities/?period=2026&format=csv"],
    }[username]


@pytest.mark.parametrize("username", ["bob", "sam", "root"])
def test_a_password_alone_reaches_no_staff_page_download_or_export(
    client, people, document, username
):
    second_factor_device(people[username])
    assert password_login(client, username).status_code == 302
    for path in staff_paths(username, document):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{OTP}?next="), path
    # The same user with the code gets them (the refusal was the second factor's).
    verified = client.__class__()
    verified.force_login(people[username])
    for path in staff_paths(username, document):
        assert verified.get(path).status_code == 200, path


@pytest.mark.parametrize("username", ["bob", "sam", "root"])
def test_a_password_alone_gets_403_from_the_api(client, people, username):
    second_factor_device(people[username])
    password_login(client, username)
    response = client.get("/api/v1/applications/")
    assert response.status_code == 403
    assert response.json()["errors"] == []
    assert "authenticator app" in response.json()["detail"]
    assert client.post("/api/v1/applications/", content_type="application/json").status_code == 403


@pytest.mark.parametrize("username", ["sam", "root"])
def test_the_admin_asks_for_the_code_too(client, people, username):
    second_factor_device(people[username])
    response = english(client).post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": "pw", "next": "/admin/"},
    )
    assert response.status_code == 302  # the password was right...
    for path in ["/admin/", "/admin/organizations/user/", "/admin/organizations/aidproject/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(OTP), path
    device = TOTPDevice.objects.get(user=people[username])
    response = enter_code(client, current_code(device), next_url="/admin/")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/organizations/user/").status_code == 200


def test_after_the_password_the_login_leads_to_the_code_page(client, people):
    second_factor_device(people["bob"])
    response = password_login(client, "bob", next_url="/inbox/")
    assert response["Location"] == "/inbox/"
    response = client.get("/inbox/")
    assert response["Location"] == f"{OTP}?next=%2Finbox%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text


def test_the_right_code_lets_the_user_in_with_a_new_session_key(client, people):
    device = second_factor_device(people["bob"])
    password_login(client, "bob")
    half_signed_in = client.session.session_key
    response = enter_code(client, current_code(device), next_url="/inbox/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.session.session_key != half_signed_in
    assert client.get("/inbox/").status_code == 200
    assert client.get("/api/v1/applications/").status_code == 200
    # A signed-in user on the code page goes on.
    assert client.get(f"{OTP}?next=/inbox/")["Location"] == "/inbox/"


def test_a_verified_session_gets_the_user_itself_not_a_lazy_object(client, people):
    """Past the second-factor check the request holds the user, verified, as an object of
    its own (every attribute read through a lazy object costs Python calls, issue 18); a
    session that still owes its code is sent to the code page as before."""
    device = second_factor_device(people["bob"])
    password_login(client, "bob")
    owing = client.get("/inbox/")
    assert owing.status_code == 302 and owing["Location"].startswith(OTP)
    enter_code(client, current_code(device))
    response = client.get("/inbox/")
    assert response.status_code == 200
    user = response.wsgi_request.user
    assert type(user) is User and user.pk == people["bob"].pk
    assert user.is_verified() and user.otp_device.persistent_id == device.persistent_id
    anonymous = client.__class__().get("/status/")
    assert anonymous.wsgi_request.user.is_authenticated is False


def test_a_code_is_used_only_once(client, people):
    device = second_factor_device(people["bob"])
    code = current_code(device)
    password_login(client, "bob")
    assert enter_code(client, code).status_code == 302
    other = client.__class__()
    password_login(other, "bob")
    response = enter_code(other, code)
    assert response.status_code == 200 and WRONG in field_error(response)


def test_a_wrong_code_is_refused_at_the_field(client, people):
    device = second_factor_device(people["bob"])
    password_login(client, "bob")
    response = enter_code(client, wrong_code(device))
    assert response.status_code == 200 and WRONG in field_error(response)
    # Right after a wrong code django-otp asks for a few seconds' wait (the next request: a
    # wait of one second, which a loaded machine's further requests could outlast).
    response = enter_code(client, current_code(device))
    assert "wait" in field_error(response) and DEVICE_ID_SESSION_KEY not in client.session
    assert client.get("/inbox/").status_code == 302
    for typed in ["12345", "abcdef", "1234567", ""]:
        response = enter_code(client, typed)
        assert response.status_code == 200 and field_error(response), typed
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_the_code_page_is_chinese_by_default(client, people):
    device = second_factor_device(people["bob"])
    password_login(client, "bob")
    client.cookies.pop(django_settings.LANGUAGE_COOKIE_NAME)
    response = client.post(OTP, {"code": wrong_code(device)})
    assert response.status_code == 200
    assert 'lang="zh-Hans"' in response.text and field_error(response)


def test_wrong_codes_count_toward_the_login_lockout(client, people):
    device = second_factor_device(people["bob"])
    password_login(client, "bob")
    for _ in range(6):
        response = enter_code(client, wrong_code(device))
        assert WRONG in field_error(response) or "wait" in field_error(response)
        unthrottle(device)
    assert FAILURES.count() == 6
    # Locked now: even the right code, and the password form too, for the user name...
    response = enter_code(client, current_code(device))
    assert LOCKED in field_error(response) and DEVICE_ID_SESSION_KEY not in client.session
    other = client.__class__()
    response = password_login(other, "bob", address="10.9.9.9")
    assert response.status_code == 200 and LOCKED in response.text
    # ...while another user goes on.
    second_factor_device(people["dave"])
    assert password_login(other, "dave", address="10.9.9.9").status_code == 302


def test_signing_in_again_with_the_password_does_not_wipe_the_wrong_codes(client, people):
    device = second_factor_device(people["bob"])
    for _ in range(3):
        password_login(client, "bob")
        for _ in range(2):
            enter_code(client, wrong_code(device))
            unthrottle(device)
    assert LOCKED in password_login(client, "bob").text
    # The right code clears the name's failures.
    FAILURES.all().delete()
    password_login(client, "bob")
    enter_code(client, wrong_code(device))
    unthrottle(device)
    assert FAILURES.count() == 1
    enter_code(client, current_code(device))
    assert FAILURES.count() == 0


def test_another_users_device_cannot_be_used(client, people):
    bobs = second_factor_device(people["bob"])
    daves = second_factor_device(people["dave"])
    password_login(client, "bob")
    response = enter_code(client, current_code(daves))
    assert WRONG in field_error(response)
    unthrottle(bobs)
    # Nor by writing its id into the session: django-otp checks whose device it is.
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = daves.persistent_id
    session.save()
    assert client.get("/inbox/").status_code == 302
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_an_unconfirmed_device_does_not_verify_a_session(client, people):
    device = TOTPDevice.objects.create(user=people["bob"], name="x", confirmed=False)
    password_login(client, "bob")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    assert client.get("/inbox/").status_code == 302


def test_without_a_device_the_user_enrols_and_a_right_code_confirms_it(client, directory):
    reviewer = services.user_create(
        by=None, username="erin", password="pw", role=User.Role.REVIEWER, organization=directory[0]
    )
    password_login(client, "erin")
    assert client.get("/inbox/")["Location"].startswith(OTP)
    response = client.get(f"{OTP}?next=/inbox/")
    assert response["Location"] == f"{ENROL}?next=%2Finbox%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text
    device = TOTPDevice.objects.get(user=reviewer)
    assert not device.confirmed
    secret = re.search(r'<code class="secret" lang="en">([A-Z2-7 ]+)</code>', page.text).group(1)
    assert len(secret.replace(" ", "")) == 32
    # The same key on the next visit, until it is confirmed.
    assert secret in client.get(ENROL).text
    # A wrong code confirms nothing.
    response = enter_code(client, wrong_code(device), url=ENROL)
    assert WRONG in field_error(response)
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get("/inbox/").status_code == 302
    unthrottle(device)
    response = enter_code(client, current_code(device), url=ENROL, next_url="/inbox/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get("/inbox/").status_code == 200
    event = second_factor_events().get()
    assert (event.user, event.kind, event.by) == (
        reviewer,
        AccountEvent.Kind.SECOND_FACTOR_ENROLLED,
        reviewer,
    )


def test_a_password_alone_cannot_replace_a_confirmed_device(client, people):
    device = second_factor_device(people["bob"])
    password_login(client, "bob")
    response = client.get(ENROL)
    assert response.status_code == 302 and response["Location"].startswith(OTP)
    response = enter_code(client, current_code(device), url=ENROL)
    assert response.status_code == 302 and response["Location"].startswith(OTP)
    assert list(TOTPDevice.objects.filter(user=people["bob"])) == [device]
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_a_caseworker_is_not_forced_but_may_enrol(client, people):
    assert password_login(client, "alice").status_code == 302
    assert client.get("/applications/").status_code == 200
    assert client.get("/api/v1/applications/").status_code == 200
    assert client.get(OTP)["Location"] == "/"  # nothing to enter
    page = client.get("/")
    assert ENROL in page.text
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=people["alice"])
    assert enter_code(client, current_code(device), url=ENROL).status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    # Once enrolled, her next login asks for the code as well.
    client.logout()
    password_login(client, "alice")
    assert client.get("/applications/")["Location"].startswith(OTP)
    enter_code(client, current_code(device))
    assert client.get("/applications/").status_code == 200
    # Her device reset by an administrator: she goes on without a code (not required).
    call_command("otp_reset", "alice")
    response = client.get("/applications/", follow=True)
    assert response.redirect_chain[-1][0] == "/applications/"
    assert response.status_code == 200


def test_an_api_token_needs_no_code(client, people):
    second_factor_device(people["bob"])
    secret = api_token_for(people["bob"])
    response = client.get("/api/v1/applications/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 200
    # A half signed-in browser cannot slip through with a made-up token.
    password_login(client, "bob")
    response = client.get("/api/v1/applications/", HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401
    response = client.get("/api/v1/applications/", HTTP_AUTHORIZATION="Basic Ym9iOnB3")
    assert response.status_code == 403


def test_htmx_requests_are_sent_to_the_code_page_as_a_whole(client, people):
    second_factor_device(people["bob"])
    password_login(client, "bob")
    response = client.get("/applications/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith(f"{OTP}?next=")


def test_the_code_page_does_not_redirect_off_site(client, people):
    device = second_factor_device(people["bob"])
    password_login(client, "bob")
    response = enter_code(client, current_code(device), next_url="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_anonymous_visitors_of_the_code_pages_are_sent_to_log_in(client, directory):
    for url in (OTP, ENROL):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_administrator_resets_a_device_in_the_admin_and_it_is_recorded(client, people):
    device = second_factor_device(people["bob"])
    bob = client.__class__()
    bob.force_login(people["bob"])
    assert bob.get("/inbox/").status_code == 200
    admin = client.__class__()
    admin.force_login(people["root"])
    response = admin.post(
        "/admin/organizations/user/",
        {"action": "reset_second_factor", "_selected_action": [people["bob"].pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    event = second_factor_events().get()
    assert (event.user, event.kind, event.by) == (
        people["bob"],
        AccountEvent.Kind.SECOND_FACTOR_RESET,
        people["root"],
    )
    # bob's open session needs a code again, and he enrols a new device.
    response = bob.get("/inbox/")
    assert response.status_code == 302 and response["Location"].startswith(OTP)
    assert bob.get(OTP)["Location"].startswith(ENROL)


def test_the_secretariat_cannot_reset_a_second_factor(client, people):
    device = second_factor_device(people["bob"])
    client.force_login(people["sam"])
    users = client.get("/admin/organizations/user/")
    assert users.status_code == 200 and "reset_second_factor" not in users.text
    client.post(
        "/admin/organizations/user/",
        {"action": "reset_second_factor", "_selected_action": [people["bob"].pk]},
    )
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not second_factor_events().exists()
    # The record is readable by the secretariat, not by member staff.
    assert client.get("/admin/organizations/accountevent/").status_code == 200
    client.force_login(people["bob"])
    assert client.get("/admin/organizations/accountevent/").status_code == 302


def test_the_reset_command_removes_the_devices_and_is_recorded(people, capsys):
    second_factor_device(people["sam"])
    call_command("otp_reset", "sam", "--note", "ticket 42: lost phone")
    assert "1 device(s) removed" in capsys.readouterr().out
    assert not TOTPDevice.objects.filter(user=people["sam"]).exists()
    event = second_factor_events().get()
    assert (event.user, event.by, event.note) == (people["sam"], None, "ticket 42: lost phone")
    call_command("otp_reset", "bob")  # no device, no note: recorded all the same
    event = second_factor_events().filter(user=people["bob"]).get()
    assert event.kind == AccountEvent.Kind.SECOND_FACTOR_RESET
    assert event.note.startswith("manage.py otp_reset, as ")
    with pytest.raises(CommandError, match="No user named"):
        call_command("otp_reset", "nobody")


def test_the_demo_users_get_the_documented_demo_key(settings, capsys):
    settings.DEBUG = True
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "AIDALLIANCEDEMOAAIDALLIANCEDEMOA" in out
    with_devices = set(TOTPDevice.objects.values_list("user__username", flat=True))
    assert {"admin", "secretariat", "m1-reviewer", "m8-reviewer"} <= with_devices
    assert "m1-caseworker" not in with_devices
    call_command("demo_otp_code")
    code = capsys.readouterr().out.strip()
    device = TOTPDevice.objects.get(user__username="m1-reviewer")
    assert re.fullmatch(r"[0-9]{6}", code) and device.verify_token(code)
