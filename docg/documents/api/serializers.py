from rest_framework import serializers

from docg.common.api.serializers import StrictInput
from docg.documents.models import GeneratedDocument, Template


class TemplateUploadInput(StrictInput):
    name = serializers.CharField(max_length=200)
    file = serializers.FileField(max_length=255, allow_empty_file=False)


class TemplateOutput(serializers.ModelSerializer):
    filename = serializers.SerializerMethodField()

    class Meta:
        model = Template
        fields = [
            "id",
            "name",
            "kind",
            "version",
            "filename",
            "size_bytes",
            "sha256",
            "variables",
            "lint_errors",
            "created_at",
            "updated_at",
        ]

    def get_filename(self, template: Template) -> str:
        return template.file.name.rsplit("/", 1)[-1] if template.file else ""


class DocumentOutput(serializers.ModelSerializer):
    class Meta:
        model = GeneratedDocument
        fields = ["id", "name", "content_type", "size_bytes", "sha256", "execution", "node_key", "created_at"]
