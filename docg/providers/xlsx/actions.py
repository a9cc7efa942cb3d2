"""The `xlsx` app: fill an uploaded .xlsx template (a price sheet) with the run's data (docg/documents/rendering)."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.registry import App, Operation, register
from docg.documents.rendering.preflight import render_preflight
from docg.providers.template_render import OUTPUT, PARAMETERS, render_handler

app = register(
    App(
        slug="xlsx",
        name=_("Excel spreadsheet (.xlsx)"),
        description=_("Templates uploaded to docg, filled in by docg."),
    )
)

app.action(
    Operation(
        name="render",
        label=_("Generate an Excel spreadsheet"),
        description=_("Fill a template with the run's data and store the document; the run is then ready."),
        parameters=PARAMETERS,
        output=OUTPUT,
        handler=render_handler("xlsx"),
        queue="documents",
        phase="render",
        inline=False,
        max_attempts=3,
        timeout_seconds=120,
        preflight=render_preflight("xlsx"),
    )
)
