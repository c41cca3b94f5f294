from organizations.models import User


def navigation(request):
    """Tell the base template which navigation entries the user's role may see."""
    user = request.user
    role = getattr(user, "role", "") if user.is_authenticated else ""
    return {
        "nav_is_staff_member": role in (User.Role.CASEWORKER, User.Role.REVIEWER),
        "nav_is_hospital_staff": role == User.Role.HOSPITAL_STAFF,
        "nav_can_admin": user.is_authenticated and user.is_staff,
    }
