from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.plugins.otp_totp.models import TOTPDevice

from aid_alliance.text import PlainTextField
from organizations import second_factor, services
from organizations.accounts import AdminLoginForm
from organizations.models import (
    AccountEvent,
    AidProject,
    DiseaseCategory,
    Hospital,
    HospitalEvent,
    MemberOrganization,
    RuleSet,
    User,
)

# The admin is behind the same login lockout as the staff pages, and the same second factor
# (organizations.second_factor.SecondFactorMiddleware sends an admin session without its
# code to /accounts/otp/).
admin.site.login_form = AdminLoginForm
# django-otp's own device admin would show every user's key (and so their codes) to an
# administrator: devices are enrolled by their owner only, and reset from the users' list.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
admin.site.site_header = _("Children's Serious-Illness Aid Alliance")
admin.site.site_title = _("Alliance administration")


class SecretariatAccess:
    """The secretariat edits the directory (standard.md §5); only an administrator deletes.
    Staff accounts have their own rule (UserAdmin). Names and texts of the directory are
    the public's: normalised, invisible characters refused, as on the case forms
    (aid_alliance.text)."""

    formfield_overrides = {
        models.CharField: {"form_class": PlainTextField},
        models.TextField: {"form_class": PlainTextField},
        models.SlugField: {},  # codes keep Django's slug field and its message
    }

    def _allowed(self, request):
        user = request.user
        return user.is_active and (user.is_superuser or user.is_secretariat)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, *args):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class MemberOrganizationForm(forms.ModelForm):
    """Every member has a phone and an e-mail in the directory (issue 16): families, on the
    status page, the receipt and the pre-check, and other members' caseworkers call them.
    Required here rather than in the model, so older rows load until the secretariat fills
    them in."""

    class Meta:
        model = MemberOrganization
        fields = [
            "number",
            "short_name",
            "name_zh",
            "name_en",
            "kind",
            "contact_name",
            "contact_phone",
            "contact_email",
            "is_executive",
            "is_active",
            "review_days",
            "require_hospital_confirmation",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("contact_phone", "contact_email"):
            self.fields[name].required = True


@admin.register(MemberOrganization)
class MemberOrganizationAdmin(SecretariatAccess, admin.ModelAdmin):
    form = MemberOrganizationForm
    list_display = [
        "number",
        "short_name",
        "name_zh",
        "kind",
        "contact_phone",
        "contact_email",
        "is_executive",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["name_zh", "name_en", "short_name"]


class HospitalEventInline(admin.TabularInline):
    model = HospitalEvent
    fields = ["at", "kind", "by", "changes", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Hospital)
class HospitalAdmin(SecretariatAccess, admin.ModelAdmin):
    """The hospital directory (issue 17): the secretariat adds and changes entries through
    organizations.services, each change an event shown below the entry."""

    list_display = ["name", "code", "region", "level", "is_childrens", "is_active", "is_demo"]
    list_filter = ["level", "is_childrens", "is_active", "is_demo"]
    search_fields = ["name", "code", "region"]
    inlines = [HospitalEventInline]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.HOSPITAL_FIELDS}
        if change:
            services.hospital_update(hospital=obj, by=request.user, **fields)
        else:
            created = services.hospital_create(by=request.user, **fields)
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    def save_related(self, request, form, formsets, change):
        """The events are written by the services, never through the inline."""


@admin.register(DiseaseCategory)
class DiseaseCategoryAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "icd_codes", "sort_order"]
    search_fields = ["code", "name_zh", "name_en"]


