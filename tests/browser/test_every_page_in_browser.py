"""axe on every page each named user reaches (issue 16: "no serious or critical violations
on every page, at 1280 and 375 px").

The pages are those of tests/named_pages.py, the list the language scan reads too. One
browser; one context per user, signed in once through the login form (and the second
factor for those who need one: its page is checked on the way); the pages a form leads to
(the pre-check's results and errors, a refused and a confirmable approval, a family's
status, a refused login) are reached by posting that form from the page that shows it.
"""

import json
import re
from itertools import groupby
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from organizations.models import User
from tests.browser.test_pages_in_browser import serious_axe_violations
from tests.conftest import current_code, second_factor_device
from tests.named_pages import Visit, named_pages

SIZES = [{"width": 1280, "height": 800}, {"width": 375, "height": 667}]

# Posts a form as the page would: its fields and the CSRF token of a form on the page.
POST = """([action, data]) => {
    const form = document.createElement('form');
    form.method = 'post';
    form.action = action;
    const add = (name, value) => {
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = name;
        input.value = value;
        form.appendChild(input);
    };
    const token = document.querySelector('input[name=csrfmiddlewaretoken]');
    if (token) add('csrfmiddlewaretoken', token.value);
    for (const [name, value] of Object.entries(data)) {
        for (const one of [].concat(value)) add(name, one);
    }
    document.body.appendChild(form);
    form.submit();
}"""


def sign_in(page: Page, site: str, username: str, *, password_only: bool) -> None:
    """The login form, then, unless `password_only`, the code of the user's authenticator
    app for those who need one."""
    user = User.objects.get(username=username)
    device = None if password_only else second_factor_device(user)
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.locator("form.form button[type=submit]").click()
    if password_only:
        expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
        return
    if device is not None:
        expect(page).to_have_url(re.compile(r"/accounts/otp/"))
        page.fill("#id_code", current_code(device))
        page.locator("form.form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/(login|otp)/"))


def open_visit(page: Page, site: str, visit: Visit) -> int:
    """Open the visit's page; its HTTP status (after redirects)."""
    if not visit.is_post:
        return page.goto(site + visit.url).status
    page.goto(site + visit.start)
    with page.expect_navigation() as navigation:
        page.evaluate(POST, [visit.url, visit.data])
    return navigation.value.status


@pytest.mark.parametrize("size", SIZES, ids=lambda size: str(size["width"]))
def test_axe_finds_no_serious_violation_on_any_page(
    browser: Browser, site, people, axe_source, size
):
    _application, visits = named_pages(people)
    found, checked = {}, []

    for (user, password_only), user_visits in groupby(
        visits, key=lambda visit: (visit.user, visit.password_only)
    ):
        context = browser.new_context(viewport=size)
        page = context.new_page()
        if user:
            sign_in(page, site, user, password_only=password_only)
        for visit in user_visits:
            status = open_visit(page, site, visit)
            # A refused form comes back with 400 or 200; error pages with their own status.
            assert status in ((visit.status,) if visit.status else (200, 400)), (visit, status)
            if not visit.is_post:  # the page itself, not a login or another page
                assert urlparse(page.url).path == urlparse(visit.url).path, (visit, page.url)
            checked.append(visit.name)
            violations = serious_axe_violations(page, axe_source)
            if violations:
                found[f"{user or 'anonymous'}: {visit.name} ({page.url})"] = violations
        context.close()

    assert len(checked) == len(visits)
    assert not found, f"axe at {size['width']} px:\n" + json.dumps(
        found, ensure_ascii=False, indent=2
    )
