"""Documents from the family's phone (standard.md §3, issue 17): a member asks for papers of
the standard's list, the verified status page takes a photo or PDF for each, with the
intake's checks and without the photo's location; the upload waits as "sent by the family,
not yet checked" until the caseworker checks it, and the review resumes only when the
caseworker answers. Limits per application and client a day; another application's papers
are out of reach."""

import io
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from cases import notify
from cases.errors import WorkflowError
from cases.family.selectors import PaperState
from cases.intake import services as intake
from cases.models import ApplicationEvent, Document, MemberReview, RequestedDocument
from cases.review import services as workflow
from organizations.models import RateLimitHit
from tests import pdf_samples
from tests.conftest import StaffClient, api_token_for
from tests.test_family_status import RESULT, opened, page, zh
from tests.test_workflow import review_of, submitted

pytestmark = pytest.mark.django_db

UPLOAD = "/status/upload/"


def photo_with_location() -> bytes:
    """A phone's JPEG: camera model and GPS position in its EXIF."""
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0110] = "PhoneModel X"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def file(name: str, data: bytes, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def application(people):
    people["alice"].email = "alice@crcf.example"
    people["alice"].save()
    return submitted(people["alice"])


@pytest.fixture
def family(client):
    client.defaults["REMOTE_ADDR"] = "203.0.113.7"
    return client


@pytest.fixture
def asked(application, people):
    """Member 1 asks for the household register and the guardian's ID (two papers)."""
    review = review_of(application, 1)
    workflow.review_request_info(
        review=review, items="", documents=["household_register", "guardian_id"], by=people["bob"]
    )
    return review


def items_of(review):
    return list(RequestedDocument.objects.filter(review=review).order_by("position"))


def test_the_request_names_papers_of_the_standard_and_the_family_reads_them(family, asked):
    register, guardian_id = items_of(asked)
    asked.refresh_from_db()
    # Free text made from the kinds when none was typed: every member reads what is asked.
    assert "户口簿" in asked.requested_items or "Household" in asked.requested_items
    html = page(opened(family, asked.application))
    for item in (register, guardian_id):
        tag = re.search(rf'<input type="file" name="paper-{item.pk}"[^>]*>', html)[0]
        assert 'accept="image/*,application/pdf"' in tag
        assert 'capture="environment"' in tag


def test_an_unknown_kind_of_paper_is_refused_at_its_field(application, people):
    with pytest.raises(WorkflowError) as refused:
        workflow.review_request_info(
            review=review_of(application, 1),
            items="",
            documents=["passport_of_cat"],
            by=people["bob"],
        )
    assert refused.value.field == "documents"
    assert review_of(application, 1).state == MemberReview.State.PENDING


def test_a_photo_is_stored_without_its_location_as_sent_by_the_family(
    family, asked, application, django_capture_on_commit_callbacks
):
    register, _ = items_of(asked)
    opened(family, application)
    with django_capture_on_commit_callbacks(execute=True):
        response = family.post(
            UPLOAD, {f"paper-{register.pk}": file("IMG_1.jpg", photo_with_location())}
        )
    assert response.status_code == 302 and response.url == RESULT
    document = Document.objects.get(application=application)
    assert document.family_request == register and document.uploaded_by is None
    assert document.doc_type == "household_register"
    assert document.awaits_check_from_family
    stored = document.file.read()
    assert b"PhoneModel" not in stored and b"Exif" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif().get_ifd(0x8825)
    assert Image.open(io.BytesIO(stored)).size == (40, 30)
    event = application.events.get(action=ApplicationEvent.Action.FAMILY_UPLOADED)
    assert event.actor is None
    # The caseworker who entered the application is told.
    assert [m.to for m in mail.outbox] == [["alice@crcf.example"]]
    assert application.reference in mail.outbox[0].subject
    # The family sees it as sent, and cannot send it twice while it waits.
    html = page(family.get(RESULT))
    assert zh(PaperState.SENT.label) in html
    assert f'name="paper-{register.pk}"' not in html


def test_the_caseworker_checks_then_answers_and_only_then_the_review_resumes(
    family, asked, application, people, client_for_alice
):
    register, guardian_id = items_of(asked)
    opened(family, application)
    family.post(UPLOAD, {f"paper-{register.pk}": file("a.jpg", photo_with_location())})
    document = Document.objects.get(application=application)
    # The list marks the application; the page marks the document and the request.
    listed = page(client_for_alice.get("/applications/"))
    assert zh("Needs your answer") in listed
    html = page(client_for_alice.get(f"/applications/{application.reference}/"))
    assert zh("Sent by the family, not yet checked") in html
    assert f'id="needs-answer-{asked.pk}"' in html
    # Answering before checking what the family sent is refused; the review still waits.
    response = client_for_alice.post(
        f"/applications/{application.reference}/reviews/{asked.pk}/answer/", {"note": ""}
    )
    assert response.status_code == 302
    assert review_of(application, 1).state == MemberReview.State.INFO_REQUESTED
    with pytest.raises(WorkflowError):
        workflow.review_answer_info(review=asked, by=people["alice"])
    # Checked (rejected with a reason): the family sees why and may send it again.
    intake.document_review(document=document, accept=False, reason="照片模糊", by=people["alice"])
    html = page(family.get(RESULT))
    assert "照片模糊" in html and f'name="paper-{register.pk}"' in html
    family.post(
        UPLOAD, {f"paper-{register.pk}": file("b.pdf", pdf_samples.plain(), "application/pdf")}
    )
    second = Document.objects.filter(application=application).latest("pk")
    assert second.content_type == "application/pdf" and second.awaits_check_from_family
    intake.document_review(document=second, accept=True, reason="", by=people["alice"])
    html = page(client_for_alice.get(f"/applications/{application.reference}/"))
    assert f'id="needs-answer-{asked.pk}"' not in html
    assert zh("Needs your answer") not in page(client_for_alice.get("/applications/"))
    response = client_for_alice.post(
        f"/applications/{application.reference}/reviews/{asked.pk}/answer/", {"note": "齐了"}
    )
    assert review_of(application, 1).state == MemberReview.State.IN_REVIEW
    # The request's papers are answered: the family page no longer offers them.
    assert all(item.answered_at for item in items_of(asked))
    assert 'id="papers"' not in page(family.get(RESULT))


@pytest.fixture
def client_for_alice(people):
    staff = StaffClient()
    staff.force_login(people["alice"])
    return staff


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "setup.jpg",
            b"MZ\x90\x00\x03" + b"\x00" * 200,
            "Only PDF, JPEG and PNG files are accepted; this file is none of them.",
        ),
        (
            "map.jpg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "Only PDF, JPEG and PNG files are accepted; this file is none of them.",
        ),
        (
            "page.jpg",
            b"<html><script>alert(1)</script></html>",
            "Only PDF, JPEG and PNG files are accepted; this file is none of them.",
        ),
        ("report.pdf", pdf_samples.with_javascript(), None),
    ],
)
def test_a_wrong_or_script_carrying_file_is_refused_at_its_paper_and_nothing_is_stored(
    family, asked, application, name, data, message
):
    register, _ = items_of(asked)
    opened(family, application)
    response = family.post(UPLOAD, {f"paper-{register.pk}": file(name, data)})
    assert response.status_code == 400
    html = page(response)
    if message is None:  # the PDF: its own message, about scripts
        from cases.documents import PDF_PROBLEMS

        message = PDF_PROBLEMS["pdf_active"]
    assert zh(message) in html
    tag = re.search(rf'<input type="file" name="paper-{register.pk}"[^>]*>', html)[0]
    assert 'aria-invalid="true"' in tag
    assert 'id="error-summary"' in html and f'href="#paper-{register.pk}"' in html
    assert not Document.objects.filter(application=application).exists()


