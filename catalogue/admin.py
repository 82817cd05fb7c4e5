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
