"""Every page in Chinese has no English left, and in English no Chinese outside proper
names (issue 16, finding 5). The pages are rendered for the named users as they reach them;
the visible text (tags, scripts and styles stripped; the titles, labels and placeholders
people hear or read kept) is scanned."""

import html
import re

import pytest
from django.conf import settings
from django.utils import translation

from cases.leads.selectors import masked_name
from cases.models import Lead
from cases.standard import ETHNIC_GROUPS, ETHNIC_GROUPS_EN, ethnic_group_choices
from organizations import regions
from organizations.models import Hospital, MemberOrganization, User
from tests.named_pages import named_pages, typed_texts

pytestmark = pytest.mark.django_db

# Proper names and codes that are the same in both languages.
ALLOWED_EN = {
    "API",
    "PDF",
    "CSV",
    "XLSX",
    "ICD",
    "ID",
    "OTP",
    "TOTP",
    "JSON",
    "QR",
    "DB",
    "CN",
    "OK",
    "P",
    "v",
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "hana",
    "sam",
    "root",
    "e-mail",
    "Django",  # the password reset pages are Django's own, named so
    "English",  # the language switcher names each language in itself
    "Google",
    "Microsoft",
    "FreeOTP",
    "Authenticator",  # the authenticator apps' names
}
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{1,}")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
HAN = re.compile(r"[\u4e00-\u9fff]+")
LABELS = re.compile(r"(?is)<(label|legend|th|dt|option|button|h[1-6])\b[^>]*>(.*?)</\1>")


def visible_text(page: str) -> str:
    # Scripts and styles are not read; <code> is a literal (a command, a field's code).
    page = re.sub(r"(?is)<(script|style|code)\b.*?</\1>", " ", page)
    kept = re.findall(r'(?i)\b(?:title|aria-label|placeholder|alt)="([^"]*)"', page)
    text = re.sub(r"(?s)<[^>]+>", " ", page)
    text = html.unescape(" ".join([text, *kept]))
    text = re.sub(r"`[^`]*`", " ", text)  # a command quoted as in a terminal
    # Addresses are data, not words: e-mail addresses and links written out.
    return re.sub(r"\S+@\S+|https?://\S+", " ", text)


def english_left(text: str) -> list[str]:
    words = {w for w in WORD.findall(text) if w not in ALLOWED_EN and not w.isupper()}
    return sorted(words | set(SNAKE.findall(text)))


def region_or_typed(run: str, allowed: set[str]) -> bool:
    """Whether a run of Chinese characters is made only of allowed names, one after the
    other ("北京市朝阳区": a province's name, then a district's)."""
    ends = {0}
    for end in range(1, len(run) + 1):
        if any(start in ends and run[start:end] in allowed for start in range(end)):
            ends.add(end)
    return len(run) in ends


@pytest.fixture
def pages(people):
    """The application and the visits of tests/named_pages.py (the same list axe runs on)."""
    return named_pages(people)


@pytest.fixture
def proper_names(pages):
    """Chinese that an English page keeps: region names (GB/T 2260 has no official
    English; read from the regions table), the hospital directory's names, what people
    typed as free text (the demo child's and guardians' names, hospitals, banks, notes; a
    call-back request's name as the list masks it), the members' contact people (the
    directory's data), the language switch's 中文, and the second-factor issuer's name as
    the authenticator app shows it."""
    application, _visits = pages
    names = {region.name for region in regions.all_regions().values()}
    names |= set(Hospital.objects.values_list("name", flat=True))  # the directory's, no English
    contacts = MemberOrganization.objects.values_list("contact_name", flat=True)
    # A call-back request's name is typed by the family, shown masked on the member's list.
    leads = [masked_name(name) for name in Lead.objects.values_list("name", flat=True)]
    for text in [*typed_texts(application), *contacts, *leads, "中文", settings.OTP_TOTP_ISSUER]:
        names |= set(HAN.findall(text))
    return names


def _render(client, visit, language):
    client.logout()
    if visit.user:
        user = User.objects.get(username=visit.user)
        if visit.password_only:
            client.password_only_login(user)
        else:
            client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if visit.is_post:
        response = client.post(visit.url, visit.data, follow=True)
    else:
        response = client.get(visit.url, follow=True)
    assert response.status_code in ((visit.status,) if visit.status else (200, 400)), (
        visit,
        response.status_code,
    )
    return response.content.decode()


def test_no_english_is_left_in_the_chinese_pages(client, people, pages):
    found = {}
    for visit in pages[1]:
        words = english_left(visible_text(_render(client, visit, "zh-hans")))
        if words:
            found[f"{visit.user} {visit.name}"] = words
    assert not found, "\n" + "\n".join(f"{page}: {' '.join(left)}" for page, left in found.items())


def lower_case_labels(page: str) -> list[str]:
    """Labels, headings, table headers, options and buttons that start in lower case
    ("city", "rural"): words written for the middle of a sentence, used as a label. A
    field's code in front ("A07 ") is skipped."""
    found = []
    for _tag, inner in LABELS.findall(page):
        text = re.sub(r"^[A-H]\d\d\s+", "", html.unescape(re.sub(r"<[^>]+>", " ", inner)).strip())
        if text[:1].islower():
            found.append(text[:40])
    return found


def test_no_chinese_is_left_in_the_english_pages(client, people, pages, proper_names):
    """Outside proper names, and the labels are capitalised as labels (issue 16)."""
    found = {}
    for visit in pages[1]:
        page = _render(client, visit, "en")
        chinese = {
            run for run in HAN.findall(visible_text(page)) if not region_or_typed(run, proper_names)
        }
        lower = lower_case_labels(page)
        if chinese or lower:
            found[f"{visit.user} {visit.name}"] = sorted(chinese) + sorted(set(lower))
    assert not found, "\n" + "\n".join(f"{page}: {' '.join(left)}" for page, left in found.items())


def test_the_english_scan_sees_chinese_that_is_not_a_proper_name(proper_names):
    """The allowances are names, not a pass: a category or a choice in Chinese is found."""
    assert region_or_typed("北京市朝阳区", proper_names)
    assert region_or_typed("王小明", proper_names)
    assert not region_or_typed("白血病", proper_names)
    assert not region_or_typed("汉族", proper_names)
    assert not region_or_typed("北京市白血病", proper_names)


def test_the_label_check_sees_a_label_in_lower_case():
    page = '<label for="x">A07 city</label><th>Rural</th><label><input name="r"> rural</label>'
    assert lower_case_labels(page) == ["city", "rural"]


def test_every_ethnic_group_has_its_english_name():
    """A06 stores the Chinese name and shows either (GB/T 3304, 56 groups)."""
    assert len(ETHNIC_GROUPS_EN) == len(set(ETHNIC_GROUPS_EN)) == len(ETHNIC_GROUPS) == 56
    with translation.override("en"):
        english = dict((value, str(label)) for value, label in ethnic_group_choices())
    with translation.override("zh-hans"):
        chinese = dict((value, str(label)) for value, label in ethnic_group_choices())
    assert english["汉族"] == "Han" and english["维吾尔族"] == "Uyghur"
    assert all(value == label for value, label in chinese.items())
