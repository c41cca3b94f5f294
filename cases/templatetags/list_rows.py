"""The rows of the long lists (the member inbox, the staff application list), rendered in
Python (issue 18).

Through the template engine each row cost a dozen variable look-ups, filters and
translations: with 25 rows that was most of the inbox's time. Here the labels are
translated once per page and each row is one str.format of escaped values. Every value
is escaped as the template escaped it, and the markup is the templates' own, whitespace
included; the tests compare it with what the templates rendered.
"""

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from aid_alliance import kept, money
from aid_alliance.escaping import escape
from aid_alliance.kept import Kept
from cases.identity import mask_id_number
from cases.models import Application, HospitalConfirmation, MemberReview
from organizations.templatetags.org_extras import local_name

register = template.Library()


def day(moment, pattern: str = "%Y-%m-%d") -> str:
    """A time as the `date` filter shows it: in the current time zone; "" for none."""
    return timezone.localtime(moment).strftime(pattern) if moment else ""


def withdrawn_badge(moment) -> SafeString:
    """The badge of an application whose guardian withdrew consent to sharing (§5)."""
    return format_html(
        '<span class="badge closed">{}</span>',
        _("The guardian has withdrawn consent to sharing (%(date)s)") % {"date": day(moment)},
    )


def _row(pattern: str, labels: dict | None = None, **values) -> str:
    """`pattern` filled with `values` escaped, and `labels` (escaped once per page)."""
    return pattern.format(**(labels or {}), **{name: escape(v) for name, v in values.items()})


def _joined(rows) -> SafeString:
    return mark_safe("".join(rows))  # noqa: S308 - each row is _row's, every value escaped


_INBOX_ROW = (
    "\n    "
    '<tr><td><a href="{url}">{reference}</a></td>\n'
    '      <td data-label="{l_child}">{child}</td>'
    '<td data-label="{l_category}">{category}</td>\n'
    '      <td data-label="{l_state}">{state}</td>'
    '<td data-label="{l_eligible}">{eligible}</td>\n'
    '      <td data-label="{l_gap}">{gap}</td>'
    '<td data-label="{l_routed}">{routed}</td>'
    '<td data-label="{l_due}">{due}</td></tr>\n  '
)
_CHECK = '<span aria-hidden="true">{}</span><span class="visually-hidden">{}</span>'


# The inbox's rows as rendered for the same rows, language, time zone and URL configuration
# (aid_alliance.kept): the rows are read on every request and the HTML is looked up by a
# digest of them. Rendering them (dates in the time zone, an address, eight escaped values
# a row) was half the inbox's CPU once the page around them was kept (issue 18).
ROWS_KEPT = Kept(1024)


@register.simple_tag
def inbox_rows(rows) -> SafeString:
    """The inbox's table rows (cases.review.selectors.inbox_rows), or its empty row."""
    rows = list(rows)
    key = kept.digest(
        (
            kept.surroundings(),
            "inbox_rows",
            rows,
        )
    )
    return ROWS_KEPT.get_or_build(key, lambda: _inbox_rows(rows))


def _inbox_rows(rows) -> SafeString:
    if not rows:
        return format_html('<tr><td colspan="8">{}</td></tr>', _("Nothing here."))
    labels = {
        name: escape(label)
        for name, label in (
            ("l_child", _("Child")),
            ("l_category", _("Disease category")),
            ("l_state", _("State")),
            ("l_eligible", _("Eligible")),
            ("l_gap", _("Funding gap (yuan)")),
            ("l_routed", _("Routed")),
            ("l_due", _("Due")),
        )
    }
    eligible = {True: format_html(_CHECK, "✔", _("Yes")), False: format_html(_CHECK, "—", _("No"))}
    states = dict(MemberReview.State.choices)
    kinds = dict(HospitalConfirmation.Kind.choices)
    confirmed = _("Confirmed by the hospital")
    rows_html = []
    for row in rows:
        child = row["child"]
        if row["withdrawn_at"]:
            child = format_html(
                "{}{}", f"{child} " if child else "", withdrawn_badge(row["withdrawn_at"])
            )
        confirmation = row["confirmation"]
        if confirmation:
            title = " · ".join(
                (
                    confirmation["hospital"],
                    day(confirmation["at"], "%Y-%m-%d %H:%M"),
                    str(kinds[confirmation["kind"]]),
                )
            )
            child = format_html(
                '{} <span class="badge done" title="{}">{}</span>', child, title, confirmed
            )
        rows_html.append(
            _row(
                _INBOX_ROW,
                labels,
                url=reverse("application-detail", args=[row["reference"]]),
                reference=row["reference"],
                child=child,
                category=local_name(row["category"]) or "—",
                state=states[row["state"]],
                eligible=eligible[bool(row["eligible"])],
                gap=money.yuan(row["gap"]),
                routed=day(row["routed_at"]),
                due=day(row["due_at"]),
            )
        )
    return _joined(rows_html)


_APPLICATION_ROW = """
    <tr>
      <td><a href="{url}">{reference}</a></td>
      <td>{child}</td>
      <td>{id_number}</td>
      <td>{category}</td>
      <td>{member}</td>
      <td>{status}</td>
      <td>{created}</td>
    </tr>
  """


def _names(thing) -> tuple | None:
    return None if thing is None else (thing.name_zh, thing.name_en)


@register.simple_tag
def application_rows(applications) -> SafeString:
    """The staff list's table rows (cases.intake.selectors.application_list: its `only`
    fields and annotations), or its empty row: kept as the inbox's rows are, by a digest of
    every value a row shows (ROWS_KEPT)."""
    applications = list(applications)
    shown = [
        (
            application.reference,
            application.child.name,
            str(application.child.id_number or ""),
            application.consent_withdrawn_at,
            application.discarded_at,
            application.info_requested,
            application.status,
            application.family_waiting,
            _names(application.category),
            _names(application.member),
            application.created_at,
        )
        for application in applications
    ]
    key = kept.digest(
        (
            "application_rows",
            kept.surroundings(),
            shown,
        )
    )
    return ROWS_KEPT.get_or_build(key, lambda: _application_rows(applications))


def _application_rows(applications) -> SafeString:
    if not applications:
        return format_html(
            '\n    <tr><td colspan="7">{}</td></tr>\n  ', _("No applications found.")
        )
    statuses = dict(Application.Status.choices)
    discarded = _("Discarded draft")
    info_requested = format_html('<span class="badge todo">{}</span>', _("Information requested"))
    waiting = format_html(
        ' <span class="badge todo needs-answer">{}</span>', _("Needs your answer")
    )
    rows_html = []
    for application in applications:
        child = application.child
        name = child.name
        if application.consent_withdrawn_at:
            name = format_html("{} {}", name, withdrawn_badge(application.consent_withdrawn_at))
        if application.discarded_at:
            status = discarded
        elif application.info_requested and application.status == Application.Status.SUBMITTED:
            status = info_requested
        else:
            status = statuses.get(application.status, application.status)
        if application.family_waiting:
            status = format_html("{}{}", status, waiting)
        rows_html.append(
            _row(
                _APPLICATION_ROW,
                url=reverse("application-detail", args=[application.reference]),
                reference=application.reference,
                child=name,
                id_number=mask_id_number(str(child.id_number or "")),
                category=local_name(application.category) or "—",
                member=local_name(application.member),
                status=status,
                created=day(application.created_at),
            )
        )
    return _joined(rows_html)
