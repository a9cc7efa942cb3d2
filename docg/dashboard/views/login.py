"""The dashboard's sign-in, throttled like the API's token route (per client address and per account)."""

from django.contrib.auth import views as auth_views
from django.utils.translation import gettext

from docg.common.api.throttling import CREDENTIAL_THROTTLES


class ThrottledLoginView(auth_views.LoginView):
    template_name = "registration/login.html"

    def post(self, request, *args, **kwargs):
        throttles = [throttle() for throttle in CREDENTIAL_THROTTLES]
        refused = [t for t in throttles if not t.allow_request(request, self)]
        if not refused:
            return super().post(request, *args, **kwargs)
        wait = max(int(t.wait() or 1) for t in refused)
        message = gettext("Too many sign-in attempts. Try again in %(n)d seconds.") % {"n": wait}
        response = self.render_to_response(self.get_context_data(throttled=message), status=429)
        response["Retry-After"] = str(wait)
        return response
