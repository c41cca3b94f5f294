"""The second factor's pages in a browser: a new reviewer enrols by scanning-or-typing the
key the page shows (the QR code is an inline image the CSP allows), then signs in again
with a code; both pages pass the accessibility check and fit a small screen."""

import re
from base64 import b32decode

from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from organizations import services
from organizations.models import MemberOrganization, User
from tests.browser.test_pages_in_browser import no_horizontal_scroll, serious_axe_violations
from tests.conftest import current_code


def submit(page: Page) -> None:
    with page.expect_navigation():
        page.locator("form.form button[type=submit]").click()


def test_a_new_reviewer_enrols_then_signs_in_with_a_code(page: Page, site, axe_source):
    services.user_create(
        by=None,
        username="erin",
        password="pw",
        role=User.Role.REVIEWER,
        organization=MemberOrganization.objects.get(number=1),
    )
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{site}/accounts/login/?next=/inbox/")
    page.fill("#id_username", "erin")
    page.fill("#id_password", "pw")
    submit(page)
    expect(page).to_have_url(re.compile(r"/accounts/otp/enrol/\?next=%2Finbox%2F$"))

    qr = page.locator("img.qr-code")
    expect(qr).to_be_visible()
    assert page.evaluate("() => document.querySelector('img.qr-code').naturalWidth") > 0
    assert serious_axe_violations(page, axe_source) == []
    fits, detail = no_horizontal_scroll(page)
    assert fits, detail

    # A wrong code: the message at the field, tied to it for screen readers.
    page.fill("#id_code", "000000")
    submit(page)
    expect(page.locator("#id_code_error")).to_be_visible()
    assert "id_code_error" in (page.locator("#id_code").get_attribute("aria-describedby") or "")

    # The key typed by hand into an app: the app's code confirms it.
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    app = TOTP(b32decode(secret))
    page.wait_for_timeout(1100)  # django-otp's delay after the wrong code
    page.fill("#id_code", f"{app.token():06d}")
    submit(page)
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    expect(page.locator(".nav-user")).to_contain_text("erin")

    # The next login asks for the code, on a page that passes the same checks.
    page.context.clear_cookies()
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", "erin")
    page.fill("#id_password", "pw")
    submit(page)
    expect(page).to_have_url(re.compile(r"/accounts/otp/\?next="))
    expect(page.locator("img.qr-code")).to_have_count(0)
    assert serious_axe_violations(page, axe_source) == []
    fits, detail = no_horizontal_scroll(page)
    assert fits, detail
    device = User.objects.get(username="erin").totpdevice_set.get()
    page.fill("#id_code", current_code(device))
    submit(page)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".nav-user")).to_contain_text("erin")
