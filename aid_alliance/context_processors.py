from organizations.models import User

# The names navigation() sets, which the layout's header reads (aid_alliance/nav_tags.py).
NAVIGATION = ("nav_is_staff_member", "nav_is_hospital_staff", "nav_can_admin")


def navigation(request):
    """Tell the base template which navigation entries the user's role may see."""
    user = request.user
    role = getattr(user, "role", "") if user.is_authenticated else ""
    return {
        "nav_is_staff_member": role in (User.Role.CASEWORKER, User.Role.REVIEWER),
        "nav_is_hospital_staff": role == User.Role.HOSPITAL_STAFF,
        "nav_can_admin": user.is_authenticated and user.is_staff,
    }
