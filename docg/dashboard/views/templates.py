"""Templates: upload a .docx/.pptx/.xlsx, see its versions, the variables it reads (and where) and its lint errors.

Uploads go through the same checks as the REST API (docg/documents/ooxml.py limits,
then the analysis); the dashboard also refuses a file with lint errors, so nothing
is kept until the file can actually render.
"""

from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from docg.common.errors import DocgError
from docg.dashboard.context import dashboard_view, member_object, require_write
from docg.documents import ooxml, selectors, services
from docg.documents.lint import describe_location
from docg.documents.models import Template

SEARCH_MAX = 100


class UploadForm(forms.Form):
    """The REST API's TemplateUploadInput rules (name ≤ 200, a non-empty file with a name ≤ 255)."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    file = forms.FileField(label=gettext_lazy("File"), max_length=255, allow_empty_file=False)


class VersionForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("New file"), max_length=255, allow_empty_file=False)


def _language(request: HttpRequest) -> str:
    return getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE


def _with_places(items: list[dict], language: str, *, key: str = "locations") -> list[dict]:
    """Each variable or lint error with its locations described as a person counts them."""
    described = []
    for item in items or []:
        item = dict(item)
        if key == "locations":
            item["places"] = [
                {"where": describe_location(loc, language), "text": loc.get("text", "")}
                for loc in item.get("locations") or []
            ]
        else:
            location = item.get("location") or {}
            item["where"] = describe_location(location, language)
            item["text"] = location.get("text", "")
        described.append(item)
    return described


def _checked(upload, language: str) -> list[dict]:
    """Run the upload checks and the analysis without keeping anything; lint errors come back, refusals raise."""
    package = ooxml.inspect(upload, upload.name or "")
    lint_errors = services.template_analyse(upload=upload, kind=package.kind)[2]
    upload.seek(0)
    return _with_places(lint_errors, language, key="location")


def _warn(request: HttpRequest, template: Template) -> None:
    """What the upload found but does not refuse: includes of clauses the organization does not have (yet)."""
    for warning in _with_places(getattr(template, "lint_warnings", []), _language(request), key="location"):
        messages.warning(request, f"{warning['message']} ({warning['where']})")


def _list_context(request: HttpRequest, **extra) -> dict:
    q = request.GET.get("q", "").strip()[:SEARCH_MAX]
    rows = Template.objects.filter(organization=request.organization).select_related("created_by")
    if q:
        rows = rows.filter(name__icontains=q)
    page = Paginator(rows.order_by("-updated_at"), 25).get_page(request.GET.get("page"))
    return {
        "page": page,
        "q": q,
        "form": UploadForm(),
        "max_mb": settings.TEMPLATE_MAX_UPLOAD_BYTES // (1024 * 1024),
        **extra,
    }


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view
def templates(request: HttpRequest) -> HttpResponse:
    """The organization's templates; writers also get the upload form (a POST here uploads)."""
    if request.method == "POST":
        return _upload(request)
    return render(request, "dashboard/templates/list.html", _list_context(request))


def _upload(request: HttpRequest) -> HttpResponse:
    require_write(request)
    form = UploadForm(request.POST, request.FILES)
    lint_errors: list[dict] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            lint_errors = _checked(upload, _language(request))
            if not lint_errors:
                template = services.template_create(
                    organization=request.organization,
                    by=request.user,
                    name=form.cleaned_data["name"].strip() or PurePath(upload.name).stem,
                    upload=upload,
                )
                messages.success(request, _("Template “%(name)s” uploaded.") % {"name": template.name})
                _warn(request, template)
                return redirect("dashboard:template", pk=template.pk)
        except DocgError as exc:
            form.add_error("file", str(exc.message))
    context = _list_context(request, form=form, lint_errors=lint_errors, open_upload=True)
    return render(request, "dashboard/templates/list.html", context, status=400)


def _detail_context(request: HttpRequest, template: Template, **extra) -> dict:
    language = _language(request)
    current = selectors.template_current_version(template=template)
    versions = list(selectors.template_versions(template=template).order_by("-number")[:50])
    for version in versions:
        version.filename = PurePath(version.file.name).name
    clauses = selectors.template_clauses(template=template)
    for clause in clauses["clauses"]:
        clause["where"] = describe_location(clause["location"], language)
    return {
        "template": template,
        "current": current,
        "versions": versions,
        "variables": _with_places(
            selectors.with_clause_variables(template.variables or [], clauses["variables"]), language
        ),
        "clauses": clauses["clauses"],
        "clause_errors": _with_places(clauses["errors"], language, key="location"),
        "lint_errors": _with_places(template.lint_errors, language, key="location"),
        "tag_count": len(current.placeholders) if current else 0,
        "version_form": VersionForm(),
        "max_mb": settings.TEMPLATE_MAX_UPLOAD_BYTES // (1024 * 1024),
        **extra,
    }


@require_safe
@dashboard_view
def template_detail(request: HttpRequest, pk) -> HttpResponse:
    template = member_object(request, Template.objects.all(), pk=pk)
    return render(request, "dashboard/templates/detail.html", _detail_context(request, template))


@require_POST
@dashboard_view
def template_add_version(request: HttpRequest, pk) -> HttpResponse:
    """A new file for the template; it becomes current only when it passes every check and lint."""
    require_write(request)
    template = member_object(request, Template.objects.all(), pk=pk)
    form = VersionForm(request.POST, request.FILES)
    new_errors: list[dict] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            new_errors = _checked(upload, _language(request))
            if not new_errors:
                template = services.template_add_version(template=template, by=request.user, upload=upload)
                messages.success(request, _("Version %(n)s is now current.") % {"n": template.version})
                _warn(request, template)
                return redirect("dashboard:template", pk=template.pk)
        except DocgError as exc:
            form.add_error("file", str(exc.message))
    context = _detail_context(request, template, version_form=form, new_errors=new_errors, open_version=True)
    return render(request, "dashboard/templates/detail.html", context, status=400)


@require_POST
@dashboard_view
def template_delete(request: HttpRequest, pk) -> HttpResponse:
    require_write(request)
    template = member_object(request, Template.objects.all(), pk=pk)
    name = template.name
    services.template_delete(template=template, by=request.user)
    messages.success(request, _("Template “%(name)s” deleted.") % {"name": name})
    return redirect("dashboard:templates")
