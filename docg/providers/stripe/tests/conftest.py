from docg.providers.stripe.tests.fake import stripe_api  # noqa: F401