class RuleVersionInline(admin.TabularInline):
    model = RuleSet
    fields = ["version", "created_at", "created_by", "change_note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or request.user.is_secretariat


@admin.register(AidProject)
class AidProjectAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ["code", "name_zh", "member", "kind", "is_open", "rules_version"]
    list_filter = ["kind", "is_open", "member"]
    search_fields = ["code", "name_zh", "name_en"]
    list_select_related = ["member", "current_rules"]
    readonly_fields = ["current_rules"]
    inlines = [RuleVersionInline]

    @admin.display(description=_("rules version"))
    def rules_version(self, project):
        return project.current_rules.version if project.current_rules else None


@admin.register(RuleSet)
class RuleSetAdmin(SecretariatAccess, admin.ModelAdmin):
    """Saving rules always publishes a new version; the version edited stays as it was."""

    list_display = ["project", "version", "grant_method", "created_at", "created_by"]
    list_filter = ["project__member", "grant_method"]
    list_select_related = ["project", "created_by"]
    readonly_fields = ["version", "created_at", "created_by"]
    search_fields = ["project__code", "project__name_zh"]
    fieldsets = [
        (None, {"fields": ["project", "version", "change_note", "created_at", "created_by"]}),
        (_("Eligibility"), {"fields": RuleSet.ELIGIBILITY_FIELDS}),
        (_("Grant"), {"fields": RuleSet.GRANT_FIELDS}),
    ]

    def save_model(self, request, obj, form, change):
        services.rules_publish(
            rules=obj, by=request.user, note=form.cleaned_data.get("change_note")
        )

    def has_delete_permission(self, request, obj=None):
        # Decisions record the version they used: versions are never deleted.
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff accounts: administrators create and change them, the secretariat reads them
    (standard.md §5). Every save goes through organizations.services, one account event per
    change. Access comes from the role: Django's groups and per-user permissions are not
    used, so the form does not offer them, and `is_staff` follows the role."""

    list_display = [
        "username",
        "get_full_name",
        "organization",
        "hospital",
        "role",
        "is_active",
        "has_second_factor",
    ]
    actions = ["deactivate", "activate", "reset_second_factor"]
    list_filter = ["role", "organization", "hospital", "is_active"]
    list_select_related = ["organization", "hospital"]
    filter_horizontal = []
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "email"]}),
        (
            _("Alliance role"),
            {"fields": ["organization", "hospital", "role", "is_active", "is_superuser"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "password1",
                    "password2",
                    "organization",
                    "hospital",
                    "role",
                ],
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def _administrator(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_active and (request.user.is_superuser or request.user.is_secretariat)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self._administrator(request)

    # The add view, the change view's POST, the password form and the actions all ask this.
    def has_change_permission(self, request, obj=None):
        return self._administrator(request)

    def has_delete_permission(self, request, obj=None):
        return self._administrator(request)

    def get_queryset(self, request):
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        queryset = super().get_queryset(request).annotate(second_factor=Exists(enrolled))
        if request.user.is_superuser:
            return queryset
        return queryset.filter(is_superuser=False)

    @admin.display(description=_("second factor"), boolean=True, ordering="second_factor")
    def has_second_factor(self, obj):
        return obj.second_factor

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = services.user_create(
                by=request.user,
                username=data["username"],
                password=data["password1"] if data.get("set_usable_password", True) else None,
                role=data.get("role", ""),
                organization=data.get("organization"),
                hospital=data.get("hospital"),
            )
            # The admin goes on with `obj` (the log entry, the redirect to the new user).
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db
            return
        user = services.user_change_details(
            user=obj,
            by=request.user,
            **{name: data[name] for name in services.USER_DETAILS if name in data},
        )
        services.user_assign(
            user=user,
            role=data["role"],
            organization=data["organization"],
            hospital=data.get("hospital"),
            by=request.user,
        )
        services.user_set_active(user=user, is_active=data["is_active"], by=request.user)
        services.user_set_administrator(
            user=user, is_superuser=data["is_superuser"], by=request.user
        )

    def save_related(self, request, form, formsets, change):
        """Nothing else to save: no inlines, and no groups or permissions (see the class)."""

    @method_decorator(sensitive_post_parameters())
    def user_change_password(self, request, id, form_url=""):
        """Django's password page, with the write through services.user_set_password (an
        account event). An invalid or conflicting form is left to Django's view to show."""
        if request.method == "POST":
            user = self.get_object(request, unquote(id))
            if not self.has_change_permission(request, user):
                raise PermissionDenied
            if user is None:
                raise Http404
            form = self.change_password_form(user, request.POST)
            if form.is_valid() and (
                form.cleaned_data["set_usable_password"] or "unset-password" in request.POST
            ):
                user = services.user_set_password(
                    user=user,
                    password=(
                        form.cleaned_data["password1"]
                        if form.cleaned_data["set_usable_password"]
                        else None
                    ),
                    by=request.user,
                )
                self.log_change(request, user, self.construct_change_message(request, form, None))
                messages.success(
                    request,
                    _("Password changed.")
                    if user.has_usable_password()
                    else _("Password sign-in disabled"),
                )
                update_session_auth_hash(request, user)
                return HttpResponseRedirect(
                    reverse("admin:organizations_user_change", args=(user.pk,))
                )
        return super().user_change_password(request, id, form_url)

    def has_reset_second_factor_permission(self, request):
        return self._administrator(request)

    @admin.action(
        description=_("Reset the second factor (lost phone): enrol again at the next login"),
        permissions=["reset_second_factor"],
    )
    def reset_second_factor(self, request, queryset):
        users = list(queryset)
        for user in users:
            second_factor.reset(user=user, by=request.user)
        self.message_user(
            request,
            ngettext(
                "Second factor reset for %(count)d user.",
                "Second factor reset for %(count)d users.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )

    def _set_active(self, request, queryset, *, is_active: bool) -> int:
        changed = 0
        for user in queryset:
            if user.is_active != is_active:
                services.user_set_active(user=user, is_active=is_active, by=request.user)
                changed += 1
        return changed

    @admin.action(description=_("Deactivate: they can no longer sign in"), permissions=["change"])
    def deactivate(self, request, queryset):
        count = self._set_active(request, queryset, is_active=False)
        self.message_user(
            request,
            ngettext("%(count)d user deactivated.", "%(count)d users deactivated.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Activate"), permissions=["change"])
    def activate(self, request, queryset):
        count = self._set_active(request, queryset, is_active=True)
        self.message_user(
            request,
            ngettext("%(count)d user activated.", "%(count)d users activated.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    """Changes to staff accounts: a record, read by administrators and the secretariat,
    written only by organizations.services.account_event_record."""

    list_display = [
        "at",
        "user",
        "kind",
        "role_before",
        "role_after",
        "organization_before",
        "organization_after",
        "by",
        "note",
    ]
    list_filter = ["kind", "organization_after"]
    search_fields = ["user__username", "by__username"]
    list_select_related = ["user", "by", "organization_before", "organization_after"]
    date_hierarchy = "at"

    def has_module_permission(self, request):
        return request.user.is_active and (request.user.is_superuser or request.user.is_secretariat)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
