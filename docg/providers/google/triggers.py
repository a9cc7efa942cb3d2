"""The `google_forms` app: start a run for every new response of a Google Form (polled; see polling.py)."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.choices import AuthKind
from docg.connectors.registry import App, Operation, register
from docg.providers.google import actors  # noqa: F401 (registers the poll actor in every process)

app = register(
    App(
        slug="google_forms",
        name="Google Forms",
        description=_("Start a run for each new response of a Google Form."),
        auth=AuthKind.OAUTH2,
    )
)

app.trigger(
    Operation(
        name="new_response",
        label=_("New form response"),
        description=_(
            "Checked every minute: each response submitted after the workflow was activated starts one run. "
            "Output: form_id, response_id, create_time, last_submitted_time, respondent_email, "
            "answers (question id → value)."
        ),
        parameters={
            "type": "object",
            "properties": {"form_id": {"type": "string", "minLength": 1, "maxLength": 200, "title": _("Form")}},
            "required": ["form_id"],
            "additionalProperties": False,
        },
        output={
            "type": "object",
            "properties": {
                "form_id": {"type": "string"},
                "response_id": {"type": "string"},
                "create_time": {"type": "string"},
                "last_submitted_time": {"type": "string"},
                "respondent_email": {"type": "string"},
                "answers": {"type": "object"},
            },
        },
    )
)
