"""The Prometheus HTTP query API of a workspace, called the way Grafana's Prometheus data source
calls it (SigV4, service `aps`): answers in Prometheus' envelope and shapes, bad input answered
with Prometheus' error types and statuses, and queries over the limits failing cleanly while
other queries keep working.
"""

import concurrent.futures
import time

import pytest

from ampd_harness import Ampd
from conftest import ACCESS_KEY, SECRET_KEY, client_for
from query_support import Signer, active_workspace

STEP_MS = 15_000
POINTS = 40


@pytest.fixture(scope="module")
def signer():
    return Signer(ACCESS_KEY, SECRET_KEY)


def load(signer: Signer, workspace_url: str, hosts: int = 2) -> int:
    """Writes ten minutes of counters and gauges ending about now; returns the last time (ms)."""
    end = (int(time.time()) - 30) * 1000
    times = [end - (POINTS - 1 - i) * STEP_MS for i in range(POINTS)]
    series = []
    for h in range(hosts):
        for method in ("GET", "POST"):
            labels = {"__name__": "http_requests_total", "job": "api", "instance": f"host-{h}",
                      "method": method}
            series.append((labels, [(t, float(i * (h + 1))) for i, t in enumerate(times)]))
        series.append(({"__name__": "up", "job": "api", "instance": f"host-{h}"},
                       [(t, 1.0) for t in times]))
    metadata = [("http_requests_total", "counter", "Requests served.", ""),
                ("up", "gauge", "Whether the target is up.", "")]
    exemplars = {0: [({"trace_id": "abc123"}, 3.0, times[-1])]}
    r = signer.remote_write(workspace_url, series, metadata, exemplars)
    assert r.status in (200, 204), r.body
    return times[-1]


@pytest.fixture(scope="module")
def workspace(ampd, amp, signer):
    ws = active_workspace(amp, "query-api")
    last = load(signer, ws["prometheusEndpoint"])
    return ws["prometheusEndpoint"], last


def api(workspace) -> str:
    return workspace[0] + "api/v1/"


def ok(r) -> dict:
    assert r.status == 200, r.body
    body = r.json()
    assert body["status"] == "success", body
    assert "errorType" not in body and "error" not in body
    return body


def error(r, status: int, error_type: str) -> str:
    assert r.status == status, r.body
    body = r.json()
    assert body["status"] == "error", body
    assert body["errorType"] == error_type, body
    return body["error"]


# Grafana-style calls ----------------------------------------------------------------------


def test_buildinfo_names_a_prometheus_version(workspace, signer):
    data = ok(signer.send("GET", api(workspace) + "status/buildinfo"))["data"]
    major = int(data["version"].split(".")[0])
    assert major >= 2
    assert data["revision"].startswith("ampd-")


def test_labels_and_label_values_as_grafana_asks(workspace, signer):
    last = workspace[1] / 1000
    window = {"start": str(last - 3600), "end": str(last + 60)}
    names = ok(signer.send("POST", api(workspace) + "labels", form=window))["data"]
    assert names == sorted(names)
    assert {"__name__", "instance", "job", "method"} <= set(names)
    values = ok(signer.send("GET", api(workspace) + "label/__name__/values", params=window))
    assert values["data"] == ["http_requests_total", "up"]
    scoped = ok(signer.send("GET", api(workspace) + "label/method/values",
                            params={**window, "match[]": 'http_requests_total{instance="host-0"}'}))
    assert scoped["data"] == ["GET", "POST"]
    limited = ok(signer.send("GET", api(workspace) + "label/instance/values",
                             params={"limit": "1"}))
    assert limited["data"] == ["host-0"]
    assert limited["warnings"] == ["results truncated due to limit"]


def test_series_with_several_matchers(workspace, signer):
    form = {"match[]": ['up{instance="host-1"}', 'http_requests_total{method="POST"}']}
    data = ok(signer.send("POST", api(workspace) + "series", form=form))["data"]
    assert {"__name__": "up", "job": "api", "instance": "host-1"} in data
    assert len(data) == 3
    assert all(s["__name__"] == "up" or s["method"] == "POST" for s in data)


def test_metadata_from_remote_write(workspace, signer):
    data = ok(signer.send("GET", api(workspace) + "metadata"))["data"]
    assert data["http_requests_total"] == [{"type": "counter", "help": "Requests served.", "unit": ""}]
    one = ok(signer.send("GET", api(workspace) + "metadata", params={"metric": "up"}))["data"]
    assert list(one) == ["up"] and one["up"][0]["type"] == "gauge"


