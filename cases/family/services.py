"""What a family writes from its status page (standard.md §3 "documents from the family"):
a photo or PDF of a paper a member asked for. The family has no account; the status page's
session (cases.family.views) says which application it opened, and only that one's
requested papers are found here.

The upload passes the intake's checks (cases.documents: type by its bytes, size limit,
scripts in PDFs refused) and is stored through the intake's own function; a photo loses
its metadata first (EXIF, GPS location included) by being decoded and written anew.
"""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from cases import documents, notify
from cases.errors import InvalidInput, WorkflowError
from cases.models import Application, Document, MemberReview, RequestedDocument

logger = logging.getLogger("aid_alliance.family")


def without_metadata(upload, kind: str) -> ContentFile:
    """The image decoded and written anew: the pixels only, no EXIF (GPS location, camera,
    time), XMP or text chunks. Turned upright first, since the orientation tag goes too."""
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (
        OSError,
        SyntaxError,  # Pillow's plugins raise it for a broken chunk or marker
        ValueError,
        UnidentifiedImageError,
        Image.DecompressionBombError,
    ):
        raise InvalidInput(_("The image file is damaged."), field="file") from None
    upright.info.clear()  # Pillow writes a JPEG's comment (and more) back from `info`
    out = io.BytesIO()
    if kind == "image/jpeg":
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        upright.save(out, "JPEG", quality=90)
    else:
        upright.save(out, "PNG")
    return ContentFile(out.getvalue(), name=upload.name or "photo")


def _hardship_flag(application: Application, doc_type: str) -> str:
    """Which claimed status (C05) a hardship certificate proves: the first still missing."""
    if doc_type != Document.Type.HARDSHIP_CERTIFICATE:
        return ""
    return next(
        (flag for kind, flag in documents.missing(application) if kind == doc_type),
        "",
    )


@transaction.atomic
def family_document_send(*, application_id: int, item_id: int, upload) -> Document:
    """Store the family's upload for one requested paper of its own application, as "sent
    by the family, not yet checked", and tell the caseworker who entered the application."""
    application = (
        Application.objects.select_for_update()
        .select_related("created_by")
        .filter(pk=application_id)
        .first()
    )
    item = (
        RequestedDocument.objects.select_related("review")
        .filter(pk=item_id, review__application_id=application_id)
        .first()
    )
    if application is None or item is None:
        raise InvalidInput(_("This paper is not asked for any more."), field="file")
    review = MemberReview.objects.select_for_update().get(pk=item.review_id)
    if (
        application.status != Application.Status.SUBMITTED
        or review.state != MemberReview.State.INFO_REQUESTED
        or item.answered_at is not None
    ):
        raise WorkflowError(_("This paper is not asked for any more."), field="file")
    sent = item.documents.exclude(status=Document.Status.REJECTED)
    if sent.exists():
        raise WorkflowError(
            _("This paper was already sent. The caseworker will check it."), field="file"
        )
    try:
        kind = documents.check_upload(upload, max_bytes=settings.DOCUMENT_MAX_BYTES)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], field="file") from None
    if kind != "application/pdf":
        upload = without_metadata(upload, kind)
    document = documents.document_upload(
        application=application,
        doc_type=item.doc_type,
        flag=_hardship_flag(application, item.doc_type),
        upload=upload,
        by=None,
        family_request=item,
    )
    caseworker, reference = application.created_by, application.reference
    subject = _("The family sent a document for %(reference)s") % {"reference": reference}
    body = _(
        "%(document)s was sent from the family's status page. Check it (accept or reject) "
        "on the application page, then answer the information request."
    ) % {"document": document.get_doc_type_display()}
    transaction.on_commit(lambda: notify.email_staff(caseworker, subject, body))
    return document
