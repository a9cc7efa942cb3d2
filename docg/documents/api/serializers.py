from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from docg.common.api.serializers import StrictInput
from docg.documents.lint import locations_for_clients
from docg.documents.models import GeneratedDocument, Template, TemplateVersion


class TemplateUploadInput(StrictInput):
    name = serializers.CharField(max_length=200)
    file = serializers.FileField(max_length=255, allow_empty_file=False)


class TemplateVersionInput(StrictInput):
    file = serializers.FileField(max_length=255, allow_empty_file=False)


def _filename(row: Template | TemplateVersion) -> str:
    return row.file.name.rsplit("/", 1)[-1] if row.file else ""


# These describe the stored JSON for the schema; responses hand it back with its numbers counted from 1.
class LocationOutput(serializers.Serializer):
    """Where a tag sits; keys beyond `part`, `paragraph` and `text` appear where they apply. Numbers from 1."""

    part = serializers.ChoiceField(choices=["body", "header", "footer", "footnote", "endnote", "slide", "notes"])
    slide = serializers.IntegerField(required=False, help_text="From 1, as PowerPoint numbers slides.")
    # table, row, cell, textbox and paragraph: from 1 too, as the dashboard shows them.
    header = serializers.IntegerField(required=False)
    footer = serializers.IntegerField(required=False)
    footnote = serializers.CharField(required=False)
    endnote = serializers.CharField(required=False)
    shape = serializers.CharField(required=False)
    table = serializers.IntegerField(required=False)
    row = serializers.IntegerField(required=False)
    cell = serializers.IntegerField(required=False)
    nested = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="Tables inside this cell: [{table, row, cell}]."
    )
    textbox = serializers.IntegerField(required=False)
    clause = serializers.CharField(required=False, help_text="The included clause (template name) the tag is in.")
    paragraph = serializers.IntegerField()
    text = serializers.CharField(help_text="At most 120 characters around the tag.")


class VariableOutput(serializers.Serializer):
    name = serializers.CharField()
    locations = LocationOutput(many=True)


class PlaceholderOutput(serializers.Serializer):
    tag = serializers.CharField()
    kind = serializers.ChoiceField(choices=["variable", "block"])
    names = serializers.ListField(child=serializers.CharField())
    location = LocationOutput()


class LintErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    tag = serializers.CharField()
    location = LocationOutput()


class LintWarningOutput(LintErrorOutput):
    """`template.clause_not_found` or `template.clause_cycle`: the upload is kept; a run is refused until fixed."""

    location = LocationOutput(help_text="With `clause` when the include is inside an included clause.")


class ClauseOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    included_from = serializers.ListField(
        child=serializers.CharField(), help_text="The clauses that include it, outermost first; empty: the template."
    )
    location = LocationOutput(help_text="Where its include sits; with `clause` when that is in another clause.")


class TemplateVariablesOutput(serializers.Serializer):
    variables = VariableOutput(
        many=True, help_text="Its own and its clauses'; a location in a clause has `clause` (the clause's name)."
    )
    placeholders = PlaceholderOutput(many=True)
    clauses = ClauseOutput(many=True, help_text="Every clause it includes, recursively.")
    clause_errors = LintWarningOutput(many=True, help_text="Includes that name no clause, or a cycle.")


@extend_schema_field(VariableOutput(many=True))
class VariablesField(serializers.JSONField):
    def to_representation(self, value):
        return locations_for_clients(super().to_representation(value), key="locations")


@extend_schema_field(LintErrorOutput(many=True))
class LintErrorsField(serializers.JSONField):
    def to_representation(self, value):
        return locations_for_clients(super().to_representation(value))


class TemplateOutput(serializers.ModelSerializer):
    filename = serializers.SerializerMethodField()
    variables = VariablesField(read_only=True)
    lint_errors = LintErrorsField(read_only=True)

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
        return _filename(template)


class TemplateUploadOutput(TemplateOutput):
    lint_warnings = serializers.SerializerMethodField()

    class Meta(TemplateOutput.Meta):
        fields = [*TemplateOutput.Meta.fields, "lint_warnings"]

    @extend_schema_field(LintWarningOutput(many=True))
    def get_lint_warnings(self, template: Template) -> list:
        return locations_for_clients(getattr(template, "lint_warnings", []))


class TemplateVersionOutput(serializers.ModelSerializer):
    filename = serializers.SerializerMethodField()
    lint_errors = LintErrorsField(read_only=True)

    class Meta:
        model = TemplateVersion
        fields = ["id", "number", "filename", "size_bytes", "sha256", "lint_errors", "created_by", "created_at"]

    def get_filename(self, version: TemplateVersion) -> str:
        return _filename(version)


class DocumentOutput(serializers.ModelSerializer):
    class Meta:
        model = GeneratedDocument
        fields = ["id", "name", "content_type", "size_bytes", "sha256", "execution", "node_key", "created_at"]