def test_an_oversized_file_is_refused_with_its_size(family, asked, application, settings):
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    register, _ = items_of(asked)
    opened(family, application)
    big = pdf_samples.plain() + b"%" + b"x" * (1024 * 1024 + 10)
    response = family.post(
        UPLOAD, {f"paper-{register.pk}": file("big.pdf", big, "application/pdf")}
    )
    assert response.status_code == 400
    assert zh("The file is %(size)s MB; at most %(limit)s MB is accepted.") % {
        "size": 1.0,
        "limit": 1,
    } in page(response)
    assert not Document.objects.exists()


def test_a_refused_file_never_costs_the_family_the_other_paper_it_chose(family, asked, application):
    register, guardian_id = items_of(asked)
    opened(family, application)
    response = family.post(
        UPLOAD,
        {
            f"paper-{register.pk}": file("bad.jpg", b"not an image at all"),
            f"paper-{guardian_id.pk}": file("id.jpg", photo_with_location()),
        },
    )
    assert response.status_code == 400
    assert list(Document.objects.values_list("family_request", flat=True)) == [guardian_id.pk]
    html = page(response)
    assert f'name="paper-{register.pk}"' in html  # still asked for, with its message
    assert f'name="paper-{guardian_id.pk}"' not in html  # sent


def test_a_family_session_cannot_reach_another_applications_papers(family, asked, people):
    other = submitted(people["carol"], sequence="457")
    other_review = review_of(other, 1)
    workflow.review_request_info(
        review=other_review, items="", documents=["guardian_id"], by=people["bob"]
    )
    foreign = items_of(other_review)[0]
    opened(family, asked.application)  # this family's own application
    response = family.post(UPLOAD, {f"paper-{foreign.pk}": file("x.jpg", photo_with_location())})
    assert response.status_code == 400
    assert not Document.objects.filter(application=other).exists()
    assert other.reference not in page(response)
    # Without an open status page nothing is taken at all.
    family.post("/status/leave/")
    response = family.post(
        UPLOAD, {f"paper-{items_of(asked)[0].pk}": file("x.jpg", photo_with_location())}
    )
    assert response.status_code == 302 and response.url == "/status/"
    assert not Document.objects.exists()