def test_query_range_and_instant_shapes(workspace, signer):
    last = workspace[1] / 1000
    form = {"query": "sum by (instance) (rate(http_requests_total[2m]))",
            "start": str(last - 300), "end": str(last), "step": "60"}
    body = ok(signer.send("POST", api(workspace) + "query_range", form=form))
    assert body["data"]["resultType"] == "matrix"
    result = body["data"]["result"]
    assert [s["metric"] for s in result] == [{"instance": "host-0"}, {"instance": "host-1"}]
    for s in result:
        assert len(s["values"]) == 6
        for t, v in s["values"]:
            assert isinstance(t, (int, float)) and isinstance(v, str)
    # host-1's counters grow twice as fast: 2 series × 2/15 per second.
    assert abs(float(result[1]["values"][-1][1]) - 4 / 15) < 1e-9

    instant = ok(signer.send("GET", api(workspace) + "query",
                             params={"query": "count(up)", "time": str(last)}))
    assert instant["data"] == {"resultType": "vector",
                               "result": [{"metric": {}, "value": [last, "2"]}]}
    limited = ok(signer.send("GET", api(workspace) + "query",
                             params={"query": "up", "time": str(last), "limit": "1"}))
    assert len(limited["data"]["result"]) == 1
    assert limited["warnings"] == ["results truncated due to limit"]
    scalar = ok(signer.send("GET", api(workspace) + "query", params={"query": "1 + 1"}))
    assert scalar["data"]["resultType"] == "scalar" and scalar["data"]["result"][1] == "2"


def test_stats_all_reports_samples_per_step(workspace, signer):
    last = workspace[1] / 1000
    params = {"query": "up", "start": str(last - 60), "end": str(last), "step": "30",
              "stats": "all"}
    stats = ok(signer.send("GET", api(workspace) + "query_range", params=params))["data"]["stats"]
    samples = stats["samples"]
    # Two series, one sample each per step.
    assert samples["totalQueryableSamples"] == 6
    assert [n for _, n in samples["totalQueryableSamplesPerStep"]] == [2, 2, 2]
    assert samples["totalQueryableSamplesPerStep"][0][0] == last - 60
    assert samples["peakSamples"] >= 2
    assert set(stats["timings"]) == {"evalTotalTime", "resultSortTime", "queryPreparationTime",
                                     "innerEvalTime", "execQueueTime", "execTotalTime"}
    empty = ok(signer.send("GET", api(workspace) + "query",
                           params={"query": "nothing_here", "time": str(last), "stats": "all"}))
    assert empty["data"]["stats"]["samples"]["totalQueryableSamplesPerStep"] == [[last, 0]]
    # AMP's samples-processed guardrails.
    over = {**params, "max_samples_processed_error_threshold": "5"}
    msg = error(signer.send("GET", api(workspace) + "query_range", params=over), 422, "execution")
    assert "max_samples_processed_error_threshold" in msg, msg
    warned = ok(signer.send("GET", api(workspace) + "query_range",
                            params={**params, "max_samples_processed_warning_threshold": "5"}))
    assert "warning threshold of 5" in warned["warnings"][0], warned
    assert ok(signer.send("GET", api(workspace) + "query_range",
                          params={**params, "max_samples_processed_error_threshold": "6"}))
    basic = ok(signer.send("GET", api(workspace) + "query",
                           params={"query": "up", "time": str(last), "stats": "1"}))
    assert "totalQueryableSamplesPerStep" not in basic["data"]["stats"]["samples"]
    assert basic["data"]["stats"]["samples"]["totalQueryableSamples"] == 2


def test_exemplars_and_format_query(workspace, signer):
    last = workspace[1] / 1000
    params = {"query": 'rate(http_requests_total{method="GET"}[5m])', "start": str(last - 600),
              "end": str(last + 1)}
    data = ok(signer.send("GET", api(workspace) + "query_exemplars", params=params))["data"]
    assert len(data) == 1
    assert data[0]["seriesLabels"]["instance"] == "host-0"
    assert data[0]["exemplars"] == [{"labels": {"trace_id": "abc123"}, "value": "3",
                                     "timestamp": last}]
    formatted = ok(signer.send("POST", api(workspace) + "format_query",
                               form={"query": "sum(rate(x[5m]))by(job)"}))
    assert formatted["data"] == "sum by (job) (rate(x[5m]))"


# Bad input --------------------------------------------------------------------------------


