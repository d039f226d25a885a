from bench.dashboard import time_dashboard


def test_it_times_the_dashboard_of_a_clinic(make, clinic, therapist):
    make(therapist, open_risk=True)
    figures = time_dashboard(clinic, requests=5, warmup=1)
    assert figures["patients"] == 1
    assert figures["requests"] == 5
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert figures["queries"] > 0


def test_the_http_pass_reports_the_95th_percentile_and_the_largest_page():
    from bench.http_pass import Samples

    samples = Samples(ms=[float(n) for n in range(100, 0, -1)], sizes=[70_000, 71_500, 69_900])
    samples.statuses.add(200)
    figures = samples.as_dict()
    assert (figures["p50_ms"], figures["p95_ms"], figures["requests"]) == (50.5, 95.0, 100)
    assert figures["bytes"] == 71_500
    assert figures["statuses"] == [200]
