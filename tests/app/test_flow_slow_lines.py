"""SLOW flow lines are capped per interval: an overloaded bot does not log every command."""

import logging

from app import flow
from app.flow import FlowSummary


def slow_summary() -> FlowSummary:
    return FlowSummary("slash.profile", "ok", 900.0, 500.0, (("handler", 899.0),))


def test_slow_lines_are_capped_and_the_skipped_ones_counted(caplog, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(flow, "_slow_lines", flow._SlowLines(clock=lambda: clock[0]))
    with caplog.at_level(logging.WARNING, logger="app.flow"):
        for _ in range(flow.SLOW_LINES_PER_INTERVAL + 5):
            flow.log_flow(slow_summary())
        assert len(caplog.records) == flow.SLOW_LINES_PER_INTERVAL
        clock[0] += flow.SLOW_LINES_INTERVAL_S
        flow.log_flow(slow_summary())
    assert len(caplog.records) == flow.SLOW_LINES_PER_INTERVAL + 1
    last = caplog.records[-1].getMessage()
    assert last.startswith("SLOW [slash.profile] 900.0ms (ok)")
    assert "(and 5 SLOW flows not logged before it)" in last
