"""Uploads that are not what a scan of a paper is: refused with a clear message at the
field, nothing stored; files served back cannot run anything."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import documents, services
from cases.models import Document
from tests.intake_data import PDF_BYTES, png

pytestmark = pytest.mark.django_db

LIMIT = 10 * 1024 * 1024


def check(data: bytes, name="x.pdf"):
    return documents.check_upload(SimpleUploadedFile(name, data), max_bytes=LIMIT)


@pytest.mark.parametrize(
    "pdf",
    [
        b"%PDF-1.7\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF",
        b"%PDF-1.7\n1 0 obj<</OpenAction<</S/J#61vaScript/JS(x)>>>>endobj\n%%EOF",
        b"%PDF-1.7\n1 0 obj<</Type/Action/S/Launch/F(cmd.exe)>>endobj\n%%EOF",
        b"%PDF-1.7\n1 0 obj<</Type/EmbeddedFile/Length 3>>stream\nabc\nendstream\n%%EOF",
        b"%PDF-1.7\n1 0 obj<</AcroForm<</XFA 2 0 R>>>>endobj\n%%EOF",
    ],
)
def test_a_pdf_with_scripts_or_embedded_files_is_refused(pdf):
    with pytest.raises(documents.ValidationError) as refused:
        check(pdf)
    assert refused.value.code == "pdf_active"


def test_a_plain_pdf_and_words_that_only_look_alike_pass():
    assert check(PDF_BYTES) == "application/pdf"
    assert check(b"%PDF-1.4\n1 0 obj<</Title(JavaScript course)/JSON 1>>endobj\n%%EOF")


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
    bad = b"%PDF-1.7\n1 0 obj<</OpenAction<</S/JavaScript/JS(x)>>>>endobj\n%%EOF"
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
