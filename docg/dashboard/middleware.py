"""The dashboard speaks the organization's language until the user picks one with the switcher.

Django's LocaleMiddleware (earlier in MIDDLEWARE) has already chosen a language from the
language cookie, the browser's Accept-Language or LANGUAGE_CODE. It runs before the user is
known, so it cannot look at the organization: this middleware runs after authentication and,
when the user never chose a language (no language cookie), switches to the language of the
organization the dashboard shows. The REST API and provider webhooks are left alone: their
error messages follow their own rules (docg/common/api, docg/connectors/errors.py).
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import check_for_language

from docg.orgs import tenancy

UNTOUCHED_PREFIXES = ("/api/", "/hooks/")


class OrganizationLanguageMiddleware:
    """Activate the current organization's language for a signed-in user without an explicit choice.

    Sync and async capable, so async views (SSE) stay on the event loop.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        _activate(request, organization_language(request))
        return self.get_response(request)

    async def __acall__(self, request):
        if not _untouched(request):
            # The membership lookup is a plain ORM query.
            _activate(request, await sync_to_async(organization_language)(request))
        return await self.get_response(request)


def _untouched(request: HttpRequest) -> bool:
    return request.path_info.startswith(UNTOUCHED_PREFIXES)


def _activate(request: HttpRequest, language: str) -> None:
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def organization_language(request: HttpRequest) -> str:
    """The organization's language code when it should apply to this request, else ""."""
    if _untouched(request):
        return ""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen and check_for_language(chosen):
        return ""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    membership = tenancy.session_membership(request)
    if membership is None:
        return ""
    language = membership.organization.language
    supported = {code for code, _name in settings.LANGUAGES}
    return language if language in supported else ""