def test_bad_queries_and_parameters(workspace, signer):
    base = api(workspace)
    msg = error(signer.send("GET", base + "query", params={"query": "sum(rate(x[5m])"}),
                400, "bad_data")
    assert msg.startswith('invalid parameter "query": 1:'), msg
    error(signer.send("GET", base + "query"), 400, "bad_data")
    error(signer.send("GET", base + "query", params={"query": "up", "time": "yesterday"}),
          400, "bad_data")
    rng = {"query": "up", "start": "100", "end": "200", "step": "15"}
    assert "start" in error(signer.send("GET", base + "query_range",
                                        params={**rng, "start": "soon"}), 400, "bad_data")
    assert "end timestamp must not be before start time" in error(
        signer.send("GET", base + "query_range", params={**rng, "end": "50"}), 400, "bad_data")
    assert "zero or negative" in error(
        signer.send("GET", base + "query_range", params={**rng, "step": "0"}), 400, "bad_data")
    error(signer.send("GET", base + "query_range", params={**rng, "step": "fast"}),
          400, "bad_data")
    too_many = error(signer.send("GET", base + "query_range",
                                 params={**rng, "end": "11101", "step": "1"}), 400, "bad_data")
    assert too_many.startswith("exceeded maximum resolution of 11,000 points per timeseries")
    error(signer.send("POST", base + "query_range", form={**rng, "query": "up[5m]"}),
          400, "bad_data")
    assert error(signer.send("GET", base + "series"), 400, "bad_data") == \
        "no match[] parameter provided"
    error(signer.send("GET", base + "series", params={"match[]": "{"}), 400, "bad_data")
    error(signer.send("GET", base + "label/not-a-name/values"), 400, "bad_data")
    # Evaluation errors are `execution` (422).
    last = workspace[1] / 1000
    dup = error(signer.send("GET", base + "query",
                            params={"query": "http_requests_total + on(job) up",
                                    "time": str(last)}), 422, "execution")
    assert "many-to-many" in dup or "duplicate" in dup, dup


def test_unknown_workspace_is_not_found(ampd, signer):
    r = signer.send("GET", ampd.url + "/workspaces/ws-00000000-0000-0000-0000-000000000000/api/v1/query",
                    params={"query": "up"})
    assert r.status == 404, r.body
    assert r.headers.get("x-amzn-ErrorType", "").startswith("ResourceNotFoundException")


# Limits -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited(signer):
    server = Ampd(extra_args=["--query-max-samples", "300", "--query-max-series", "12",
                              "--query-max-concurrency", "4", "--query-queue-timeout-ms", "10000"])
    server.start()
    try:
        ws = active_workspace(client_for(server), "limited")
        last = load(signer, ws["prometheusEndpoint"], hosts=5)
        yield ws["prometheusEndpoint"], last
    finally:
        server.close()


def test_queries_over_the_limits_fail_while_others_work(limited, signer):
    base = api(limited)
    last = limited[1] / 1000
    big = {"query": "count_over_time(http_requests_total[10m])", "time": str(last)}
    many = {"query": '{__name__=~".+"}', "time": str(last)}
    small = {"query": 'up{instance="host-0"}', "time": str(last)}

    def run(params):
        return signer.send("GET", base + "query", params=params)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(run, p) for p in [big, many] * 3 + [small] * 10]
        results = [f.result() for f in futures]
    for r in results[:6:2]:
        assert error(r, 422, "execution") == (
            "query processing would load too many samples into memory in query execution")
    for r in results[1:6:2]:
        assert "limit: 12 series" in error(r, 422, "execution")
    for r in results[6:]:
        assert ok(r)["data"]["result"][0]["value"][1] == "1"


def test_timeouts_stop_the_query(workspace, signer):
    last = workspace[1] / 1000
    # 36,000 subquery steps: far more work than the 1ms the request allows.
    params = {"query": "max_over_time(sum(up)[1h:100ms])", "time": str(last), "timeout": "1ms"}
    r = signer.send("GET", api(workspace) + "query", params=params)
    assert error(r, 503, "timeout") == "query timed out in expression evaluation"
    # The server keeps answering.
    ok(signer.send("GET", api(workspace) + "query", params={"query": "up", "time": str(last)}))


def test_excess_concurrent_queries_fail_cleanly(signer):
    server = Ampd(extra_args=["--query-max-concurrency", "1", "--query-queue-timeout-ms", "1"])
    server.start()
    try:
        ws = active_workspace(client_for(server), "crowded")
        last = load(signer, ws["prometheusEndpoint"]) / 1000
        base = api((ws["prometheusEndpoint"], last))
        # Each query takes far longer than the 1ms an excess one may wait for the single slot.
        slow = {"query": "max_over_time(sum(up)[1h:100ms])", "time": str(last)}
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: signer.send("GET", base + "query", params=slow),
                                    range(8)))
        refused = [r for r in results if r.status != 200]
        assert refused and len(refused) < len(results), [r.status for r in results]
        for r in refused:
            assert "too many concurrent queries" in error(r, 503, "unavailable")
        for r in results:
            if r.status == 200:
                ok(r)
        # Once the crowd is gone, the workspace answers again.
        ok(signer.send("GET", base + "query", params={"query": "up", "time": str(last)}))
    finally:
        server.close()
