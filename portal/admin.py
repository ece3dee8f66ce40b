"""Admin for users, teams, entitlements and the (read-only) audit log.

Entitlement changes made here go through ``portal.services`` so each one is audited.
"""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from portal import services
from portal.api_tokens import api_token_revoke
from portal.lockouts import lockout_lift
from portal.models import ApiToken, AuditAction, AuditEvent, Entitlement, Team, User
from portal.origins import RequestOrigin

TARGET_FIELDS = {"portfolio", "user", "team"}
USER_PERMISSION_FIELDS = ("role", "is_active", "is_staff", "is_superuser")


def _entitlement_save(request, entitlement: Entitlement, changed_fields) -> Entitlement:
    """Save an entitlement edited in the admin through the services. A row whose
    portfolio, user or team changed ends the old grant and begins a new one."""
    if entitlement.pk is not None and TARGET_FIELDS & set(changed_fields):
        services.entitlement_revoke(
            actor=request.user,
            entitlement=Entitlement.objects.get(pk=entitlement.pk),
            origin=RequestOrigin.of(request),
        )
    return services.entitlement_grant(
        actor=request.user,
        portfolio=entitlement.portfolio,
        user=entitlement.user,
        team=entitlement.team,
        level=entitlement.level,
        origin=RequestOrigin.of(request),
    )


class AuditedEntitlementsMixin:
    """Saves inline entitlement rows through the services, so every grant, change
    and revocation made in the admin is audited like any other."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Entitlement:
            return super().save_formset(request, form, formset, change)
        entitlements = formset.save(commit=False)  # also fills deleted/changed_objects
        for gone in formset.deleted_objects:
            services.entitlement_revoke(
                actor=request.user, entitlement=gone, origin=RequestOrigin.of(request)
            )
        changed = {id(obj): fields for obj, fields in formset.changed_objects}
        for entitlement in entitlements:
            _entitlement_save(request, entitlement, changed.get(id(entitlement), ()))
        return None


class PortfolioEntitlementInline(admin.TabularInline):
    """Entitlements of a team or a user, one row per portfolio."""

    model = Entitlement
    extra = 0
    fields = ("portfolio", "level", "granted_at")
    readonly_fields = ("granted_at",)
    autocomplete_fields = ("portfolio",)


@admin.register(User)
class UserAdmin(AuditedEntitlementsMixin, BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_superuser", "is_active", "teams")
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Portal", {"fields": ("role",)}))
    add_fieldsets = (
        *(BaseUserAdmin.add_fieldsets or ()),
        ("Portal", {"fields": ("role", "email")}),
    )
    inlines = [PortfolioEntitlementInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = sorted(set(form.changed_data) - {"password", "password1", "password2"})
        if changed:
            # What a permission change was, not only that it happened.
            permissions = {
                field: {
                    "from": form.initial.get(field) if change else None,
                    "to": getattr(obj, field),
                }
                for field in USER_PERMISSION_FIELDS
                if field in changed
            }
            services.audit_record(
                actor=request.user,
                action=AuditAction.USER_CHANGED,
                target=obj,
                origin=RequestOrigin.of(request),
                details={"created": not change, "fields": changed, "changes": permissions},
            )


@admin.register(Team)
class TeamAdmin(AuditedEntitlementsMixin, admin.ModelAdmin):
    list_display = ("name", "description")
    search_fields = ("name",)
    filter_horizontal = ("members",)
    inlines = [PortfolioEntitlementInline]

    def save_related(self, request, form, formsets, change):
        before = set(form.instance.members.values_list("username", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(form.instance.members.values_list("username", flat=True))
        if before != after:
            services.audit_record(
                actor=request.user,
                action=AuditAction.TEAM_MEMBERSHIP_CHANGED,
                target=form.instance,
                origin=RequestOrigin.of(request),
                details={"added": sorted(after - before), "removed": sorted(before - after)},
            )


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = ("portfolio", "user", "team", "level", "granted_at")
    list_filter = ("level", "team")
    search_fields = ("portfolio__code", "user__username", "team__name")
    autocomplete_fields = ("portfolio", "user", "team")

    def save_model(self, request, obj, form, change):
        obj.pk = _entitlement_save(request, obj, form.changed_data if change else ()).pk

    def delete_model(self, request, obj):
        services.entitlement_revoke(
            actor=request.user, entitlement=obj, origin=RequestOrigin.of(request)
        )

    def delete_queryset(self, request, queryset):
        for entitlement in queryset:
            services.entitlement_revoke(
                actor=request.user, entitlement=entitlement, origin=RequestOrigin.of(request)
            )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log can be searched and read here, never changed or deleted."""

    list_display = (
        "created_at",
        "actor_username",
        "action",
        "target_type",
        "target_repr",
        "ip_address",
    )
    list_filter = ("action", "target_type")
    search_fields = ("actor_username", "target_repr", "target_id")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# django-axes registered its own admin for failed logins; ours audits lifting them.
if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AuditedAccessAttemptAdmin(AccessAttemptAdmin):
    """django-axes' failed logins; deleting one, or the "Lift lockout" action, lets
    that username log in again from that address, and is audited
    (``portal.lockouts.lockout_lift``)."""

    actions = ["lift_lockouts", *AccessAttemptAdmin.actions]

    @admin.action(description="Lift lockout of the selected attempts")
    def lift_lockouts(self, request, queryset):
        lifted = lockout_lift(
            actor=request.user, attempts=queryset, origin=RequestOrigin.of(request)
        )
        self.message_user(request, f"Lifted {lifted} lockout(s).")

    def delete_model(self, request, obj):
        lockout_lift(actor=request.user, attempts=[obj], origin=RequestOrigin.of(request))

    def delete_queryset(self, request, queryset):
        lockout_lift(actor=request.user, attempts=queryset, origin=RequestOrigin.of(request))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Every user's personal API tokens (never their secrets: only knox's digest is
    stored). Tokens are made by their owners (profile page, API); here they can
    only be revoked, each revocation audited (``portal.api_tokens.api_token_revoke``)."""

    list_display = ("name", "user", "token_key", "scope", "created", "expiry", "last_used_at")
    list_filter = ("scope",)
    search_fields = ("name", "token_key", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("name", "user", "token_key", "scope", "created", "expiry", "last_used_at")
    exclude = ("digest",)
    actions = ["revoke_tokens"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        # Django's own "delete selected" would delete without the audit trail.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Revoke the selected tokens", permissions=["delete"])
    def revoke_tokens(self, request, queryset):
        revoked = 0
        for token in queryset.select_related("user"):
            api_token_revoke(actor=request.user, token=token, origin=RequestOrigin.of(request))
            revoked += 1
        self.message_user(request, f"Revoked {revoked} token(s).")

    def delete_model(self, request, obj):
        api_token_revoke(actor=request.user, token=obj, origin=RequestOrigin.of(request))
