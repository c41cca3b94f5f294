from django import template
from django.utils.translation import get_language

from organizations.describe import describe_rules
from organizations.eligibility import yuan as format_yuan

register = template.Library()


@register.simple_tag
def localized(zh: str, en: str) -> str:
    """The name kept as data in both languages, in the reader's language."""
    return en if (get_language() or "").startswith("en") else zh


@register.filter
def describe(rules, labels):
    return describe_rules(rules, labels)


@register.filter
def yuan(amount) -> str:
    return format_yuan(amount)
