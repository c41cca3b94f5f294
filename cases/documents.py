"""Document checks (standard.md §2 F): the type is read from the file's bytes, not its name."""

from __future__ import annotations

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
    return kind


def missing(application) -> list[tuple[str, str]]:
    """Checklist entries with no document that is received or accepted."""
    have = {
        (doc.doc_type, doc.flag if doc.doc_type == Document.Type.HARDSHIP_CERTIFICATE else "")
        for doc in application.documents.all()
        if doc.status != Document.Status.REJECTED
    }
    return [entry for entry in checklist(application) if entry not in have]
