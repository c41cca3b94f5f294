"""Pages for receipts, allocations and payments (standard.md §4): thin views over
cases.bills.services and cases.bills.selectors; who may see and write is cases.access.

Who sees what: a receipt is seen by whoever may see the application it was recorded on; a
pledge's payment page by its own member's staff (and the secretariat, read only); only the
member's reviewers write. Another member's staff get a 404, as everywhere.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aid_alliance.error_summary import form_error_summary
from cases import access, audit, reveal
from cases.bills import selectors
from cases.bills import services as bills
from cases.bills.forms import AllocationForm, PaymentForm, ReceiptForm, ReversalForm
from cases.errors import ApplicationError, NotAllowed
from cases.models import Allocation, MemberReview, Payment, Receipt

PAGE_SIZE = 25


def _receipt_context(receipt: Receipt) -> dict:
    """A receipt's allocations, newest last, with what each member holds of it net."""
    allocations = list(
        receipt.allocations.select_related("review__member", "created_by", "reverses")
    )
    return {
        "receipt": receipt,
        "allocations": allocations,
        "held": selectors.held_by_member(allocations),
    }


def _duplicate_message(same_child: bool) -> str:
    return (
        # No "above" or "below": the error summary, the field's message and the panel of
        # the receipt sit in different places on the page (issue 16); the summary links
        # to the panel.
        _(
            "This receipt is already recorded: see who recorded it in the register entry on "
            "this page."
        )
        if same_child
        else _("This receipt is already recorded for another child.")
    )


