"""Read API of the public catalogue."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
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

    class OutputSerializer(DatasetOutputSerializer):
        """The catalogue entry, with its data dictionary and current data-use terms (EHDS)."""

        variables = serializers.SerializerMethodField()
        terms = serializers.SerializerMethodField()

        @extend_schema_field(serializers.ListField(child=serializers.DictField()))
        def get_variables(self, dataset) -> list:
            return VariableSerializer(dataset.variables.all(), many=True).data

        @extend_schema_field(serializers.DictField(allow_null=True))
        def get_terms(self, dataset) -> dict | None:
            return _terms_of(dataset)

    @extend_schema(
        responses=OutputSerializer,
        operation_id="datasets_retrieve",
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)],
    )
    def get(self, request: Request, slug: str) -> Response:
        dataset = dataset_get(user=request.user, slug=slug)
        if request.accepted_renderer.format == "jsonld":
            return Response(dataset_jsonld(dataset))
        return Response(self.OutputSerializer(dataset).data)


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


# --- EHDS: the data dictionary and the data-use terms (Art. 66, 68) ---------------------------


class VariableSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    label = serializers.CharField(max_length=200)
    type = serializers.CharField(max_length=16)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    codelist = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class TermsSerializer(serializers.Serializer):
    version = serializers.IntegerField(read_only=True)
    title = serializers.CharField(max_length=200)
    text = serializers.CharField()
    licence_url = serializers.URLField(required=False, allow_blank=True, default="")
    published_at = serializers.DateTimeField(read_only=True)


def _terms_of(dataset) -> dict | None:
    terms = dataset.terms_versions.order_by("-version").first()
    return TermsSerializer(terms).data if terms else None


class DatasetDictionaryApi(APIView):
    """A dataset's data dictionary (public, like the catalogue); its stewards replace it with
    ``PUT`` (the whole list, in order; all or nothing, errors name each entry)."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    class InputSerializer(serializers.Serializer):
        variables = VariableSerializer(many=True)

    @extend_schema(responses=VariableSerializer(many=True), operation_id="dataset_dictionary")
    def get(self, request: Request, slug: str) -> Response:
        dataset = dataset_get(user=request.user, slug=slug)
        return Response(VariableSerializer(dataset.variables.all(), many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses=VariableSerializer(many=True),
        operation_id="dataset_dictionary_set",
    )
    def put(self, request: Request, slug: str) -> Response:
        from catalogue.services import dataset_dictionary_set

        dataset = dataset_get(user=request.user, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = dataset_dictionary_set(
            actor=request.user, dataset=dataset, variables=data.validated_data["variables"]
        )
        return Response(VariableSerializer(rows, many=True).data)


class DatasetTermsApi(APIView):
    """A dataset's current data-use terms (public); its stewards publish a new version with
    ``POST`` (earlier versions, and what people accepted of them, stay as they were)."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(responses=TermsSerializer, operation_id="dataset_terms")
    def get(self, request: Request, slug: str) -> Response:
        dataset = dataset_get(user=request.user, slug=slug)
        return Response(_terms_of(dataset))

    @extend_schema(
        request=TermsSerializer,
        responses={201: TermsSerializer},
        operation_id="dataset_terms_publish",
    )
    def post(self, request: Request, slug: str) -> Response:
        from catalogue.services import dataset_terms_publish

        dataset = dataset_get(user=request.user, slug=slug)
        data = TermsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        terms = dataset_terms_publish(actor=request.user, dataset=dataset, **data.validated_data)
        return Response(TermsSerializer(terms).data, status=201)
