"""Read-only admin views of consent: history is written by services only, never edited here."""

from django.contrib import admin

from audit.admin import ReadOnlyAdminMixin, ReadOnlyModelAdmin
from consent.models import ConsentProvision, ConsentRecord, DatasetConsentState, Participant


class ProvisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ConsentProvision
    fields = (
        "decision",
        "code",
        "disease",
        "period_start",
        "period_end",
        "is_non_commercial",
        "is_not_for_profit",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyModelAdmin):
    list_display = ("pseudonym", "dataset", "opted_out_at", "created_at")
    list_filter = ("dataset",)
    search_fields = ("pseudonym",)
    list_select_related = ("dataset",)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyModelAdmin):
    list_display = ("participant", "dataset", "status", "source", "recorded_at", "is_current")
    list_filter = ("status", "source", "is_current", "dataset")
    search_fields = ("participant__pseudonym", "source_id")
    list_select_related = ("participant", "dataset")
    inlines = [ProvisionInline]


@admin.register(DatasetConsentState)
class DatasetConsentStateAdmin(ReadOnlyModelAdmin):
    list_display = ("dataset", "version", "changed_at")
