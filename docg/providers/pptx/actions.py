"""The `pptx` app: fill an uploaded .pptx template with the run's data (docg/documents/rendering)."""

from django.utils.translation import gettext_lazy as _

from docg.providers.template_render import register_render_app

register_render_app("pptx", name=_("PowerPoint presentation (.pptx)"), label=_("Generate a PowerPoint presentation"))