@login_required
@require_http_methods(["GET", "POST"])
def receipt_new(request, reference):
    application = access.get_application_for_receipts(request.user, reference)
    form = ReceiptForm(request.POST or None, request.FILES or None)
    existing = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            receipt = bills.receipt_record(application=application, by=request.user, **data)
        except bills.DuplicateReceipt as exc:
            existing = {**_receipt_context(exc.receipt), "same_child": exc.same_child}
            form.add_error("number", _duplicate_message(exc.same_child))
        except NotAllowed:
            raise PermissionDenied from None
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Receipt recorded."))
            return redirect("receipt-detail", receipt.pk)
    elif request.method == "POST":
        # The register is checked by its key alone (§4): a receipt already recorded is
        # shown at once, before the other fields are typed for nothing.
        code, number = form.cleaned_data.get("code"), form.cleaned_data.get("number")
        found = bills.receipt_find(code, number) if code and number else None
        if found is not None:
            same = bills.same_child(found, application)
            existing = {**_receipt_context(found), "same_child": same}
            form.add_error("number", _duplicate_message(same))
    return render(
        request,
        "cases/receipt_form.html",
        {
            "application": application,
            "form": form,
            "existing": existing,
            # The duplicate's message links to the panel of the receipt already recorded.
            "errors": form_error_summary(
                form,
                anchors={"number": "existing-receipt"} if existing else None,
                whole_form_anchor="receipt-form",
            )
            if form.errors
            else [],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def receipt_detail(request, pk):
    receipt = access.get_receipt_for(request.user, pk)
    audit.access_record(
        application=receipt.application, user=request.user, view="receipt", detail=str(receipt)
    )
    return render(request, "cases/receipt_detail.html", _receipt_context(receipt))


# --- a member's pledge: allocations and payments -------------------------------------------


def _payee(user, application):
    """The application whose G04 account a payment left without one goes to: only for a
    user who may see that account (cases.reveal), since it is masked on the page."""
    return application if "account_number" in access.revealable(user, application) else None


def _pledge_page(
    request,
    review,
    *,
    allocation_form=None,
    payment_form=None,
    status=200,
    revealed=reveal.NOTHING,
):
    application = review.application
    can_write = access.may_decide(request.user, review)
    receipts = selectors.child_receipts(application, request.user).order_by("issued_on", "pk")
    open_receipts = [receipt for receipt in receipts if receipt.room > 0]
    if allocation_form is None and can_write:
        allocation_form = AllocationForm(receipts=receipts, options=open_receipts)
    withheld = access.shared_data_withheld(request.user, application)
    account_shown = "account_number" in access.revealable(request.user, application)
    if payment_form is None and can_write:
        initial = PaymentForm.initial_for(application)
        if withheld and application.payee_kind != application.PayeeKind.HOSPITAL:
            # The guardian's bank account is the family's data, no longer shared.
            initial.update(payee_name="", bank_name="", account_number="")
        if "account_number" not in revealed:
            initial["account_number"] = ""  # masked: PaymentForm falls back to G04's account
        payment_form = PaymentForm(initial=initial, payee=application if account_shown else None)
    audit.access_record(application=application, user=request.user, view="pledge")
    return render(
        request,
        "cases/pledge.html",
        {
            "review": review,
            "application": application,
            "withheld": withheld,
            "revealed": revealed,
            "can_reveal": account_shown,
            "receipts": receipts,
            "allocations": review.allocations.select_related(
                "receipt", "created_by", "reversal"
            ).order_by("created_at", "pk"),
            "payments": review.payments.select_related("created_by", "reversal").order_by(
                "created_at", "pk"
            ),
            "can_write": can_write,
            "has_open_receipts": bool(open_receipts),
            "allocation_form": allocation_form,
            "payment_form": payment_form,
            "reversal_form": ReversalForm() if can_write else None,
            "unallocated": review.amount - review.allocated_total,
            "unpaid": review.amount - review.paid_total,
        },
        status=status,
    )


@login_required
@require_GET
def pledge_detail(request, pk):
    return _pledge_page(request, access.get_pledge_for(request.user, pk))


@login_required
@require_POST
def pledge_reveal(request, pk):
    """显示完整号码 on the pledge page: the payee's bank account, to pay; recorded."""
    review = access.get_pledge_for(request.user, pk)
    revealed = reveal.reveal(application=review.application, user=request.user, via="pledge")
    return _pledge_page(request, review, revealed=revealed)


@login_required
@require_POST
def pledge_allocate(request, pk):
    review = access.get_pledge_for(request.user, pk, write=True)
    receipts = selectors.child_receipts(review.application, request.user)
    form = AllocationForm(
        request.POST, receipts=receipts, options=[r for r in receipts if r.room > 0]
    )
    if form.is_valid():
        try:
            bills.allocation_create(
                review=review,
                receipt=form.cleaned_data["receipt"],
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except ApplicationError as exc:
            form.add_error("amount", str(exc))
        else:
            messages.success(request, _("Allocated."))
            return redirect("pledge-detail", review.pk)
    return _pledge_page(request, review, allocation_form=form, status=400)


@login_required
@require_POST
def pledge_pay(request, pk):
    review = access.get_pledge_for(request.user, pk, write=True)
    form = PaymentForm(request.POST, payee=_payee(request.user, review.application))
    if form.is_valid():
        try:
            bills.payment_record(review=review, by=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error("amount", str(exc))
        else:
            messages.success(request, _("Payment recorded."))
            return redirect("pledge-detail", review.pk)
    return _pledge_page(request, review, payment_form=form, status=400)


def _reverse(request, review, row, action):
    form = ReversalForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("note", []):
            messages.error(request, error)
        return redirect("pledge-detail", review.pk)
    try:
        action(by=request.user, note=form.cleaned_data["note"])
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Reversed. The history keeps both rows."))
    return redirect("pledge-detail", review.pk)


@login_required
@require_POST
def allocation_reverse(request, pk, allocation_pk):
    review = access.get_pledge_for(request.user, pk, write=True)
    allocation = get_object_or_404(Allocation, pk=allocation_pk, review=review)
    return _reverse(
        request,
        review,
        allocation,
        lambda **kw: bills.allocation_reverse(allocation=allocation, **kw),
    )


@login_required
@require_POST
def payment_reverse(request, pk, payment_pk):
    review = access.get_pledge_for(request.user, pk, write=True)
    payment = get_object_or_404(Payment, pk=payment_pk, review=review)
    return _reverse(
        request, review, payment, lambda **kw: bills.payment_reverse(payment=payment, **kw)
    )


# --- the member's workspace: its pledges to pay -----------------------------------------------


@login_required
@require_GET
def payments(request):
    """A member's pledges, newest decision first, with what is allocated and paid."""
    user = request.user
    if not user.is_member_staff:
        raise PermissionDenied
    state = request.GET.get("state", "")
    pledges = MemberReview.objects.filter(
        member_id=user.organization_id, state__in=MemberReview.PLEDGING_STATES
    )
    if state in MemberReview.PLEDGING_STATES:
        pledges = pledges.filter(state=state)
    pledges = (
        pledges.exclude(amount__isnull=True)
        .select_related("application__child", "project")
        .only(
            "state",
            "amount",
            "allocated_total",
            "paid_total",
            "decided_at",
            "application__reference",
            "application__member_id",
            "application__consent_withdrawn_at",
            "application__child__name",
            "project__code",
            "project__name_zh",
            "project__name_en",
        )
        .order_by("-decided_at", "-pk")
    )
    page = Paginator(pledges, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.access_record_list(
        applications=[review.application for review in page], user=user, view="payments"
    )
    return render(
        request,
        "cases/payments.html",
        {
            "page": page,
            "state": state,
            "states": [
                (value, label)
                for value, label in MemberReview.State.choices
                if value in MemberReview.PLEDGING_STATES
            ],
        },
    )
