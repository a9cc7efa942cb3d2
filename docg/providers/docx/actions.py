"""The `docx` app: fill an uploaded .docx template with the run's data (docg/documents/rendering)."""

from django.utils.translation import gettext_lazy as _

from docg.providers.template_render import register_render_app

register_render_app("docx", name=_("Word document (.docx)"), label=_("Generate a Word document"))
