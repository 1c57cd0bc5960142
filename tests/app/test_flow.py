"""The flow monitor: checkpoints on an injected clock, FAST/SLOW lines, log levels."""

import logging

from app.flow import FlowTracker, log_flow


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_fast_flow_line():
    clock = Clock()
    flow = FlowTracker("interaction.profile", threshold_ms=100, clock=clock)
    clock.now += 0.0005
    flow.checkpoint("guards")
    clock.now += 0.0007
    flow.checkpoint("command_logged")
    summary = flow.finish("ok")
    assert summary.line() == "FAST [interaction.profile] 1.2ms (ok)"
    assert [label for label, _ in summary.checkpoints] == ["guards", "command_logged"]
    assert not summary.slow


def test_slow_flow_names_its_slow_checkpoints_and_warns(caplog):
    clock = Clock()
    flow = FlowTracker("interaction.leaderboard", threshold_ms=100, clock=clock)
    clock.now += 0.001
    flow.checkpoint("guards")
    clock.now += 0.2
    flow.checkpoint("handler")
    summary = flow.finish("ok")
    assert summary.slow
    assert summary.line() == "SLOW [interaction.leaderboard] 201.0ms (ok): handler 200.0ms"
    with caplog.at_level(logging.DEBUG, logger="app.flow"):
        log_flow(summary)
    assert caplog.records[-1].levelno == logging.WARNING


def test_fast_flows_log_at_debug(caplog):
    flow = FlowTracker("interaction.help", threshold_ms=1000)
    with caplog.at_level(logging.DEBUG, logger="app.flow"):
        log_flow(flow.finish("ok"))
    assert caplog.records[-1].levelno == logging.DEBUG
    assert "FAST [interaction.help]" in caplog.records[-1].getMessage()
