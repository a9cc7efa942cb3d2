"""Download links for generated documents, and the signed file view behind them on local storage."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from docg.documents.models import GeneratedDocument
from docg.documents.storage import document_download_link, document_from_link
from docg.orgs.api.base import TenantViewSet


class DownloadLinkOutput(serializers.Serializer):
    url = serializers.CharField(help_text="Short-lived link to the file (S3 presigned or signed docg link).")
    expires_in = serializers.IntegerField(help_text="Seconds the link stays valid.")


class DocumentDownloadViewSet(TenantViewSet):
    base_queryset = GeneratedDocument.objects.all()
    serializer_class = DownloadLinkOutput

    @extend_schema(request=None, responses={200: DownloadLinkOutput})
    @action(detail=True, methods=["get"], url_path="download")
    def download(self, request, pk=None):
        document = self.get_object()
        return Response(document_download_link(document=document, request=request))


class DocumentFileView(APIView):
    """The file behind a signed link: the signature is the credential (like an S3 presigned URL)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("sig", str, required=True, description="The signature from /download.")],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk):
        document = document_from_link(pk=pk, signature=request.query_params.get("sig", ""))
        if document is None:
            raise NotFound()
        return FileResponse(
            document.file.open("rb"), as_attachment=True, filename=document.name, content_type=document.content_type
        )
