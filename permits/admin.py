"""Read-only admin for permits and receipts: every change goes through the services (and the
permit page), so the admin never writes around the audit log."""

from django.contrib import admin

from audit.admin import ReadOnlyAdminMixin, ReadOnlyModelAdmin
from permits.models import ExecutionReceipt, Permit, PermitAlgorithm, PermitDataset, SigningKey


class PermitDatasetInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PermitDataset
    extra = 0
    can_delete = False
    readonly_fields = [
        "dataset",
        "node_identifier",
        "cohort_version",
        "cohort_digest",
        "cohort_count",
        "owner_conditions",
    ]


class PermitAlgorithmInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PermitAlgorithm
    extra = 0
    can_delete = False
    readonly_fields = ["algorithm", "name", "version", "digest"]


@admin.register(Permit)
class PermitAdmin(ReadOnlyModelAdmin):
    list_display = ["number", "status", "holder_organisation", "valid_from", "valid_until"]
    list_filter = ["status"]
    search_fields = ["number", "jti", "request__reference", "holder_organisation__name"]
    inlines = [PermitDatasetInline, PermitAlgorithmInline]


@admin.register(ExecutionReceipt)
class ExecutionReceiptAdmin(ReadOnlyModelAdmin):
    list_display = ["permit", "node", "dataset_identifier", "status", "reason", "received_at"]
    list_filter = ["status", "node"]
    search_fields = ["jti", "permit__number"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyModelAdmin):
    list_display = ["kid", "status", "created_at", "retired_at", "not_after"]
