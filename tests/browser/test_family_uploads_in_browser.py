"""Documents from the family's phone, in Chromium at 375×667 (issue 17): a member asks for
a paper, the family verifies on /status/ and sends a photo of it from the page (a camera
capture on a phone), the caseworker sees it as sent by the family, accepts it and answers,
and the review resumes. The pages fit the width, pass axe and keep thumb-sized targets."""

import io

import pytest
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image
from playwright.sync_api import Page, expect

from cases.family.selectors import PaperState
from cases.models import Document, MemberReview, RequestedDocument
from tests.browser.test_family_status_in_browser import PHONE, PHONE_SIZE, check_page, look_up
from tests.browser.test_pages_in_browser import log_in
from tests.test_workflow import submitted


def zh(message) -> str:
    with translation.override("zh-hans"):
        return gettext(message) if isinstance(message, str) else str(message)


def phone_photo() -> bytes:
    image = Image.new("RGB", (64, 48), (30, 120, 200))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (39.0, 54.0, 27.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def asked(site, people):
    """alice's application, submitted; bob (member 1) asks for the household register."""
    from cases.review import services as workflow

    application = submitted(people["alice"])
    review = MemberReview.objects.get(application=application, member__number=1)
    workflow.review_request_info(
        review=review, items="", documents=["household_register"], by=people["bob"]
    )
    return review


def test_a_family_sends_a_requested_photo_and_the_caseworker_checks_it_and_answers(
    page: Page, site, asked, axe_source
):
    application = asked.application
    item = RequestedDocument.objects.get(review=asked)
    page.set_viewport_size(PHONE_SIZE)
    page.goto(f"{site}/status/")
    look_up(page, application.reference, PHONE)
    expect(page).to_have_url(f"{site}/status/result/")

    paper = page.locator(f"#paper-{item.pk}")
    expect(paper).to_have_attribute("accept", "image/*,application/pdf")
    expect(paper).to_have_attribute("capture", "environment")
    check_page(page, axe_source, "papers")
    page.set_viewport_size({"width": 360, "height": 740})  # the narrowest phone we serve
    check_page(page, axe_source, "papers")
    page.set_viewport_size(PHONE_SIZE)
    paper.set_input_files(
        files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}]
    )
    page.locator("form.paper-form button[type=submit]").click()

    expect(page).to_have_url(f"{site}/status/result/")
    expect(page.locator(f"#paper-{item.pk}-state")).to_have_text(zh(PaperState.SENT.label))
    expect(page.locator(f"#paper-{item.pk}")).to_have_count(0)
    check_page(page, axe_source, "papers-sent")
    document = Document.objects.get(application=application)
    assert document.awaits_check_from_family
    assert not Image.open(io.BytesIO(document.file.read())).getexif().get_ifd(0x8825)

    # The caseworker: the paper is marked as the family's, and the request needs an answer.
    log_in(page, site, "alice")
    page.goto(f"{site}/applications/{application.reference}/")
    expect(page.locator(f"#needs-answer-{asked.pk}")).to_be_visible()
    row = page.locator(".documents li.document", has_text=zh("Sent by the family, not yet checked"))
    expect(row).to_have_count(1)
    row.locator("input[name=decision][value=accepted]").check()
    row.locator("button[type=submit]").click()
    expect(page.locator(f"#needs-answer-{asked.pk}")).to_have_count(0)
    answer = page.locator(f"form[action$='/reviews/{asked.pk}/answer/']")
    answer.locator("input[name=note]").fill("户口簿已收到")
    answer.locator("button[type=submit]").click()
    expect(page.locator(f"form[action$='/reviews/{asked.pk}/answer/']")).to_have_count(0)

    asked.refresh_from_db()
    document.refresh_from_db()
    assert asked.state == MemberReview.State.IN_REVIEW
    assert document.status == Document.Status.ACCEPTED
