"""What a member asked the family for, paper by paper (standard.md §3 "documents from the
family"): the family's status page lists these and takes an upload for each."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.application import Document
from cases.models.review import MemberReview


class RequestedDocumentQuerySet(models.QuerySet):
    def open(self):
        """Asked for and not yet answered by the caseworker (review_answer_info)."""
        return self.filter(answered_at__isnull=True)


class RequestedDocument(models.Model):
    """One paper of an information request, of a kind from the standard's list (§2 F).

    A review may ask again later: the items of one request are closed together when the
    caseworker answers it (`answered_at`), so a kind can be asked for once per request.
    """

    review = models.ForeignKey(
        MemberReview, on_delete=models.CASCADE, related_name="requested_documents"
    )
    doc_type = models.CharField(_("document"), max_length=24, choices=Document.Type)
    position = models.PositiveSmallIntegerField(default=0)
    requested_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = RequestedDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("requested document")
        verbose_name_plural = _("requested documents")
        ordering = ["review", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "doc_type"],
                condition=Q(answered_at__isnull=True),
                name="cases_requested_document_once_per_request",
            ),
        ]

    def __str__(self):
        return f"{self.review_id} {self.doc_type}"
