"""Generated documents: the organization's files, newest first, with download and preview links."""

from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from docg.dashboard.context import dashboard_view, member_object
from docg.documents.models import GeneratedDocument
from docg.documents.storage import document_download_link

# Types a browser shows by itself; anything else is downloaded instead of previewed.
PREVIEWABLE = {"application/pdf", "image/png", "image/jpeg", "text/plain"}
SEARCH_MAX = 100


@require_safe
@dashboard_view
def documents(request: HttpRequest) -> HttpResponse:
    """The current organization's generated documents, searchable by name."""
    q = request.GET.get("q", "").strip()[:SEARCH_MAX]
    rows = (
        GeneratedDocument.objects.filter(organization=request.organization)
        .select_related("execution__workflow", "template")
        .order_by("-created_at")
    )
    if q:
        rows = rows.filter(name__icontains=q)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(request, "dashboard/documents/list.html", {"page": page, "q": q, "previewable": PREVIEWABLE})


@require_safe
@dashboard_view
def document_download(request: HttpRequest, pk) -> HttpResponse:
    """Send the browser to a short-lived link (S3 presigned, or docg's own signed file view)."""
    document = member_object(request, GeneratedDocument.objects.all(), pk=pk)
    return HttpResponseRedirect(document_download_link(document=document, request=request)["url"])


@require_safe
@dashboard_view
def document_preview(request: HttpRequest, pk) -> HttpResponse:
    """Show a PDF (or image, text) in the browser tab; other types are downloaded."""
    document = member_object(request, GeneratedDocument.objects.all(), pk=pk)
    if document.content_type not in PREVIEWABLE:
        return HttpResponseRedirect(document_download_link(document=document, request=request)["url"])
    response = FileResponse(
        document.file.open("rb"), as_attachment=False, filename=document.name, content_type=document.content_type
    )
    # The file is the organization's: never cached by a shared proxy, never sniffed into HTML.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
