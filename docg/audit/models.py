import uuid

from django.db import models

from docg.audit.choices import ActorType


class AuditEvent(models.Model):
    """Append-only: PostgreSQL refuses UPDATE, DELETE and TRUNCATE (migrations 0003, 0004).

    Each row chains to the previous row of its organization through `prev_hash`, so
    `manage.py verify_audit` can prove nothing was altered even by someone who
    disabled the trigger. A row is inserted in the transaction of the change it
    records and sealed (sequence, prev_hash, hash) by the organization's one chain
    writer, often at once and otherwise just after commit (docg/audit/services.py);
    sealing is the only UPDATE the database lets through.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # PROTECT: an organization with history cannot be deleted by a cascade.
    organization = models.ForeignKey("orgs.Organization", on_delete=models.PROTECT, related_name="+")
    # NULL until sealed; the three seal columns are filled together, once.
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    timestamp = models.DateTimeField()
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    event_metadata = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["organization", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sequence"], name="audit_org_sequence_unique"),
        ]
        indexes = [
            # Per-target history (an execution's audit tab) and per-action filters.
            models.Index(fields=["organization", "target_type", "target_id", "sequence"], name="audit_target_idx"),
            models.Index(fields=["organization", "action", "timestamp"], name="audit_action_idx"),
            # The chain writer's queue: the few rows not sealed yet.
            models.Index(
                fields=["organization", "timestamp"],
                condition=models.Q(sequence__isnull=True),
                name="audit_unsealed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"
