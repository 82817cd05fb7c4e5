from django.contrib import admin
from guardian.admin import GuardedModelAdminMixin

from audit.admin import AuditedModelAdmin
from catalogue.models import Algorithm, Dataset, Node


@admin.register(Node)
class NodeAdmin(AuditedModelAdmin):
    list_display = ("identifier", "name", "organisation", "status")
    list_filter = ("status",)
    search_fields = ("identifier", "name")


@admin.register(Dataset)
class DatasetAdmin(GuardedModelAdminMixin, AuditedModelAdmin):
    list_display = ("title", "slug", "owner", "node", "is_published")
    list_filter = ("is_published", "owner", "node")
    search_fields = ("title", "slug", "persistent_identifier")
    filter_horizontal = ("stewards",)


@admin.register(Algorithm)
class AlgorithmAdmin(AuditedModelAdmin):
    list_display = ("name", "version", "digest", "output_kind")
    search_fields = ("name", "digest")


# --- EHDS: data dictionaries and data-use terms -------------------------------------------------
from catalogue.models import DatasetVariable, DataUseTerms  # noqa: E402


@admin.register(DatasetVariable)
class DatasetVariableAdmin(AuditedModelAdmin):
    list_display = ("dataset", "position", "name", "label", "type", "unit")
    list_filter = ("dataset", "type")
    search_fields = ("name", "label", "dataset__slug")


@admin.register(DataUseTerms)
class DataUseTermsAdmin(AuditedModelAdmin):
    """A published version never changes (people accepted it): staff add the next version,
    which the service numbers and audits."""

    list_display = ("dataset", "version", "title", "published_at")
    list_filter = ("dataset",)
    fields = ("dataset", "title", "text", "licence_url", "version", "published_at")
    readonly_fields = ("version", "published_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        from catalogue.services import dataset_terms_publish

        published = dataset_terms_publish(
            actor=request.user,
            dataset=obj.dataset,
            title=obj.title,
            text=obj.text,
            licence_url=obj.licence_url,
        )
        obj.pk, obj.version, obj.published_at = (
            published.pk,
            published.version,
            published.published_at,
        )
