from bench.dashboard import time_dashboard


def test_it_times_the_dashboard_of_a_clinic(make, clinic, therapist):
    make(therapist, open_risk=True)
    figures = time_dashboard(clinic, requests=5, warmup=1)
    assert figures["patients"] == 1
    assert figures["requests"] == 5
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert figures["queries"] > 0
