"""A document's file as an HTTP response, for the browser's page and the API alike."""

from django.http import FileResponse

from cases import audit
from cases.models import Document

# Opened in the browser, an uploaded file runs nothing and reaches nothing of the app's.
SANDBOX = "sandbox; default-src 'none'; style-src 'unsafe-inline'"


def document_response(document: Document, *, user, view: str, as_attachment: bool):
    """The file as stored, recorded in the access record (§5) under `view`."""
    audit.access_record(
        application=document.application,
        user=user,
        view=view,
        detail=f"{document.doc_type} #{document.pk}",
    )
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=as_attachment,
        filename=document.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = SANDBOX
    return response
