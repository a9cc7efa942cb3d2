"""The run's documents as provider actions use them: one of the organization's, or a new PDF stored for the run.

Here and not on ActionContext: the connectors SDK sits below docg.documents and
knows no document.
"""

import uuid
from typing import Any

from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors.runtime import ActionContext
from docg.documents.models import GeneratedDocument
from docg.documents.storage import document_store


def organization_document(ctx: ActionContext, document_id: Any, *, purpose: Any) -> GeneratedDocument:
    """A generated document of the run's organization (another organization's id is "not found").

    `purpose` (gettext_lazy, a verb: "sign") says what the step wanted to do with it.
    """
    try:
        key = uuid.UUID(str(document_id))
    except ValueError:
        key = None
    document = GeneratedDocument.objects.filter(organization=ctx.organization, pk=key).first() if key else None
    if document is None:
        raise DocgError(
            "document.not_found",
            ctx.say(
                _("The document to %(purpose)s (%(document_id)s) does not exist."),
                purpose=ctx.say(purpose),
                document_id=document_id,
            ),
            {"document_id": str(document_id)},
        )
    return document


def pdf_store(ctx: ActionContext, **fields: Any) -> GeneratedDocument:
    """Store a PDF as the run's GeneratedDocument; a failing storage backend is a transient error."""
    try:
        document = document_store(organization=ctx.organization, execution=ctx.execution, **fields)
    except DatabaseError:
        raise
    except Exception as exc:  # the storage backend (disk full, S3 unreachable): try again later
        raise DocgError(
            "storage.unavailable",
            ctx.say(_("The PDF could not be stored; docg will try again.")),
            {"exception": type(exc).__name__, "message": str(exc)},
            transient=True,
        ) from exc
    return ctx.document_stored(document)
