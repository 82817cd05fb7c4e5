"""Read API of the public catalogue."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from catalogue.dcat import dataset_jsonld
from catalogue.models import Node
from catalogue.selectors import algorithms_list, dataset_get, dataset_search, nodes_list
from lifes.pagination import paginate


class JsonLdRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


class DatasetOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="slug")
    persistent_identifier = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    keywords = serializers.ListField(source="keyword_list", child=serializers.CharField())
    owner = serializers.CharField(source="owner.name")
    owner_ror = serializers.CharField(source="owner.ror_id")
    node = serializers.CharField(source="node.identifier")
    contains_personal_data = serializers.BooleanField()
    contact_email = serializers.EmailField()
    licence = serializers.CharField()
    duo_codes = serializers.ListField(child=serializers.CharField())
    duo_diseases = serializers.ListField(child=serializers.CharField())
    duo_values = serializers.DictField()
    min_cohort_size = serializers.IntegerField()
    participant_count = serializers.IntegerField()


class DatasetListApi(APIView):
    permission_classes = [permissions.AllowAny]
    throttle_scope = "anon"

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, max_length=200, default="")
        owner = serializers.PrimaryKeyRelatedField(
            queryset=Organisation.objects.all(), required=False
        )
        node = serializers.SlugRelatedField(
            slug_field="identifier", queryset=Node.objects.all(), required=False
        )
        duo = serializers.RegexField(r"^DUO:\d{7}$", required=False, default="")
        contains_personal_data = serializers.BooleanField(
            required=False, allow_null=True, default=None
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses=DatasetOutputSerializer(many=True),
        operation_id="datasets_list",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        datasets = dataset_search(
            user=request.user,
            query=data["q"],
            owner_id=data["owner"].pk if data.get("owner") else None,
            node_id=data["node"].pk if data.get("node") else None,
            duo_code=data["duo"],
            contains_personal_data=data["contains_personal_data"],
        )
        return paginate(request, self, datasets, DatasetOutputSerializer)


class DatasetDetailApi(APIView):
    permission_classes = [permissions.AllowAny]
    renderer_classes = [JSONRenderer, JsonLdRenderer]

    @extend_schema(
        responses=DatasetOutputSerializer,
        operation_id="datasets_retrieve",
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)],
    )
    def get(self, request: Request, slug: str) -> Response:
        dataset = dataset_get(user=request.user, slug=slug)
        if request.accepted_renderer.format == "jsonld":
            return Response(
                dataset_jsonld(
                    dataset, landing_page=request.build_absolute_uri(f"/catalogue/{dataset.slug}/")
                )
            )
        return Response(DatasetOutputSerializer(dataset).data)


class AlgorithmListApi(APIView):
    permission_classes = [permissions.AllowAny]

    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        version = serializers.CharField()
        digest = serializers.CharField()
        description = serializers.CharField()
        output_kind = serializers.CharField()
        source_url = serializers.CharField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="algorithms_list")
    def get(self, request: Request) -> Response:
        return paginate(request, self, algorithms_list(), self.OutputSerializer)


class NodeListApi(APIView):
    permission_classes = [permissions.AllowAny]

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField(source="identifier")
        name = serializers.CharField()
        organisation = serializers.CharField(source="organisation.name")
        status = serializers.CharField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="nodes_list")
    def get(self, request: Request) -> Response:
        return paginate(request, self, nodes_list(), self.OutputSerializer)
