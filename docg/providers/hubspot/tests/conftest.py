from docg.connectors.tests.provider_fake import provider_api  # noqa: F401
from docg.providers.hubspot.tests.test_webhooks import (  # noqa: F401 (the record-trigger tests share them)
    hubspot,
    queued,
)
