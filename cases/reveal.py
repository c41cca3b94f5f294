"""Least privilege for ID and bank account numbers (PIPL art. 51; standard.md §5).

Pages, the API and the application's PDF show these numbers masked ("110105********123X",
"***************5678"); a user whose task needs one in full asks for it with an explicit
"显示完整号码" action, recorded in the access record (view "reveal", or "api-reveal"), and
sees it in that one response only. Who may:

- the staff of the member that entered the application (they took the numbers from the
  family's papers and correct them) and the secretariat (oversight, reports to the
  authorities): every number;
- the staff of a member that pledged (approved, paying or paid): the bank account (G04)
  only, which they need to pay; never the child's or the guardians' ID numbers;
- nobody else: another member's reviewer reads the case with the numbers masked.

The edit page of the entering member shows the numbers in its inputs: correcting them is
the task (it is recorded as "edit").
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from cases import access, audit
from cases.identity import ACCOUNT_FIELDS, MASKED_FIELDS, mask_id_number
from cases.models import Application, MemberReview

NOTHING: frozenset[str] = frozenset()


def revealable(user, application: Application) -> frozenset[str]:
    """The numbers (section form field names) `user` may ask to see in full."""
    if user.is_superuser or getattr(user, "is_secretariat", False):
        return MASKED_FIELDS
    if not getattr(user, "is_member_staff", False):
        return NOTHING
    if user.organization_id == application.member_id:
        return MASKED_FIELDS
    if access.shared_data_withheld(user, application) and (
        application.payee_kind != Application.PayeeKind.HOSPITAL
    ):
        return NOTHING  # consent withdrawn: the guardian's account is no longer shared
    pledged = (
        MemberReview.objects.pledging()
        .filter(application=application, member_id=user.organization_id)
        .exists()
    )
    return ACCOUNT_FIELDS if pledged else NOTHING


def reveal(*, application: Application, user, via: str) -> frozenset[str]:
    """Record that `user` asked for the full numbers here (`via`: the page, pdf, api …) and
    return which ones they may see; PermissionDenied when none."""
    fields = revealable(user, application)
    if not fields:
        raise PermissionDenied
    audit.access_record(
        application=application,
        user=user,
        view="api-reveal" if via == "api" else "reveal",
        detail=f"{via}: {', '.join(sorted(fields))}",
    )
    return fields


def shown(name: str, value, revealed: frozenset[str] = NOTHING):
    """A section field's value as shown: masked when it is a number not revealed."""
    if name in MASKED_FIELDS and name not in revealed and value:
        return mask_id_number(str(value))
    return value
