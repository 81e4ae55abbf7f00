"""The same data remote-written into ampd and into Prometheus (Debian's 2.42), the same queries
asked of both over the HTTP API: the answers must be equal (floats within 1e-9 relative).

Sample timestamps are jittered off the whole second, while every window edge, lookback edge,
step and subquery step in the queries falls on a whole second. Prometheus 3.x made range and
lookback windows left-open ((t-r, t]) where 2.42 has them closed ([t-r, t]); with no sample on
an edge, the two agree, so a difference found here is a real one. Differences that do stem
from 2.42 vs 3.x semantics are listed in `KNOWN_DIFFERENCES` with the reason, and skipped by
name.
"""

import math
import random
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

from ampd_harness import free_port
from conftest import ACCESS_KEY, SECRET_KEY
from query_support import Signer, active_workspace, http, write_request

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

pytestmark = pytest.mark.skipif(
    not Path(PROMETHEUS).exists(), reason="prometheus is not installed (tests/setup.sh)"
)

REL_TOL = 1e-9
# Values that should be 0 may differ by rounding noise of the order of the inputs' ulp.
ABS_TOL = 1e-12
SCRAPE_MS = 15_000
MINUTES = 45

QUERIES = {
    "rate": "rate(http_requests_total[5m])",
    "irate": "irate(http_requests_total[1m])",
    "increase": 'increase(http_requests_total{code="500"}[10m])',
    "sum_by_rate": "sum by (job) (rate(http_requests_total[5m]))",
    "sum_without": "sum without (instance, method) (rate(http_requests_total[5m]))",
    "avg_by": "avg by (instance) (node_memory_bytes)",
    "max_minus_min": "max by (job) (rate(http_requests_total[2m])) - min by (job) (rate(http_requests_total[2m]))",
    "count_by": "count by (code) (http_requests_total)",
    "histogram_quantile": "histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))",
    "histogram_quantile_by_job": "histogram_quantile(0.5, sum by (job, le) (rate(request_duration_seconds_bucket[5m])))",
    "topk": "topk(3, rate(http_requests_total[5m]))",
    "bottomk": "bottomk(2, sum by (instance) (rate(http_requests_total[5m])))",
    "regex_selector": 'sum(rate(http_requests_total{code=~"5..", instance!~"i0|i9"}[5m]))',
    "regex_name": 'count({__name__=~"node_.*|temperature"})',
    "offset": 'rate(http_requests_total{job="api"}[5m] offset 10m)',
    "offset_ratio": "sum(rate(http_requests_total[5m])) / sum(rate(http_requests_total[5m] offset 5m))",
    "subquery_max": "max_over_time(sum(rate(http_requests_total[2m]))[10m:1m])",
    "subquery_avg": "avg_over_time(node_memory_bytes[15m:30s])",
    # The same with the subquery range off the step grid, where 2.42 and 3.x agree.
    "subquery_max_off_grid": "max_over_time(sum(rate(http_requests_total[2m]))[10m500ms:1m])",
    "subquery_avg_off_grid": "avg_over_time(node_memory_bytes[15m500ms:30s])",
    "increase_at_series_start": 'increase(http_requests_total{code="500"}[10m] offset 18m)',
    "label_replace": 'label_replace(rate(http_requests_total{code="200"}[5m]), "host", "$1", "instance", "i(.*)")',
    "label_join": 'label_join(node_memory_bytes, "id", "-", "instance", "__name__")',
    "avg_over_time": "avg_over_time(node_memory_bytes[10m])",
    "max_over_time": "max_over_time(temperature[10m])",
    "min_over_time": "min_over_time(temperature[10m])",
    "sum_over_time": "sum_over_time(node_memory_bytes[5m])",
    "quantile_over_time": "quantile_over_time(0.75, node_memory_bytes[10m])",
    "stddev_over_time": "stddev_over_time(node_memory_bytes[10m])",
    "count_over_time": "count_over_time(temperature[5m])",
    "last_over_time": "last_over_time(temperature[10m])",
    "changes": "changes(node_memory_bytes[10m])",
    "resets": "resets(http_requests_total[30m])",
    "deriv": "deriv(node_memory_bytes[10m])",
    "predict_linear": "predict_linear(node_memory_bytes[10m], 600)",
    "delta": "delta(temperature[10m])",
    "idelta": "idelta(temperature[2m])",
    "absent": "absent(nonexistent_metric)",
    "absent_over_time": 'absent_over_time(temperature{room="b"}[1m])',
    "filter": "node_memory_bytes / 1024 > 4.9",
    "bool": "node_memory_bytes > bool 5000",
    "ratio_of_rates": "rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])",
    "group_left": "sum by (instance, job) (rate(http_requests_total[5m])) * on (instance) group_left () node_memory_bytes",
    "count_values": 'count_values("value", count by (job) (http_requests_total))',
    "quantile": "quantile(0.9, rate(http_requests_total[5m]))",
    "stddev": "stddev by (job) (rate(http_requests_total[5m]))",
    "sort_desc": "sort_desc(sum by (instance) (rate(http_requests_total[5m])))",
    "clamp_max": "clamp_max(node_memory_bytes, 5000)",
    "round": "round(rate(http_requests_total[5m]), 0.01)",
    "timestamp": "timestamp(temperature)",
    "scalar": "scalar(sum(node_memory_bytes)) * 2",
    "and": "rate(http_requests_total[5m]) and on (instance) (node_memory_bytes > 5000)",
    "or": "temperature or node_memory_bytes",
    "unless": 'http_requests_total unless on (code) http_requests_total{code="500"}',
    "staleness": 'temperature{room="b"}',
    "present_over_time": "present_over_time(temperature[5m])",
    "group": "group by (job) (http_requests_total)",
    "stdvar": "stdvar(node_memory_bytes)",
    "topk_by": "topk by (job) (1, rate(http_requests_total[5m]))",
    "quantile_by": "quantile by (job) (0.5, rate(http_requests_total[5m]))",
    "math": "abs(deriv(node_memory_bytes[10m])) + sqrt(node_memory_bytes) - ln(node_memory_bytes)",
    "math_rounding": "exp(temperature / 10) - ceil(temperature) + floor(temperature) + sgn(temperature)",
    "power_and_mod": "node_memory_bytes % 7 + node_memory_bytes ^ 0.5",
    "atan2": "node_memory_bytes / 1000 atan2 node_memory_bytes / 2000",
    "vector_time": "vector(time()) + on () group_right () (time() - timestamp(node_memory_bytes))",
    "at_end": "rate(http_requests_total[5m] @ end())",
    "at_start_offset": "node_memory_bytes @ start() offset 1m",
    "ignoring_group_right": 'sum by (instance) (rate(http_requests_total[5m])) / ignoring (code) group_right () (sum by (instance, code) (rate(http_requests_total[5m])))',
    "vector_comparison": "rate(http_requests_total[5m]) > on (instance, job) group_left () sum by (instance, job) (rate(http_requests_total[5m])) / 8",
    "unary_minus": "-sum by (job) (rate(http_requests_total[5m]))",
    "rate_of_subquery": "rate(sum(http_requests_total)[5m500ms:30s])",
    "nested_aggregation": "max(avg by (instance) (rate(http_requests_total[5m])))",
    "label_replace_regex": 'label_replace(node_memory_bytes, "n", "$2-$1", "instance", "(i)([0-9])")',
    "histogram_quantile_rate_1m": "histogram_quantile(0.75, rate(request_duration_seconds_bucket[1m]))",
    "minute_hour": "minute(timestamp(node_memory_bytes)) + hour(timestamp(node_memory_bytes))",
}

