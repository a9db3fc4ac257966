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


def test_the_dependency_answers_429_with_retry_after_from_the_event_loop():
    import inspect
    from types import SimpleNamespace

    from fastapi import Depends, FastAPI
    from fastapi.testclient import TestClient
    from serambi_kit.ratelimit import rate_limited
    from serambi_kit.state import KitState, install

    app = FastAPI()
    install(app, KitState(SimpleNamespace(rate_limits={"lookups": 2})))
    limited = rate_limited("lookups")
    assert inspect.iscoroutinefunction(limited)  # a plain def would run in the thread pool

    @app.get("/x", dependencies=[Depends(limited)])
    async def endpoint() -> dict:
        return {}

    with TestClient(app) as client:
        answers = [client.get("/x") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 1 <= int(answers[2].headers["retry-after"]) <= 30
