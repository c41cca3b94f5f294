"""Uploads that are not what a scan of a paper is: refused with a clear message at the
field, nothing stored; files served back cannot run anything."""

import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import documents
from cases.intake import services
from cases.models import Document
from tests import pdf_samples
from tests.intake_data import PDF_BYTES, png

pytestmark = pytest.mark.django_db

LIMIT = 10 * 1024 * 1024


def check(data: bytes, name="x.pdf"):
    return documents.check_upload(SimpleUploadedFile(name, data), max_bytes=LIMIT)


def refusal_of(data: bytes) -> str:
    with pytest.raises(documents.ValidationError) as refused:
        check(data)
    return refused.value.code


@pytest.mark.parametrize(
    ("pdf", "code"),
    [
        (pdf_samples.with_javascript, "pdf_active"),
        (lambda: pdf_samples.with_open_action("/JavaScript", JS="app.alert(1)"), "pdf_active"),
        (lambda: pdf_samples.with_open_action("/Launch", F="cmd.exe"), "pdf_active"),
        (lambda: pdf_samples.with_open_action("/SubmitForm", F="https://x.example/"), "pdf_active"),
        (lambda: pdf_samples.with_open_action("/URI", URI="https://x.example/"), "pdf_active"),
        (lambda: pdf_samples.with_open_action("/GoToR", F="\\\\host\\share\\a.pdf"), "pdf_active"),
        (pdf_samples.with_page_additional_action, "pdf_active"),
        (pdf_samples.with_automatic_uri, "pdf_active"),
        (pdf_samples.with_attachment, "pdf_attachment"),
        (pdf_samples.with_file_attachment_annotation, "pdf_attachment"),
        (pdf_samples.with_form, "pdf_form"),
        (lambda: pdf_samples.with_form(xfa=True), "pdf_form"),
    ],
    ids=[
        "javascript name tree",
        "javascript open action",
        "launch",
        "submit form",
        "uri on opening",
        "remote go-to",
        "page additional action",
        "uri additional action by reference",
        "embedded file",
        "file attachment annotation",
        "acroform",
        "xfa",
    ],
)
def test_a_pdf_that_runs_something_carries_files_or_is_a_form_is_refused(pdf, code):
    assert refusal_of(pdf()) == code


@pytest.mark.parametrize("place", ["open-action", "name-tree", "attachment"])
def test_active_content_inside_a_compressed_object_stream_is_refused(place):
    pdf = pdf_samples.in_object_streams(place=place)
    assert b"/JavaScript" not in pdf and b"/EmbeddedFiles" not in pdf  # not in the bytes
    assert b"/ObjStm" in pdf
    assert refusal_of(pdf) == ("pdf_attachment" if place == "attachment" else "pdf_active")


def test_a_plain_pdf_a_link_and_words_that_only_look_alike_pass():
    assert check(PDF_BYTES) == "application/pdf"
    assert check(pdf_samples.with_link()) == "application/pdf"
    writer_made = pdf_samples.plain()
    assert check(writer_made) == "application/pdf"
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(writer_made)))
    writer.add_metadata({"/Title": "JavaScript course", "/JSON": "1", "/Subject": "/Launch"})
    out = io.BytesIO()
    writer.write(out)
    assert check(out.getvalue()) == "application/pdf"


def test_a_password_protected_pdf_is_refused_but_one_anyone_can_open_is_checked():
    assert refusal_of(pdf_samples.encrypted(user_password="secret")) == "pdf_encrypted"
    # Only an owner password (printing or copying restricted): opens without one.
    assert check(pdf_samples.encrypted(user_password="")) == "application/pdf"


@pytest.mark.parametrize(
    "pdf",
    [
        b"%PDF-1.7\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF",
        b"%PDF-1.7\n1 0 obj<</OpenAction<</S/J#61vaScript/JS(x)>>>>endobj\n%%EOF",
        b"%PDF-1.7\n1 0 obj<</Type/Action/S/Launch/F(cmd.exe)>>endobj\n%%EOF",
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        b"%PDF-" + b"\x00" * 5000,
    ],
    ids=["script", "hex-escaped script", "launch", "no catalog", "zeros"],
)
def test_a_pdf_that_cannot_be_read_is_refused_as_unreadable(pdf):
    assert refusal_of(pdf) == "pdf_unreadable"


