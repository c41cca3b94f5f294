"""Reads under the guardian's withdrawal of consent (PIPL art. 15)."""

from __future__ import annotations

from cases.models import Application, MemberReview


def withheld_reviews(user, application: Application) -> list[MemberReview]:
    """What another member's staff still see of an application after the guardian
    withdrew consent, besides its reference and member: their own member's review (its
    decision and accounts). The browser's page and the API's body both show this."""
    return list(
        application.reviews.select_related("member", "project").filter(
            member_id=user.organization_id
        )
    )
