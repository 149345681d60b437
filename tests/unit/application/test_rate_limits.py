import pytest

from application.rate_limits import Limit, RateLimiter, parse_limits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_party_may_burst_then_is_told_how_long_to_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"tokens": Limit(per_second=0.5, burst=2)}, clock=clock)
    assert limiter.check("NL*EMS", "tokens").allowed
    assert limiter.check("NL*EMS", "tokens").allowed
    refused = limiter.check("NL*EMS", "tokens")
    assert not refused.allowed and refused.retry_after == 2
    clock.now += 2.0
    assert limiter.check("NL*EMS", "tokens").allowed


def test_limits_are_per_party_and_per_module() -> None:
    limiter = RateLimiter({"tokens": Limit(1, 1)}, clock=FakeClock())
    assert limiter.check("NL*AAA", "tokens").allowed
    assert not limiter.check("NL*AAA", "tokens").allowed
    assert limiter.check("NL*BBB", "tokens").allowed
    assert limiter.check("NL*AAA", "locations").allowed  # no limit configured for locations


def test_the_wildcard_limit_covers_modules_without_their_own() -> None:
    limiter = RateLimiter(parse_limits("tokens=100/100, *=1/1"), clock=FakeClock())
    assert limiter.check("NL*AAA", "cdrs").allowed
    assert not limiter.check("NL*AAA", "cdrs").allowed
    assert limiter.check("NL*AAA", "tokens").allowed


@pytest.mark.parametrize("text", ["tokens", "tokens=fast", "=1/1", "tokens=0/1", "tokens=1/0"])
def test_malformed_limits_are_rejected_with_the_offending_item(text: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        parse_limits(text)
