"""Documents (standard.md §2 F): an upload is checked by its bytes, not its name, and
stored outside public paths; the intake's documents and the bills' receipt scans alike."""

from __future__ import annotations

import hashlib
import io
import struct
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pypdf import PasswordType, PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from cases import events
from cases.errors import ApplicationError
from cases.models import Application, Document
from cases.standard import checklist

# The first bytes that say what a file is; a renamed program has none of them.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


# A PDF is read with pypdf and every object is looked at, wherever it sits (compressed object
# streams included): names that run something, carry other files or make a form are refused.
# A scan or a printed PDF has none of them, and "print it to a new PDF" removes them all.
RUNS_SOMETHING = {
    "/JavaScript",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/GoToR",  # opens another file, e.g. on a network share (which leaks the reader's login)
    "/GoToE",
    "/RichMediaExecute",
    "/Rendition",
    "/Movie",
    "/Sound",
}
SCRIPT_KEYS = {"/JS", "/JavaScript"}  # an action's script, the document's script name tree
ATTACHMENT_KEYS = {"/EmbeddedFiles", "/EF"}
ATTACHMENT_NAMES = {("/Type", "/EmbeddedFile"), ("/Subtype", "/FileAttachment")}
FORM_KEYS = {"/AcroForm", "/XFA"}
ACTIVE_NAMES = {("/Subtype", "/RichMedia")}
# A hostile PDF of millions of objects or parts must not hold a worker: the walk stops and
# refuses past these (a scanned or printed PDF of 10 MB has a few thousand objects, a few
# tens of thousands of dictionaries and arrays). pypdf bounds each array and dictionary it
# parses (100,000 entries) and what a stream may decompress to (pypdf.Configuration).
MAX_PDF_OBJECTS = 50_000
MAX_PDF_VISITS = 300_000  # dictionaries, arrays and references
MAX_PDF_SECONDS = 15

PDF_PROBLEMS = {
    "pdf_active": _(
        "This PDF contains scripts or actions that run by themselves, which are not accepted. "
        "Print it to a new PDF or scan the paper instead."
    ),
    "pdf_attachment": _(
        "This PDF carries other files inside it (attachments), which are not accepted. "
        "Print it to a new PDF or scan the paper instead."
    ),
    "pdf_form": _(
        "This PDF is a fillable form, which is not accepted. "
        "Print it to a new PDF or scan the paper instead."
    ),
    "pdf_encrypted": _(
        "This PDF is protected by a password, so its content cannot be checked. "
        "Print it to a new PDF without a password or scan the paper instead."
    ),
    "pdf_unreadable": _(
        "This PDF is damaged or cannot be read, so its content cannot be checked. "
        "Print it to a new PDF or scan the paper instead."
    ),
    "pdf_too_complex": _(
        "This PDF is too complex to be checked. Print it to a new PDF or scan the paper instead."
    ),
}


def pdf_problem(data: bytes) -> str | None:
    """The code (a key of PDF_PROBLEMS) of the first thing that makes a PDF unacceptable."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return "pdf_encrypted"  # an owner password alone (restrictions) opens with ""
        if "/Root" not in reader.trailer:
            return "pdf_unreadable"
        return _pdf_walk(reader)
    except Exception:
        # pypdf raises many kinds of error on a broken or hostile file, and RecursionError
        # on deep nesting (its object parser recurses): each means it cannot be checked.
        return "pdf_unreadable"


def _pdf_objects(reader: PdfReader) -> list[IndirectObject]:
    """Every object the file's cross-reference lists, in object streams or not."""
    numbers = {(num, gen) for gen, table in reader.xref.items() for num in table}
    numbers |= {(num, 0) for num in reader.xref_objStm}
    return [IndirectObject(num, gen, reader) for num, gen in sorted(numbers)]


# Actions the viewer starts by itself: when the document opens (/OpenAction) or a page,
# annotation or field does (/AA). A web address there is also refused (it calls home
# without a click); in a link the reader clicks it is not. An /OpenAction that only shows a
# page (a destination, as word processors write) is not an action and passes.
# The walk keeps track of where it is with respect to those.
_TRIGGERS = "triggers"  # the value of /AA: trigger -> action
_ACTION = "action"  # the value of /OpenAction, of a trigger, of an action's /Next
_CONTAINERS = (DictionaryObject, ArrayObject, IndirectObject)