def test_a_pdf_of_too_many_objects_is_refused_quickly():
    count = documents.MAX_PDF_OBJECTS + 1
    pdf = pdf_samples.assembled([b"<< /Type /Catalog >>"] + [b"0"] * count)
    started = time.monotonic()
    assert refusal_of(pdf) == "pdf_too_complex"
    assert time.monotonic() - started < 20


def test_deep_nesting_in_a_pdf_is_refused_without_a_crash():
    deep = b"[" * 100_000 + b"]" * 100_000
    pdf = pdf_samples.assembled([b"<< /Type /Catalog /Deep 2 0 R >>", deep])
    assert refusal_of(pdf) in ("pdf_unreadable", "pdf_too_complex")


def test_a_pdf_of_more_parts_than_the_walk_visits_is_refused(monkeypatch):
    monkeypatch.setattr(documents, "MAX_PDF_VISITS", 1000)
    wide = b"[" + b"[0 0] " * 1000 + b"]"
    pdf = pdf_samples.assembled([b"<< /Type /Catalog /Wide 2 0 R >>", wide])
    assert refusal_of(pdf) == "pdf_too_complex"
    narrow = b"[" + b"[0 0] " * 900 + b"]"
    assert check(pdf_samples.assembled([b"<< /Type /Catalog /N 2 0 R >>", narrow]))


def test_a_pdf_that_takes_too_long_to_check_is_refused(monkeypatch):
    monkeypatch.setattr(documents, "MAX_PDF_SECONDS", -1)
    assert refusal_of(PDF_BYTES) == "pdf_too_complex"


def test_an_image_bomb_is_refused_and_a_normal_scan_passes():
    assert check(png(2480, 3508), "scan.png") == "image/png"  # A4 at 300 dpi
    with pytest.raises(documents.ValidationError) as refused:
        check(png(50_000, 50_000), "bomb.png")
    assert refused.value.code == "image_too_large"


def test_a_jpeg_is_measured_from_its_frame_header():
    def jpeg(width, height):
        app0 = b"\xff\xe0" + (16).to_bytes(2, "big") + b"JFIF\x00" + b"\x00" * 9
        sof = b"\xff\xc0" + (17).to_bytes(2, "big") + b"\x08"
        sof += height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x03" + b"\x00" * 9
        return b"\xff\xd8" + app0 + sof + b"\xff\xd9"

    assert documents.image_size(jpeg(1200, 1600), "image/jpeg") == (1200, 1600)
    assert check(jpeg(1200, 1600), "a.jpg") == "image/jpeg"
    with pytest.raises(documents.ValidationError):
        check(jpeg(65000, 65000), "b.jpg")
    with pytest.raises(documents.ValidationError) as refused:
        check(b"\xff\xd8\xff\x00garbage", "c.jpg")
    assert refused.value.code == "image_damaged"


def test_an_active_pdf_upload_stores_nothing_and_says_why(client, people):
    application = services.application_create(by=people["alice"])
    client.force_login(people["alice"])
    bad = pdf_samples.in_object_streams(place="open-action")
    response = client.post(
        f"/applications/{application.reference}/documents/",
        {"doc_type": "other", "file": SimpleUploadedFile("a.pdf", bad)},
        follow=True,
    )
    assert "脚本" in response.content.decode()
    assert not Document.objects.exists()


def test_a_document_is_served_sandboxed(client, people):
    application = services.application_create(by=people["alice"])
    document = services.document_upload(
        application=application,
        doc_type="other",
        flag="",
        upload=SimpleUploadedFile("a.pdf", PDF_BYTES),
        by=people["alice"],
    )
    client.force_login(people["alice"])
    response = client.get(f"/documents/{document.pk}/")
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"
