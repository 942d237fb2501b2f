from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from cases import models


class ReadOnlyAdmin(admin.ModelAdmin):
    """For append-only records: viewable, never changed or deleted through the application."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(models.Jobcenter)
class JobcenterAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "bundesland", "followup_invitation_rfb", "four_eyes_rfb_letters"]


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "jobcenter"]


@admin.register(models.User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "team", "is_active"]
    list_filter = ["role", "team", "is_active"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Dienststelle", {"fields": ("role", "team", "phone", "room")}),
    )


class GesetzlicheVertretungInline(admin.StackedInline):
    model = models.GesetzlicheVertretung
    extra = 0


@admin.register(models.Elb)
class ElbAdmin(admin.ModelAdmin):
    list_display = ["kundennummer", "last_name", "first_name", "birth_date", "city"]
    search_fields = ["kundennummer", "last_name", "first_name"]
    inlines = [GesetzlicheVertretungInline]


@admin.register(models.Bedarfsgemeinschaft)
class BedarfsgemeinschaftAdmin(admin.ModelAdmin):
    list_display = ["bg_nummer", "jobcenter"]
    search_fields = ["bg_nummer"]


@admin.register(models.Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["pk", "elb", "team", "responsible", "cooperation_mode", "leistungsbeginn", "closed_on"]
    list_filter = ["team", "cooperation_mode"]
    search_fields = ["elb__kundennummer", "elb__last_name"]
    list_select_related = ["elb", "team", "responsible"]
    raw_id_fields = ["elb"]
    # The cooperation mode follows RULES.md 5.2 and is changed only by the workflow services.
    readonly_fields = ["cooperation_mode"]


@admin.register(models.Potenzialanalyse)
class PotenzialanalyseAdmin(admin.ModelAdmin):
    list_display = ["case", "status", "completed_at"]
    raw_id_fields = ["case"]
    readonly_fields = ["version"]


@admin.register(models.Paragraph10Reason)
class Paragraph10ReasonAdmin(admin.ModelAdmin):
    list_display = ["case", "kind", "since", "expected_end", "last_checked_on"]
    raw_id_fields = ["case"]


@admin.register(models.Einstellungszusage)
class EinstellungszusageAdmin(admin.ModelAdmin):
    list_display = ["case", "employer", "start_date", "firm", "start_confirmed_on"]
    raw_id_fields = ["case"]


@admin.register(models.TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "case", "code", "actor", "rule_set"]
    list_filter = ["code"]
    list_select_related = ["case__elb", "actor"]


@admin.register(models.AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "case_id_accessed", "view_name", "outcome"]
    list_filter = ["outcome"]
    list_select_related = ["user"]
