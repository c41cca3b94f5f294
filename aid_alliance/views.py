from django.http import HttpResponse
from django.shortcuts import render

from cases import access, audit
from cases.intake import selectors as intake_selectors
from organizations.selectors import directory_summary


def home(request):
    """Landing page: what the alliance is, and what the signed-in user's role may do. A
    member's staff also find their work here: a new application, the information requests
    waiting for their answer and their drafts (issue 16)."""
    context = {"summary": directory_summary()}
    user = request.user
    if user.is_authenticated and getattr(user, "is_member_staff", False):
        awaiting = intake_selectors.awaiting_answer(user)
        drafts = intake_selectors.own_drafts(user)
        for draft in drafts:
            draft.can_discard = access.may_discard_draft(user, draft)
        # Children's names are personal data: the home's lists are recorded like any list.
        shown = {review.application.pk: review.application for review in awaiting}
        shown.update((draft.pk, draft) for draft in drafts)
        if shown:
            audit.access_record_list(applications=list(shown.values()), user=user, view="home")
        context.update(awaiting=awaiting, drafts=drafts)
    return render(request, "home.html", context)


def bare(request):
    """A fixed string through the whole middleware stack: the ceiling each page is compared
    with in scripts/bench_scale.py. Served only when BENCH_BARE_VIEW is set."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
