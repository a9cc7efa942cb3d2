"""OAuth 2.0 connections (HubSpot, Google, Microsoft) through social-auth-app-django."""

import environ

env = environ.Env()
