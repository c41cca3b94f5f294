"""Document checks (standard.md §2 F): the type is read from the file's bytes, not its name."""

from __future__ import annotations

import re
import struct

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.models import Document
from cases.standard import checklist

# The first bytes that say what a file is; a renamed program has none of them.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


# PDF names that run code or carry other files when the PDF is opened. A name may spell a
# character as #xx (/J#61vaScript), so names are decoded before they are compared.
ACTIVE_PDF_NAMES = {b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA"}
_PDF_NAME = re.compile(rb"/[^\s/<>\[\]()%{}]+")
_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
# An image larger than this, in pixels, is refused: a few kilobytes that decode into
# gigabytes of memory (a "decompression bomb") are not a scan of a document.
MAX_PIXELS = 80_000_000


def sniff(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def check_upload(upload, *, max_bytes: int) -> str:
    """The content type of an acceptable upload, or a ValidationError saying what is wrong."""
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if upload.size > max_bytes:
        raise ValidationError(
            _("The file is %(size)s MB; at most %(limit)s MB is accepted.")
            % {"size": round(upload.size / 1048576, 1), "limit": max_bytes // 1048576},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = sniff(head)
    if kind is None:
        raise ValidationError(
            _("Only PDF, JPEG and PNG files are accepted; this file is none of them."),
            code="file_type",
        )
    data = upload.read()
    upload.seek(0)
    if kind == "application/pdf" and active_pdf_content(data):
        raise ValidationError(
            _(
                "This PDF contains scripts or embedded files, which are not accepted. "
                "Print it to a new PDF or scan the paper instead."
            ),
            code="pdf_active",
        )
    if kind != "application/pdf":
        size = image_size(data, kind)
        if size is None:
            raise ValidationError(_("The image file is damaged."), code="image_damaged")
        if size[0] * size[1] > MAX_PIXELS:
            raise ValidationError(
                _("The image is %(w)s × %(h)s pixels, too large: scan at a lower resolution.")
                % {"w": size[0], "h": size[1]},
                code="image_too_large",
            )
    return kind


def active_pdf_content(data: bytes) -> bool:
    """Whether a PDF names actions that run code or embedded files (checked on the raw
    bytes: names inside compressed object streams are not seen, but a PDF made by a
    scanner or a print driver does not hide them there)."""
    for match in _PDF_NAME.finditer(data):
        name = _HEX.sub(lambda m: bytes([int(m[1], 16)]), match[0])
        if name in ACTIVE_PDF_NAMES:
            return True
    return False


def image_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """(width, height) read from the image's header, or None if it cannot be read."""
    if kind == "image/png":
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        return struct.unpack(">II", data[16:24])
    index = 2  # JPEG: walk the markers to the first frame header (SOF0–SOF15 but 4, 8, 12)
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:
            index += 1
            continue
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


def missing(application) -> list[tuple[str, str]]:
    """Checklist entries with no document that is received or accepted."""
    have = {
        (doc.doc_type, doc.flag if doc.doc_type == Document.Type.HARDSHIP_CERTIFICATE else "")
        for doc in application.documents.all()
        if doc.status != Document.Status.REJECTED
    }
    return [entry for entry in checklist(application) if entry not in have]
