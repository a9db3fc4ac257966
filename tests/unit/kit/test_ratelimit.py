"""Token buckets: a burst up to the limit, then one request per 60/limit seconds."""

from serambi_kit.ratelimit import TokenBuckets


def test_a_client_may_burst_to_its_limit_then_waits_for_a_token():
    buckets = TokenBuckets(per_minute=3)
    assert [buckets.take("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", now=0.0) == 20.0
    assert buckets.take("a", now=20.0) == 0.0


def test_clients_do_not_share_buckets():
    buckets = TokenBuckets(per_minute=1)
    assert buckets.take("a", now=0.0) == 0.0
    assert buckets.take("b", now=0.0) == 0.0
    assert buckets.take("a", now=1.0) > 0
