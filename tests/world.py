"""One object of every tenant model, for cross-organization tests."""

from django.core.files.base import ContentFile
from django.utils import timezone

from docg.connectors.services import connection_create
from docg.documents.models import GeneratedDocument, SignatureRequest, Template
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.orgs.models import Organization, User
from docg.workflows.models import WorkflowDatastore
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes


def populate(organization: Organization, user: User) -> None:
    connection = connection_create(
        organization=organization, by=user, provider="smtp", name="Mail", credentials={"password": "s3cret"}
    )
    nodes = linear_nodes()
    nodes[1]["connection"] = connection
    workflow = workflow_create(organization=organization, by=user, name="Their flow", nodes=nodes)
    version = workflow_activate(workflow=workflow, by=user)
    template = Template(organization=organization, name="Their template", kind="docx")
    template.file.save("their.docx", ContentFile(b"PK\x05\x06" + b"\0" * 18), save=False)
    template.save()
    execution = WorkflowExecution.objects.create(
        organization=organization, workflow=workflow, workflow_version=version, trigger_data={"customer": "X"}
    )
    step = ExecutionStep.objects.create(organization=organization, execution=execution, node_key="prepare", index=1)
    ExecutionLog.objects.create(
        organization=organization,
        execution=execution,
        step=step,
        timestamp=timezone.now(),
        level="ok",
        domain="step",
        message_human="Prepared",
    )
    WorkflowApproval.objects.create(organization=organization, execution=execution, node_key="review", message="OK?")
    document = GeneratedDocument(
        organization=organization,
        execution=execution,
        template=template,
        name="their.pdf",
        content_type="application/pdf",
    )
    document.file.save("their.pdf", ContentFile(b"%PDF-1.4"), save=False)
    document.save()
    SignatureRequest.objects.create(
        organization=organization,
        execution=execution,
        document=document,
        provider="zapsign",
        signer_name="Signer",
        signer_email="signer@example.com",
    )
    WorkflowDatastore.objects.create(organization=organization, workflow=workflow, key="k", value=1)
