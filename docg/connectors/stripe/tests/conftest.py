from docg.connectors.stripe.tests.fake import stripe_api  # noqa: F401