@override_settings(FAMILY_UPLOAD_MAX_PER_DAY=2)
def test_uploads_are_limited_per_application_a_day_with_a_clear_429(
    family, asked, application, people
):
    register, guardian_id = items_of(asked)
    opened(family, application)
    for _ in range(2):  # two refused tries count too: the limit is on sending
        family.post(UPLOAD, {f"paper-{register.pk}": file("bad.jpg", b"nope")})
    response = family.post(
        UPLOAD, {f"paper-{guardian_id.pk}": file("id.jpg", photo_with_location())}
    )
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert zh(
        "Too many files were sent for this application today. To protect it, sending is paused."
    ) in page(response)
    assert not Document.objects.exists()
    assert RateLimitHit.objects.filter(scope="family_upload").count() == 2


def test_texts_to_the_family_carry_the_reference_and_the_status_address(
    application, people, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://aid.example.org"
    notify.LoggingNotifier.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.review_request_info(
            review=review_of(application, 1), items="", documents=["guardian_id"], by=people["bob"]
        )
    ((phone, text),) = notify.LoggingNotifier.sent
    assert application.reference in text and "https://aid.example.org/status/" in text
    assert "状态" in text or "进度" in text or "status" in text.lower()


def test_the_api_asks_for_papers_of_the_list_with_the_same_rules(application, people, client):
    review = review_of(application, 1)
    auth = {"HTTP_AUTHORIZATION": f"Token {api_token_for(people['bob'])}"}
    url = f"/api/v1/reviews/{review.pk}/request-info/"
    refused = client.post(
        url, {"documents": ["no_such_paper"]}, content_type="application/json", **auth
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "documents"
    response = client.post(
        url,
        {"documents": ["guardian_id", "consent_form"], "items": "请补充"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 200, response.content
    assert [i.doc_type for i in items_of(review)] == ["guardian_id", "consent_form"]


def test_a_photo_that_cannot_be_decoded_is_refused_as_damaged(family, asked, application):
    register, _ = items_of(asked)
    whole = photo_with_location()
    opened(family, application)
    # Its header says JPEG and gives a size, but the picture stops half-way.
    response = family.post(
        UPLOAD, {f"paper-{register.pk}": file("cut.jpg", whole[: len(whole) // 2])}
    )
    assert response.status_code == 400
    assert zh("The image file is damaged.") in page(response)
    assert not Document.objects.exists()


def test_a_paper_field_name_with_a_non_ascii_digit_is_no_500(family, asked, application):
    # "²".isdigit() is True but int("²") fails: the field name is read as ASCII digits only.
    opened(family, application)
    response = family.post(UPLOAD, {"paper-²": file("a.jpg", photo_with_location())})
    assert response.status_code == 302 and response.url == RESULT
    assert not Document.objects.filter(application=application).exists()


def test_a_jpeg_comment_does_not_survive_the_re_encoding(family, asked, application):
    register, _ = items_of(asked)
    image, out = Image.new("RGB", (40, 30)), io.BytesIO()
    image.save(out, "JPEG", comment=b"GPS 39.9,116.4 home address")
    opened(family, application)
    response = family.post(UPLOAD, {f"paper-{register.pk}": file("IMG_2.jpg", out.getvalue())})
    assert response.status_code == 302
    stored = Document.objects.get(application=application).file.read()
    assert b"home address" not in stored
