from django.db import models
from django.utils.translation import gettext_lazy as _


class TemplateKind(models.TextChoices):
    DOCX = "docx", _("Word document")
    PPTX = "pptx", _("PowerPoint presentation")
    XLSX = "xlsx", _("Excel spreadsheet")
    GOOGLE_DOC = "google_doc", "Google Docs"
    GOOGLE_SLIDES = "google_slides", "Google Slides"


class SignatureStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SIGNED = "signed", _("Signed")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    CANCELED = "canceled", _("Canceled")
