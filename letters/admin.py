from django.contrib import admin

from cases.admin import ReadOnlyAdmin
from letters import models


@admin.register(models.Letter)
class LetterAdmin(ReadOnlyAdmin):
    """Letters are snapshots; they are issued by the workflow, never edited by hand."""

    list_display = ["number", "kind", "case", "letter_date", "with_rfb", "is_va", "status"]
    list_filter = ["kind", "status", "with_rfb", "is_va"]
    list_select_related = ["case__elb"]
    exclude = ["pdf"]


@admin.register(models.ArchiveEntry)
class ArchiveEntryAdmin(ReadOnlyAdmin):
    list_display = ["filed_at", "case", "document_type", "version", "sha256"]
    list_select_related = ["case__elb"]
