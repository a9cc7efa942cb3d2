import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from docg.common.api.views import TenantViewSet
from docg.documents import services
from docg.documents.api.serializers import DocumentOutput, TemplateOutput, TemplateUploadInput
from docg.documents.choices import TemplateKind
from docg.documents.models import GeneratedDocument, Template


class TemplateFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=TemplateKind.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Template
        fields = ["kind", "name"]


class TemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    base_queryset = Template.objects.all()
    serializer_class = TemplateOutput
    filterset_class = TemplateFilter

    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": TemplateUploadInput}, responses={201: TemplateOutput})
    def create(self, request):
        data = TemplateUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.template_create(
            organization=request.organization,
            by=request.user,
            name=data.validated_data["name"],
            upload=data.validated_data["file"],
        )
        return Response(TemplateOutput(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        services.template_delete(template=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    base_queryset = GeneratedDocument.objects.all()
    serializer_class = DocumentOutput