# Queries whose answers differ because Prometheus 2.42 and 3.x define them differently, with
# the reason; each is skipped by name.
KNOWN_DIFFERENCES: dict[str, str] = {
    "subquery_max": "subquery steps fall on the grid, so one lies on the range's left edge: "
    "2.42 includes it ([t-10m, t]), 3.x does not ((t-10m, t]); see subquery_max_off_grid",
    "subquery_avg": "as subquery_max, the step on the left edge of [15m:30s] counts in 2.42 "
    "only; see subquery_avg_off_grid",
    "increase_at_series_start": "when a counter starts inside the window, 3.x first caps the "
    "extrapolation to the window start at half an average sample interval and then at the "
    "counter's zero point; 2.42 applies the zero point first and the cap only if that is still "
    "longer than 1.1 intervals, so the two extrapolate differently",
}


def jittered(rng: random.Random, base_ms: int) -> int:
    """A time in (base, base + scrape interval) that is never a whole second."""
    t = base_ms + rng.randrange(100, SCRAPE_MS - 100)
    return t + 7 if t % 1000 == 0 else t


def dataset(start_ms: int):
    """Per minute of data, the series and samples of that minute (all series, in time order)."""
    rng = random.Random(42)
    counters = {}
    for job in ("api", "web"):
        for inst in ("i0", "i1", "i2"):
            for method in ("GET", "POST"):
                for code in ("200", "500"):
                    counters[(("__name__", "http_requests_total"), ("code", code), ("instance", inst),
                              ("job", job), ("method", method))] = 0.0
    gauges = {(("__name__", "node_memory_bytes"), ("instance", i)): 5000.0 + 100 * n
              for n, i in enumerate(("i0", "i1", "i2"))}
    temps = {(("__name__", "temperature"), ("room", r)): 20.0 for r in ("a", "b")}
    bounds = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
    hist = {job: [0.0] * len(bounds) for job in ("api", "web")}
    hist_sum = {job: 0.0 for job in ("api", "web")}
    reset_key = next(iter(counters))
    minutes = []
    for minute in range(MINUTES):
        samples: dict[tuple, list] = {}
        for k in range(60_000 // SCRAPE_MS):
            base = start_ms + minute * 60_000 + k * SCRAPE_MS
            for key in counters:
                counters[key] += rng.randint(0, 3 if ("code", "500") in key else 20)
                if key == reset_key and minute == MINUTES // 2 and k == 0:
                    counters[key] = 1.0
                samples.setdefault(key, []).append((jittered(rng, base), counters[key]))
            for key in gauges:
                gauges[key] += rng.uniform(-40, 40)
                samples.setdefault(key, []).append((jittered(rng, base), gauges[key]))
            for key in temps:
                # Room b stops reporting for ten minutes: its series goes stale.
                if ("room", "b") in key and 20 <= minute < 30:
                    continue
                temps[key] += rng.uniform(-0.5, 0.5)
                samples.setdefault(key, []).append((jittered(rng, base), round(temps[key], 3)))
            for job in hist:
                t = jittered(rng, base)
                for _ in range(rng.randint(5, 30)):
                    v = rng.expovariate(3.0)
                    hist_sum[job] += v
                    for i, b in enumerate(bounds):
                        if v <= float(b):
                            hist[job][i] += 1
                for i, b in enumerate(bounds):
                    key = (("__name__", "request_duration_seconds_bucket"), ("job", job), ("le", b))
                    samples.setdefault(key, []).append((t, hist[job][i]))
                for name, value in (("request_duration_seconds_sum", hist_sum[job]),
                                    ("request_duration_seconds_count", hist[job][-1])):
                    samples.setdefault((("__name__", name), ("job", job)), []).append((t, value))
        minutes.append([(dict(key), pts) for key, pts in samples.items()])
    return minutes


class Prometheus:
    """Prometheus 2.42 with the remote write receiver, no scraping, its own temp storage."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="ampd-e2e-prom-diff-"))
        self.port = free_port()
        (self.dir / "prometheus.yml").write_text("global: {}\n")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.dir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.dir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-remote-write-receiver"],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "prometheus.log", "wb"),
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if http("GET", self.url + "/-/ready", timeout=1).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.close()
        raise RuntimeError("prometheus did not become ready")

    def write(self, series) -> None:
        r = http("POST", self.url + "/api/v1/write", write_request(series), {
            "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
            "X-Prometheus-Remote-Write-Version": "0.1.0"})
        assert r.status in (200, 204), r.body

    def get(self, path: str, params: dict):
        return http("GET", self.url + "/api/v1/" + path + "?" + urllib.parse.urlencode(params))

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def targets(ampd, amp):
    signer = Signer(ACCESS_KEY, SECRET_KEY)
    ws = active_workspace(amp, "differential")
    end_ms = (int(time.time()) // 60 - 2) * 60_000
    start_ms = end_ms - MINUTES * 60_000
    prom = Prometheus()
    try:
        for series in dataset(start_ms):
            prom.write(series)
            r = signer.remote_write(ws["prometheusEndpoint"], series)
            assert r.status == 200, r.body

        def ours(path: str, params: dict):
            return signer.send("GET", ws["prometheusEndpoint"] + "api/v1/" + path, params=params)

        yield prom.get, ours, start_ms, end_ms
    finally:
        prom.close()


def as_float(v: str) -> float:
    return float(v.replace("+Inf", "inf").replace("-Inf", "-inf"))


def close_enough(a: str, b: str) -> bool:
    x, y = as_float(a), as_float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)


# Queries that may answer nothing at every evaluation time (the others must answer something,
# so agreement is not two empty answers).
MAY_BE_EMPTY = {"absent", "absent_over_time"}


def compare(name: str, theirs: dict, ours: dict) -> bool:
    """Asserts the answers agree; returns whether they hold any data."""
    assert theirs["status"] == "success", theirs
    assert ours["status"] == "success", ours
    t, o = theirs["data"], ours["data"]
    assert t["resultType"] == o["resultType"], (name, t, o)
    kind = t["resultType"]
    if kind == "scalar":
        assert t["result"][0] == o["result"][0] and close_enough(t["result"][1], o["result"][1])
        return True
    key = lambda s: tuple(sorted(s["metric"].items()))  # noqa: E731
    tr = {key(s): s for s in t["result"]}
    orr = {key(s): s for s in o["result"]}
    assert set(tr) == set(orr), f"{name}: series differ\nprometheus: {sorted(tr)}\nampd: {sorted(orr)}"
    if name.startswith("sort"):
        assert [key(s) for s in t["result"]] == [key(s) for s in o["result"]], name
    for k, ts in tr.items():
        os_ = orr[k]
        if kind == "vector":
            pairs = [(ts["value"], os_["value"])]
        else:
            assert [p[0] for p in ts["values"]] == [p[0] for p in os_["values"]], (name, k)
            pairs = list(zip(ts["values"], os_["values"]))
        for (tt, tv), (ot, ov) in pairs:
            assert tt == ot, (name, k, tt, ot)
            assert close_enough(tv, ov), f"{name} {k} at {tt}: prometheus {tv}, ampd {ov}"
    return bool(tr)


def skip_known(name: str) -> None:
    if name in KNOWN_DIFFERENCES:
        pytest.skip(f"Prometheus 2.42 vs 3.x: {KNOWN_DIFFERENCES[name]}")


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_instant_queries_agree(targets, name):
    skip_known(name)
    theirs, ours, start_ms, end_ms = targets
    answered = False
    for at_ms in (end_ms, end_ms - 7 * 60_000 - 30_000, start_ms + 25 * 60_000):
        params = {"query": QUERIES[name], "time": f"{at_ms / 1000:.3f}"}
        answered |= compare(name, theirs("query", params).json(), ours("query", params).json())
    assert answered or name in MAY_BE_EMPTY, f"{name} answered nothing on either side"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_range_queries_agree(targets, name):
    skip_known(name)
    theirs, ours, start_ms, end_ms = targets
    answered = False
    for step in ("60", "37"):
        # Windows (up to 15m, plus a 10m offset) start after the data does, away from the
        # series starts where `increase_at_series_start` shows the versions differ.
        params = {"query": QUERIES[name], "start": f"{(start_ms + 26 * 60_000) / 1000:.3f}",
                  "end": f"{end_ms / 1000:.3f}", "step": step}
        answered |= compare(name, theirs("query_range", params).json(),
                            ours("query_range", params).json())
    assert answered or name in MAY_BE_EMPTY, f"{name} answered nothing on either side"


def test_series_and_labels_agree(targets):
    theirs, ours, start_ms, end_ms = targets
    window = {"start": f"{start_ms / 1000:.3f}", "end": f"{end_ms / 1000:.3f}"}
    for path, params in [
        ("labels", window),
        ("label/__name__/values", window),
        ("label/instance/values", {**window, "match[]": "http_requests_total"}),
        ("series", {**window, "match[]": 'http_requests_total{code="500",job="api"}'}),
    ]:
        t, o = theirs(path, params).json(), ours(path, params).json()
        assert t["status"] == o["status"] == "success"
        key = (lambda d: sorted(map(lambda s: sorted(s.items()), d))) if path == "series" else sorted
        assert key(t["data"]) == key(o["data"]), path
