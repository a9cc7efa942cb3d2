"""Form text the database cannot store is refused once, for every dashboard form, as a 400.

A NUL character in a text column, or a lone surrogate anywhere, fails at
PostgreSQL as a DataError (a 500). Django's forms.CharField refuses NUL, but
several dashboard actions read `request.POST` directly (cancel reason,
approval comment), and JSON typed into a text box can carry `"\\ud800"`
escapes. `dashboard_view` calls `unstorable_post_field` before any view runs;
text boxes holding JSON go through `docg.common.untrusted.loads_untrusted`.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

from docg.common.untrusted import text_problem


def unstorable_post_field(request: HttpRequest) -> tuple[str, str] | None:
    """(field name, problem) for the first POST field whose name or value cannot be stored, else None."""
    if request.method != "POST" or request.content_type not in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return None
    for name, values in request.POST.lists():
        problem = text_problem(name) or next((p for p in map(text_problem, values) if p), None)
        if problem:
            return name.encode("unicode_escape").decode(), problem
    return None


def refuse_unstorable_post(request: HttpRequest) -> HttpResponse | None:
    """A 400 answer naming the field, or None when every field can be stored."""
    found = unstorable_post_field(request)
    if found is None:
        return None
    field, problem = found
    message = gettext("The field “%(field)s” cannot be saved: %(problem)s") % {"field": field, "problem": problem}
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"message": message, "problems": [{"field": field, "message": problem}]}, status=400)
    return render(request, "dashboard/bad_input.html", {"message": message}, status=400)
