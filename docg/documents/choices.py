from django.db import models


class TemplateKind(models.TextChoices):
    DOCX = "docx", "Word document"
    PPTX = "pptx", "PowerPoint presentation"
    GOOGLE_DOC = "google_doc", "Google Docs"
    GOOGLE_SLIDES = "google_slides", "Google Slides"


class SignatureStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SIGNED = "signed", "Signed"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    CANCELED = "canceled", "Canceled"
