from django.contrib import admin

from cases.admin import ReadOnlyAdmin
from kooperationsplan import models


@admin.register(models.MassnahmeArt)
class MassnahmeArtAdmin(admin.ModelAdmin):
    """P2: which measure types are exempt from Aufforderungen with RFB is configurable data."""

    list_display = ["code", "name", "rechtsgrundlage", "is_agh", "exempt_from_rfb"]


@admin.register(models.Massnahme)
class MassnahmeAdmin(admin.ModelAdmin):
    list_display = ["title", "art", "traeger_name", "duration_weeks", "active"]
    list_filter = ["art", "active"]
    search_fields = ["title", "traeger_name", "massnahme_nummer"]


class ContentItemInline(admin.TabularInline):
    model = models.ContentItem
    extra = 0


class StepInline(admin.TabularInline):
    model = models.Step
    extra = 0


class EigenbemuehungInline(admin.TabularInline):
    model = models.Eigenbemuehung
    extra = 0


@admin.register(models.Kooperationsplan)
class KooperationsplanAdmin(ReadOnlyAdmin):
    """Plans are written in the plan editor through the workflow services; here they are only shown."""

    list_display = ["case", "version_number", "status", "valid_from", "review_due"]
    list_filter = ["status"]
    list_select_related = ["case__elb"]
    inlines = [ContentItemInline, StepInline, EigenbemuehungInline]


for model in (
    models.MassnahmeZuweisung,
    models.Appointment,
    models.Escalation,
    models.Schlichtung,
    models.Exemption,
    models.TeamLeadApproval,
    models.Reminder,
    models.Notification,
    models.NotificationDigest,
    models.AbsenceCover,
):
    admin.site.register(model, ReadOnlyAdmin)
