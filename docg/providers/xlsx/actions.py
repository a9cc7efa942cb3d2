"""The `xlsx` app: fill an uploaded .xlsx template (a price sheet) with the run's data (docg/documents/rendering)."""

from django.utils.translation import gettext_lazy as _

from docg.providers.template_render import register_render_app

register_render_app("xlsx", name=_("Excel spreadsheet (.xlsx)"), label=_("Generate an Excel spreadsheet"))
