"""Receipts, allocations and payments in a browser (standard.md §4): bob records a receipt
on the application page, allocates part of it to his member's pledge and records the
payment; the receipt typed again with full-width digits is recognised; axe is clean and
nothing scrolls sideways at 375 px.

Assertions rely on data (receipt keys, amounts as the pages format them, the database),
not on translated wording.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import Page, expect

from cases.models import MemberReview, Payment, Receipt
from cases.review import services as workflow
from organizations.models import AidProject
from tests.browser.test_pages_in_browser import no_horizontal_scroll, serious_axe_violations
from tests.browser.test_review_in_browser import money, press, review_of, sign_in_as
from tests.browser.test_review_in_browser import submitted as submitted  # noqa: F401 - a fixture


def shoot(page: Page, name: str) -> None:
    """With BROWSER_SCREENSHOTS=/some/folder, save the page as bills-<name>.png."""
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"bills-{name}.png"), full_page=True)


def fill_receipt(page: Page, *, code: str, number: str) -> None:
    day = (timezone.localdate() - timedelta(days=2)).isoformat()
    page.fill("#id_code", code)
    page.fill("#id_number", number)
    page.fill("#id_hospital", "北京儿童医院")
    page.fill("#id_issued_on", day)
    page.check("#id_kind_0")
    page.fill("#id_patient_number", "ZY-0815")
    page.fill("#id_total", "50000")
    page.fill("#id_insurance_fund", "30000")
    page.fill("#id_co_payment", "12000")
    page.fill("#id_self_paid", "8000")


def test_a_reviewer_records_a_receipt_allocates_it_and_pays(
    page: Page, site, people, submitted, axe_source
):
    bob = people["bob"]
    pledge = workflow.review_approve(
        review=review_of(submitted, 1),
        project=AidProject.objects.get(code="P01"),
        amount=Decimal(15000),
        by=bob,
    )
    detail = f"/applications/{submitted.reference}/"
    sign_in_as(page, site, "bob")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{site}{detail}")
    page.locator(f"#receipts a[href='{detail}receipts/new/']").click()

    # Parts that do not add up: the message is at the total, the typing is kept.
    fill_receipt(page, code="11010124", number="0012345678")
    page.fill("#id_self_paid", "7000")
    press(page, page.locator("form.form"))
    expect(page.locator("#id_total_error")).to_contain_text(
        "三项合计 49,000 元，与总额 50,000 元不符"
    )
    expect(page.locator("#id_self_paid")).to_have_value("7000")
    shoot(page, "receipt-error")
    assert not Receipt.objects.exists()
    assert serious_axe_violations(page, axe_source) == []
    fits, why = no_horizontal_scroll(page)
    assert fits, why

    page.fill("#id_self_paid", "8000")
    press(page, page.locator("form.form"))
    receipt = Receipt.objects.get()
    assert (receipt.code, receipt.number, receipt.room) == ("11010124", "0012345678", 20000)
    expect(page).to_have_url(f"{site}/receipts/{receipt.pk}/")

    # The same paper typed again with full-width digits and dashes: shown, not copied.
    page.goto(f"{site}{detail}receipts/new/")
    fill_receipt(page, code="１１０１-０１２４", number="００１２ ３４５６７８")
    press(page, page.locator("form.form"))
    expect(page.locator(".existing-receipt")).to_contain_text("bob")
    # The summary's link goes up to the panel of the recorded receipt (issue 16, finding 7).
    page.locator("#error-summary a[href='#existing-receipt']").click()
    expect(page.locator("#existing-receipt")).to_be_focused()
    shoot(page, "receipt-exists")
    expect(page.locator(".existing-receipt a")).to_have_attribute(
        "href", f"/receipts/{receipt.pk}/"
    )
    assert Receipt.objects.count() == 1

    # The application page lists the receipt; bob goes to his member's pledge.
    page.goto(f"{site}{detail}")
    expect(page.locator("#receipts tbody")).to_contain_text("11010124-0012345678")
    page.locator(f"#own-review a[href='/pledges/{pledge.pk}/']").click()
    expect(page.locator("#allocate")).to_have_count(1)
    page.select_option("#id_receipt", str(receipt.pk))
    page.fill("#id_amount", "15000")
    press(page, page.locator("#allocate"))
    receipt.refresh_from_db()
    assert receipt.allocated_total == Decimal(15000)

    # The payee comes from field group G, its account masked in the hint (least privilege):
    # left empty, the payment goes to G04's account. A partial payment first, then the rest.
    pay = page.locator("#pay")
    expect(pay.locator("#id_account_number")).to_have_value("")
    expect(pay.locator("#id_account_number_helptext")).to_contain_text("*")
    pay.locator("#id_amount").fill("5000")
    pay.locator("#id_bank_reference").fill("TX-1")
    press(page, pay)
    pledge.refresh_from_db()
    assert (pledge.state, pledge.paid_total) == (MemberReview.State.PAYING, Decimal(5000))
    first = Payment.objects.get(review=pledge)
    assert first.account_number == pledge.application.account_number != ""
    pay = page.locator("#pay")
    pay.locator("#id_amount").fill("10001")
    press(page, pay)
    expect(page.locator("#id_amount_error")).to_contain_text(f"只有 {money(10000)} 元")
    page.locator("#pay #id_amount").fill("10000")
    press(page, page.locator("#pay"))
    pledge.refresh_from_db()
    assert (pledge.state, pledge.paid_total) == (MemberReview.State.PAID, Decimal(15000))
    assert Payment.objects.filter(review=pledge).count() == 2
    expect(page.locator("#pay")).to_have_count(0)
    shoot(page, "pledge-paid")
    assert serious_axe_violations(page, axe_source) == []
    fits, why = no_horizontal_scroll(page)
    assert fits, why

    # The application page shows paid against pledged for member 1.
    page.goto(f"{site}{detail}")
    row = page.locator("table.matrix tbody tr").filter(has_text=pledge.member.name_zh)
    expect(row).to_contain_text(money(15000))
    texts = [t.strip() for t in row.locator("td").all_inner_texts()]
    assert texts[3] == money(15000) and texts[4] == money(15000), texts
