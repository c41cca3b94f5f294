from decimal import InvalidOperation

from django import forms, template
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from aid_alliance import money
from organizations import selectors
from organizations.describe import describe_rules

register = template.Library()


@register.simple_tag
def localized(zh: str, en: str) -> str:
    """The name kept as data in both languages, in the reader's language."""
    return en if (get_language() or "").startswith("en") else zh


@register.simple_tag
def member_contacts():
    return selectors.member_contacts()


@register.filter
def describe(rules, labels):
    return describe_rules(rules, labels)


@register.filter
def local_name(thing) -> str:
    """A member's, project's or disease category's name in the page's language: name_en in
    English when it has one, else name_zh (issue 16, finding 5). Works on a model or on a
    stored snapshot (a dict with the same keys)."""
    if thing is None:
        return ""
    if isinstance(thing, dict):
        zh, en = thing.get("name_zh", ""), thing.get("name_en", "")
    else:
        zh, en = getattr(thing, "name_zh", ""), getattr(thing, "name_en", "")
    return en if en and get_language() == "en" else zh


@register.filter
def yuan(amount) -> str:
    """Money, one way on every page (issue 16): thousands separators, and fen only when
    there are any, as GOV.UK writes pounds — "95,000", "1,234.50" — the same as the
    eligibility engine's own sentences. The unit (元 / yuan) stays with the words around."""
    if amount is None or amount == "":
        return ""
    try:
        return money.yuan(amount)
    except (InvalidOperation, ValueError):
        return str(amount)


@register.filter
def money_shown(shown: str, bound_field) -> str:
    """A section field's shown value, formatted as money when the field holds yuan."""
    if shown and isinstance(bound_field.field, forms.DecimalField):
        return yuan(shown)
    return shown


# Change notes the system writes on a rule version (organizations.services.directory_load),
# shown in words; a person's note is shown as written.
SYSTEM_RULE_NOTES = {"directory file": _("Loaded from the directory file")}


@register.filter
def rules_note(note: str) -> str:
    return str(SYSTEM_RULE_NOTES.get(note, note))
