import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from docg.documents import selectors, services
from docg.documents.api.serializers import (
    DocumentOutput,
    TemplateOutput,
    TemplateUploadInput,
    TemplateUploadOutput,
    TemplateVariablesOutput,
    TemplateVersionInput,
    TemplateVersionOutput,
)
from docg.documents.choices import TemplateKind
from docg.documents.lint import locations_for_clients
from docg.documents.models import GeneratedDocument, Template
from docg.orgs.api.base import TenantViewSet


class TemplateFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=TemplateKind.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Template
        fields = ["kind", "name"]


class VersionPagination(CursorPagination):
    ordering = ("-number",)
    page_size = 25
    page_size_query_param = "limit"
    max_page_size = 100


class TemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    base_queryset = Template.objects.all()
    serializer_class = TemplateOutput
    filterset_class = TemplateFilter

    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": TemplateUploadInput}, responses={201: TemplateUploadOutput})
    def create(self, request):
        data = TemplateUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.template_create(
            organization=request.organization,
            by=request.user,
            name=data.validated_data["name"],
            upload=data.validated_data["file"],
        )
        return Response(TemplateUploadOutput(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        services.template_delete(template=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=TemplateVersionOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=VersionPagination, filter_backends=[])
    def versions(self, request, pk=None):
        page = self.paginate_queryset(selectors.template_versions(template=self.get_object()))
        return self.get_paginated_response(TemplateVersionOutput(page, many=True).data)

    @extend_schema(request={"multipart/form-data": TemplateVersionInput}, responses={201: TemplateUploadOutput})
    @versions.mapping.post
    def add_version(self, request, pk=None):
        template = self.get_object()
        data = TemplateVersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.template_add_version(template=template, by=request.user, upload=data.validated_data["file"])
        return Response(TemplateUploadOutput(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=TemplateVariablesOutput)
    @action(detail=True, methods=["get"], filter_backends=[])
    def variables(self, request, pk=None):
        found = selectors.template_placeholders(template=self.get_object())
        return Response(
            {
                "variables": locations_for_clients(found["variables"], key="locations"),
                "placeholders": locations_for_clients(found["placeholders"]),
                "clauses": locations_for_clients(found["clauses"]),
                "clause_errors": locations_for_clients(found["clause_errors"]),
            }
        )


class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    base_queryset = GeneratedDocument.objects.all()
    serializer_class = DocumentOutput
