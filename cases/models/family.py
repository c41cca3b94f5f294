"""What the family status page (standard.md §3, §5) keeps in the database."""

from django.db import models


class StatusLookupFailure(models.Model):
    """One failed (or not yet successful) family status lookup, for rate limiting.

    Kept in the database, not in process memory, so that the limits hold across several
    app servers. Neither the client's address nor the reference is stored in clear: both
    are keyed hashes (cases.family_status.lookup_key), enough to count, useless to read.
    """

    client_key = models.CharField(max_length=64)
    # Empty when what was typed cannot be a reference: those count per client only.
    reference_key = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # The two counts of the rate limit, over the window that ends now.
            models.Index(fields=["client_key", "at"], name="cases_lookup_client_at"),
            models.Index(fields=["reference_key", "at"], name="cases_lookup_reference_at"),
            # The purge of rows older than the window.
            models.Index(fields=["at"], name="cases_lookup_at"),
        ]

    def __str__(self):
        return f"{self.client_key[:8]} {self.reference_key[:8]} {self.at:%Y-%m-%d %H:%M:%S}"
