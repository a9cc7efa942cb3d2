"""OAuth connect / callback routes (social-auth), mounted at /oauth/.

Outside the dashboard's namespace: the dashboard links to {% url 'oauth-connect' 'google' %}.
The provider redirects back to /oauth/complete/<backend>/ (social-auth's `social:complete`).
"""

from django.urls import include, path

from docg.dashboard.views.oauth import oauth_complete, oauth_connect

urlpatterns = [
    path("connect/<str:provider>/", oauth_connect, name="oauth-connect"),
    # Before social-auth's route for the same URL: its refusals become a message (reverse uses social:complete).
    path("complete/<str:backend>/", oauth_complete, name="oauth-complete"),
    path("", include("social_django.urls", namespace="social")),
]
