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
the task (it is recorded as "edit"). Who may see which numbers is
`cases.access.revealable`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from cases import access, audit
from cases.identity import MASKED_FIELDS, mask_id_number
from cases.models import Application

NOTHING: frozenset[str] = frozenset()


def reveal(*, application: Application, user, via: str) -> frozenset[str]:
    """Record that `user` asked for the full numbers here (`via`: the page, pdf, api …) and
    return which ones they may see; PermissionDenied when none."""
    fields = access.revealable(user, application)
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
