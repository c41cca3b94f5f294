from django.http import HttpResponse
from django.shortcuts import render

from organizations.selectors import directory_summary


def home(request):
    """Landing page: what the alliance is, and what the signed-in user's role may do."""
    return render(request, "home.html", {"summary": directory_summary()})


def bare(request):
    """A fixed string through the whole middleware stack: the ceiling each page is compared
    with in scripts/bench_scale.py. Served only when BENCH_BARE_VIEW is set."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
