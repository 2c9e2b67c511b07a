from acme.net.client import backoff_delays
from acme.settings import RetrySettings


def test_delays_double_and_cap():
    assert backoff_delays(RetrySettings(attempts=5, retry_delay_seconds=1, max_delay_seconds=4)) == [
        1,
        2,
        4,
        4,
        4,
    ]