def _pdf_walk(reader: PdfReader) -> str | None:
    """Each object once, with a stack instead of recursion. A reference inside an object is
    not followed (the object it names is on the list anyway), except to the actions under
    /OpenAction or /AA: what it leads to decides whether the action starts by itself."""
    objects = _pdf_objects(reader)
    if len(objects) > MAX_PDF_OBJECTS:
        return "pdf_too_complex"
    stack = [(reader.trailer, None, False)] + [(ref, None, True) for ref in objects]
    followed = set()
    visits = 0
    deadline = time.monotonic() + MAX_PDF_SECONDS
    while stack:
        item, automatic, listed = stack.pop()
        visits += 1
        if visits > MAX_PDF_VISITS or time.monotonic() > deadline:
            return "pdf_too_complex"
        if isinstance(item, IndirectObject):
            if automatic is None and not listed or (item.idnum, automatic) in followed:
                continue
            if automatic is not None:
                followed.add((item.idnum, automatic))
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            problem = _pdf_dictionary_problem(item, automatic == _ACTION)
            if problem:
                return problem
            stack.extend(
                (value, _pdf_child_context(automatic, key), False)
                for key, value in dict.items(item)
                if isinstance(value, _CONTAINERS)
            )
        elif isinstance(item, ArrayObject):
            stack.extend(
                (value, automatic, False)
                for value in list.__iter__(item)
                if isinstance(value, _CONTAINERS)
            )
    return None


def _pdf_child_context(automatic: str | None, key: str) -> str | None:
    if automatic == _TRIGGERS:
        return _ACTION  # the action of each trigger
    if key == "/OpenAction" or (automatic == _ACTION and key == "/Next"):
        return _ACTION
    return _TRIGGERS if key == "/AA" else None


def _pdf_name(dictionary: DictionaryObject, key: str) -> str | None:
    value = dict.get(dictionary, key)
    if isinstance(value, IndirectObject):
        value = value.get_object()
    return str(value) if isinstance(value, str) else None


def _pdf_dictionary_problem(dictionary: DictionaryObject, automatic: bool) -> str | None:
    keys = dictionary.keys()
    names = {(key, _pdf_name(dictionary, key)) for key in ("/S", "/Type", "/Subtype")}
    action = _pdf_name(dictionary, "/S")
    if keys & SCRIPT_KEYS or names & ACTIVE_NAMES or action in RUNS_SOMETHING:
        return "pdf_active"
    if automatic and action == "/URI":
        return "pdf_active"
    if keys & ATTACHMENT_KEYS or names & ATTACHMENT_NAMES:
        return "pdf_attachment"
    if keys & FORM_KEYS:
        return "pdf_form"
    return None


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
    if kind == "application/pdf":
        problem = pdf_problem(data)
        if problem:
            raise ValidationError(PDF_PROBLEMS[problem], code=problem)
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
    return missing_among(
        checklist(application),
        ((doc.doc_type, doc.flag, doc.status) for doc in application.documents.all()),
    )


def missing_among(
    needed: list[tuple[str, str]], have: Iterable[tuple[str, str, str]]
) -> list[tuple[str, str]]:
    """The entries of a checklist that no (type, flag, status) of a document received or
    accepted answers; for a reader of rows rather than Document instances."""
    answered = {
        (doc_type, flag if doc_type == Document.Type.HARDSHIP_CERTIFICATE else "")
        for doc_type, flag, status in have
        if status != Document.Status.REJECTED
    }
    return [entry for entry in needed if entry not in answered]


# --- storing an upload: the intake's documents and the bills' receipt scans -------------


@transaction.atomic
def document_upload(
    *, application: Application, doc_type: str, flag: str, upload, by, family_request=None
) -> Document:
    """Store a checked upload (type by its bytes, size limit) outside public paths.

    `by` is None, and `family_request` the paper asked for, when the family sent it from
    its status page (cases.family.services): "sent by the family, not yet checked"."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status in (Application.Status.WITHDRAWN, Application.Status.CLOSED):
        raise ApplicationError(gettext("This application is closed."))
    if application.discarded_at is not None:
        raise ApplicationError(gettext("This draft was discarded."))
    try:
        content_type = check_upload(upload, max_bytes=settings.DOCUMENT_MAX_BYTES)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0]) from None
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        application=application,
        doc_type=doc_type,
        flag=flag or "",
        original_name=(upload.name or "")[:200],
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=by,
        family_request=family_request,
    )
    document.file.save(f"{application.reference}-{digest.hexdigest()[:16]}", upload, save=False)
    try:
        document.full_clean(exclude=["file"])
    except ValidationError as exc:
        document.file.delete(save=False)
        raise ApplicationError("; ".join(exc.messages)) from None
    document.save()
    events.record_event(
        application=application,
        by=by,
        kind=events.Action.FAMILY_UPLOADED if family_request else events.Action.DOCUMENT_UPLOADED,
        section="F",
        note=f"{document.get_doc_type_display()}: {document.original_name}",
    )
    return document
