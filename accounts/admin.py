from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from core import page_cache

from .models import (
    Invitation,
    Organisation,
    OrganisationDomain,
    RosterEntry,
    User,
    VerificationEvent,
    VerificationRequest,
)


class OrganisationDomainInline(admin.TabularInline):
    model = OrganisationDomain
    extra = 1


@admin.register(Organisation)
class OrganisationAdmin(page_cache.DropsPagesAdmin, admin.ModelAdmin):
    list_display = ["name", "kind", "country", "metropolis_region", "is_member"]
    search_fields = ["name", "short_name", "country"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OrganisationDomainInline]


@admin.register(User)
class UserAdmin(page_cache.DropsPagesAdmin, BaseUserAdmin):
    list_display = [
        "username",
        "display_name",
        "organisation",
        "verification_state",
        "is_moderator",
        "is_staff",
    ]
    list_filter = ["verification_state", "is_moderator", "is_staff"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (
            "Official",
            {"fields": ["display_name", "position", "department", "organisation", "is_moderator"]},
        ),
    )


@admin.register(VerificationRequest)
class VerificationRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "proposed_organisation", "position", "state", "created_at"]
    list_filter = ["state"]
    raw_id_fields = ["user", "organisation", "decided_by"]
    readonly_fields = ["evidence_sha256", "evidence_name"]


@admin.register(VerificationEvent)
class VerificationEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only, written by accounts.services."""

    list_display = [
        "created_at",
        "subject",
        "actor",
        "action",
        "from_state",
        "to_state",
        "method",
        "ip_address",
    ]
    list_filter = ["action", "to_state", "method"]
    search_fields = ["subject__username", "actor__username", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RosterEntry)
class RosterEntryAdmin(admin.ModelAdmin):
    list_display = ["email", "organisation", "created_at"]
    search_fields = ["email"]
    list_filter = ["organisation"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are sent, resent and revoked from /review/invitations (services)."""

    list_display = ["email", "organisation", "state", "inviter", "created_at", "expires_at"]
    list_filter = ["state"]
    search_fields = ["email", "name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
