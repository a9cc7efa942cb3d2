"""The template syntax reference: every tag, filter and function, each with an example in the user's language."""

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from docg.dashboard.context import dashboard_view
from docg.documents.rendering.syntax import reference

FORMATS = {"docx": "Word", "pptx": "PowerPoint", "xlsx": "Excel"}


@require_safe
@dashboard_view
def template_syntax(request: HttpRequest) -> HttpResponse:
    language = getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE
    entries = reference(language)
    for entry in entries:
        entry["anchor"] = slugify(f"{entry['kind']}-{entry['name']}") or entry["kind"]
        entry["format_names"] = [FORMATS.get(f, f) for f in entry["formats"]]
        data = entry["example"]["data"]
        entry["example"]["data_json"] = json.dumps(data, ensure_ascii=False) if data else ""
    return render(request, "dashboard/templates/syntax.html", {"entries": entries})
