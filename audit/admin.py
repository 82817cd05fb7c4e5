from django.contrib import admin

from audit.models import AuditEvent, AuditTreeHead


class ReadOnlyAdminMixin:
    """For rows that only services write (workflow objects, consent history, the log itself):
    the admin shows them and never writes around the audit log."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """Read-only: the log is changed by services only, and never edited."""

    list_display = (
        "seq",
        "occurred_at",
        "actor_type",
        "actor_label",
        "action",
        "object_type",
        "object_id",
    )
    list_filter = ("actor_type", "action", "object_type")
    search_fields = ("action", "actor_label", "object_id")
    ordering = ("-seq",)


@admin.register(AuditTreeHead)
class AuditTreeHeadAdmin(ReadOnlyModelAdmin):
    """Read-only: tree heads are signed by the sequencer and published, never edited."""

    list_display = ("tree_size", "timestamp", "kid", "short_root")
    ordering = ("-tree_size",)

    @admin.display(description="root hash")
    def short_root(self, obj: AuditTreeHead) -> str:
        return obj.root_hash[:16]


class AuditedModelAdmin(admin.ModelAdmin):
    """Admin edits are writes like any other: one transaction, with an event in the chain.

    Workflow objects are not edited here (their admins are read-only); this covers reference
    data such as organisations, datasets and algorithms that staff maintain by hand.
    """

    audit_fields: tuple[str, ...] = ()

    def _snapshot(self, obj) -> dict:
        from django.forms.models import model_to_dict

        fields = self.audit_fields or None
        return {key: str(value) for key, value in model_to_dict(obj, fields=fields).items()}

    def save_model(self, request, obj, form, change):
        from django.db import transaction

        from audit.services import audit_record

        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=f"admin.{'change' if change else 'add'}",
                target=obj,
                payload={"changed": sorted(form.changed_data), "values": self._snapshot(obj)},
            )

    def save_related(self, request, form, formsets, change):
        from django.db import transaction

        with transaction.atomic():
            super().save_related(request, form, formsets, change)

    def delete_model(self, request, obj):
        from django.db import transaction

        from audit.services import audit_record

        with transaction.atomic():
            audit_record(
                actor=request.user,
                action="admin.delete",
                target=obj,
                payload={"values": self._snapshot(obj)},
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
