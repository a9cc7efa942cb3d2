"""An http_request to a host no resolver can encode fails with the SSRF guard's clear error, not a codec error."""

import pytest

from docg.common.errors import DocgError
from docg.connectors.runtime import ActionContext
from docg.providers.core.handlers import http_request


def _context() -> ActionContext:
    return ActionContext(
        execution=None, step=None, node={"key": "notify"}, organization=None, dry_run=False,
        idempotency_key="run:notify:1", correlation_id="c", language="en",
    )  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "http://" + "a" * 64 + ".example.com/hook",  # a label IDNA cannot encode (the probe's case)
        "http://a..example.com/hook",  # an empty label
        "http://exa\uff20mple.com/hook",  # a fullwidth at sign
    ],
)
def test_a_host_the_resolver_cannot_encode_is_an_invalid_host_step_error(url):
    with pytest.raises(DocgError) as caught:
        http_request(_context(), {"method": "GET", "url": url})
    error = caught.value
    assert error.code == "http.blocked_address"
    assert "is not a valid" in error.message
    assert "codec" not in error.message
    assert error.transient is False
