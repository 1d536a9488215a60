"""FaultInjector and scenario files: hand-computed clocks, retries, breaker, price; YAML errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from routegate.errors import InputError
from routegate.faults.builtin import builtin_scenarios
from routegate.faults.injector import FaultInjector, call_draw
from routegate.faults.scenario import Arrival, Scenario, load_scenario, parse_scenario
from routegate.faults.walk import walk_breaker
from routegate.load.catalog import Catalog
from routegate.load.policy import CircuitBreaker, Retry, load_catalog_source
from routegate.load.sources import parse_source
from routegate.load.yamlsource import parse_yaml
from routegate.providers.base import ERROR_CODES, OK, CallBatch, CallResult
from routegate.providers.breaker import Breaker

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("gpt-4-1106-preview", "mixtral-8x7b-instruct-v0.1")  # openai, together
NO_RETRY = Retry(max_attempts=1)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog_source(parse_source(str(ROOT / "policies" / "models.yaml")))[0]


class Always:
    """Answers every call: 10 ms, 100 input and 10 output tokens."""

    independent_calls = True

    def call(self, batch: CallBatch) -> CallResult:
        n = len(batch)
        return CallResult(
            error=np.zeros(n, np.int8),
            input_tokens=np.full(n, 100, np.int64),
            output_tokens=np.full(n, 10, np.int64),
            latency_ms=np.full(n, 10.0),
            confidence=np.full(n, np.nan),
            quality=np.ones(n),
            response=pa.array(["ok"] * n, pa.string()),
        )


def batch(start_ms: list[float] | np.ndarray, model: int = 1, request: np.ndarray | None = None) -> CallBatch:
    start = np.asarray(start_ms, dtype=np.float64)
    n = start.size
    return CallBatch(
        request=np.arange(n, dtype=np.int64) if request is None else request,
        model=np.full(n, model, np.int16),
        models=MODELS,
        start_ms=start,
        attempt=np.zeros(n, np.int16),
    )


def scenario(*faults: dict[str, object], **head: object) -> Scenario:
    doc = parse_yaml("x: 1", "s.yaml")
    data = {"name": "s", "description": "test", **head, "faults": list(faults)}
    return parse_scenario(type(doc)("s.yaml", data))


def test_outage_window_is_exact_on_the_virtual_clock(catalog: Catalog) -> None:
    s = scenario({"type": "outage", "provider": "together", "start": "10s", "duration": "20s"})
    inj = FaultInjector(Always(), s, catalog, NO_RETRY, None)
    res = inj.call(batch([0, 9_999.9, 10_000, 29_999.9, 30_000, 50_000]))
    down = res.error == ERROR_CODES["server_error"]
    assert down.tolist() == [False, False, True, True, False, False]
    assert res.latency_ms.tolist() == [10.0, 10.0, 100.0, 100.0, 10.0, 10.0]
    assert res.input_tokens.tolist() == [100, 100, 0, 0, 100, 100]
    assert res.response.null_count == 2
    # the other provider is untouched
    assert (inj.call(batch([15_000], model=0)).error == OK).all()


def test_timeout_outage_takes_the_providers_timeout(catalog: Catalog) -> None:
    s = scenario({"type": "outage", "model": MODELS[1], "error": "timeout"})
    res = FaultInjector(Always(), s, catalog, NO_RETRY, None).call(batch([0.0]))
    assert res.error[0] == ERROR_CODES["timeout"]
    assert res.latency_ms[0] == catalog.providers["together"].timeout_s * 1000


def test_error_rate_is_within_sampling_error_and_draws_are_deterministic(catalog: Catalog) -> None:
    s = scenario({"type": "errors", "provider": "together", "kind": "server_error", "rate": 0.3}, seed=11)
    n = 100_000
    inj = FaultInjector(Always(), s, catalog, NO_RETRY, None)
    res = inj.call(batch(np.zeros(n)))
    share = float(np.mean(res.error != OK))
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / n)
    again = FaultInjector(Always(), s, catalog, NO_RETRY, None).call(batch(np.zeros(n)))
    assert np.array_equal(res.error, again.error)
    other = FaultInjector(Always(), scenario(*s.model_dump()["faults"], seed=12), catalog, NO_RETRY, None)
    assert not np.array_equal(res.error, other.call(batch(np.zeros(n))).error)
    u = call_draw(np.uint64(5), np.arange(n), np.zeros(n), 0, 0)
    assert u.min() >= 0
    assert u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01


def test_retries_with_retry_after_add_their_latency(catalog: Catalog) -> None:
    # every try inside [0, 4.2 s) is rate limited with Retry-After 2 s; each failed try takes 100 ms
    s = scenario(
        {
            "type": "errors",
            "provider": "together",
            "kind": "rate_limit",
            "rate": 1,
            "retry_after_s": 2,
            "duration": "4.2s",
        }
    )
    retry = Retry(max_attempts=3, backoff_s=0.5, max_backoff_s=20)
    inj = FaultInjector(Always(), s, catalog, retry, None)
    res = inj.call(batch([0.0, 10.0]))
    # call 0: 0 fail +100, wait 2000 -> 2100 fail +100, wait 2000 -> 4200: outside the window: answered in 10 ms
    assert res.error[0] == OK
    assert res.latency_ms[0] == pytest.approx(4210.0)
    # call 1: tries at 10, 2110, 4210: the third is outside too
    assert res.error[1] == OK
    assert res.latency_ms[1] == pytest.approx(4210.0)
    assert inj.stats.retries["together"] == 4
    # two tries only: the call fails after 100 + 2000 + 100 ms
    two = FaultInjector(Always(), s, catalog, Retry(max_attempts=2), None).call(batch([0.0]))
    assert two.error[0] == ERROR_CODES["rate_limit"]
    assert two.latency_ms[0] == pytest.approx(2200.0)
    # Retry-After is honoured up to max_backoff_s
    capped = FaultInjector(Always(), s, catalog, Retry(max_attempts=2, max_backoff_s=1), None).call(batch([0.0]))
    assert capped.latency_ms[0] == pytest.approx(1200.0)


def test_backoff_is_full_jitter_and_not_retried_kinds_end_at_once(catalog: Catalog) -> None:
    s = scenario({"type": "errors", "provider": "together", "kind": "server_error", "rate": 1})
    retry = Retry(max_attempts=3, backoff_s=0.5, max_backoff_s=0.8)
    res = FaultInjector(Always(), s, catalog, retry, None).call(batch(np.zeros(2000)))
    waits = res.latency_ms - 300.0  # three failed tries of 100 ms
    assert (res.error == ERROR_CODES["server_error"]).all()
    assert waits.min() >= 0
    assert waits.max() <= 500 + 800
    assert abs(waits.mean() - (250 + 400)) < 20
    refuse = scenario({"type": "errors", "provider": "together", "kind": "refusal", "rate": 1})
    once = FaultInjector(Always(), refuse, catalog, retry, None).call(batch([0.0]))
    assert once.latency_ms[0] == 100.0  # refusal is not in retry.on


def test_breaker_walk_on_a_hand_computed_sequence() -> None:
    t = np.arange(17, dtype=np.float64) * 1000
    fail = np.array([1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0], dtype=bool)
    walk = walk_breaker(t, np.full(17, 500.0), fail, Breaker(CircuitBreaker(failures=2, cooldown_s=3), per_second=1000))
    # trips after calls 0-1 (open 1.5 s .. 4.5 s: calls 2-4 skipped); probe 5 fails (open 5.5 .. 8.5:
    # 6-8 skipped); probe 9 succeeds; 10 fails, 11 succeeds, 12-13 fail: trip (13.5 .. 16.5: 14-16 skipped)
    assert np.flatnonzero(walk.short).tolist() == [2, 3, 4, 6, 7, 8, 14, 15, 16]
    assert (walk.trips, walk.failed_probes) == (2, 1)


def test_breaker_short_circuits_calls_in_the_injector(catalog: Catalog) -> None:
    s = scenario({"type": "outage", "provider": "together", "duration": "10s"})
    inj = FaultInjector(Always(), s, catalog, NO_RETRY, CircuitBreaker(failures=3, cooldown_s=5))
    res = inj.call(batch(np.arange(20) * 1000.0))
    # calls 0-2 fail (outage) -> open at 2.1 s until 7.1 s: 3..7 skipped; probe 8 fails (outage) -> 8.1..13.1
    # skipped 9..13; probe 14 succeeds (outage over)
    assert inj.stats.circuit_open["together"] == 10
    assert inj.stats.trips["together"] == 1
    assert inj.stats.failed_probes["together"] == 1
    skipped = np.r_[3:8, 9:14]
    assert (res.latency_ms[skipped] == 0).all()
    assert (res.error[skipped] == ERROR_CODES["server_error"]).all()
    assert (res.error[14:] == OK).all()
    # a later batch step at earlier virtual times inside a known open interval is skipped too
    later = inj.call(batch([4000.0, 20_000.0]))
    assert later.latency_ms.tolist() == [0.0, 10.0]


def test_price_and_latency_faults_scale_from_their_start(catalog: Catalog) -> None:
    s = scenario(
        {"type": "price", "provider": "together", "multiplier": 3, "start": "1m"},
        {"type": "latency", "model": MODELS[1], "multiplier": 2.5, "start": "0s", "duration": "30s"},
    )
    res = FaultInjector(Always(), s, catalog, NO_RETRY, None).call(batch([0.0, 59_999.0, 60_000.0]))
    assert res.price_factor is not None
    assert res.price_factor.tolist() == [1.0, 1.0, 3.0]
    assert res.latency_ms.tolist() == [25.0, 10.0, 10.0]


def test_arrival_process_replaces_the_suite_clock(catalog: Catalog) -> None:
    fixed = Arrival(process="fixed_rate", rate_per_s=4)
    assert fixed.arrivals_ms(5, 0).tolist() == [0.0, 250.0, 500.0, 750.0, 1000.0]
    s = scenario({"type": "outage", "provider": "together", "start": "0.5s", "duration": "0.5s"})
    s = s.model_copy(update={"arrival": fixed})
    suite_clock = np.arange(5) * 1000.0
    inj = FaultInjector(Always(), s, catalog, NO_RETRY, None, arrival_ms=suite_clock)
    res = inj.call(batch(suite_clock + 7.0))  # 7 ms into each request
    assert (res.error != OK).tolist() == [False, False, True, True, False]
    profile = Arrival(process="diurnal", rate_per_s=10, peak_to_trough=3, period="1h", peak_at="30m")
    diurnal = profile.arrivals_ms(200_000, 3)
    assert np.all(np.diff(diurnal) >= 0)
    in_5h = np.count_nonzero(diurnal < 5 * 3_600_000)  # five whole periods at a mean of 10/s
    assert abs(in_5h - 180_000) < 4 * np.sqrt(180_000)
    minute = ((diurnal % 3_600_000) // 60_000).astype(int)
    per_minute = np.bincount(minute[diurnal < 5 * 3_600_000], minlength=60)
    assert per_minute[30] / per_minute[0] == pytest.approx(3, rel=0.15)  # peak at 30 min vs trough at 0
    assert np.array_equal(diurnal, profile.arrivals_ms(200_000, 3))


def test_builtins_cover_each_provider() -> None:
    names = [s.name for s in builtin_scenarios(["b", "a"], "a", 10 * 3_600_000)]
    assert names == ["a-down", "a-down-2h", "b-down", "b-down-2h", "rate-limit-a", "a-price-x3", "b-price-x3"]
    window = builtin_scenarios(["a"], None, 10 * 3_600_000)[1].faults[0]
    assert (window.start, window.end) == (3_600_000.0, 3_600_000.0 + 7_200_000.0)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "token", "field", "words"),
    [
        ("  - {type: errors, provider: together, kind: server_error, rate: 2}\n", "2}", "faults[0].rate", "<= 1"),
        ("  - {type: outage, provider: together, start: 10 minutes}\n", "10 minutes", "faults[0].start", "duration"),
        ("  - {type: flood, provider: together}\n", "flood", "faults[0].type", "outage, errors"),
        ("  - {type: outage, provider: nowhere}\n", "nowhere", "faults[0].provider", "unknown provider"),
        ("  - {type: outage}\n", "{", "faults[0]", "exactly one"),
        (
            "  - {type: price, provider: together, multiplier: 3, duration: 1h}\n",
            "duration",
            "faults[0].duration",
            "unknown",
        ),
    ],
)
def test_scenario_errors_name_file_line_col(
    tmp_path: Path, catalog: Catalog, body: str, token: str, field: str, words: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ndescription: a bad one\nseed: 1\nfaults:\n" + body)
    with pytest.raises(InputError) as exc:
        load_scenario(str(path), catalog)
    problem = exc.value.problems[0]
    assert (problem.file, problem.line, problem.col, problem.field) == (str(path), 5, body.index(token) + 1, field)
    assert words in problem.message
