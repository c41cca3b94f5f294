from django.shortcuts import render

from organizations.selectors import directory_summary


def home(request):
    """Landing page: what the alliance is, and what the signed-in user's role may do."""
    return render(request, "home.html", {"summary": directory_summary()})
