"""The engine runs on the broker BROKER_URL names: Redis by default, RabbitMQ for amqp:// URLs."""

import dramatiq
from django.conf import settings
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker


def test_the_broker_is_the_one_broker_url_names():
    expected = RabbitmqBroker if settings.BROKER_URL.startswith(("amqp://", "amqps://")) else RedisBroker
    assert isinstance(dramatiq.get_broker(), expected)
