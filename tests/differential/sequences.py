"""What the random-sequence tests share: hypothesis settings fit for the function-scoped
`diff` fixture, and the loop that replays one generated sequence on both servers."""
from hypothesis import HealthCheck, settings


def sequence_settings(max_examples: int):
    """Deterministic examples (a failure reproduces), no deadline (servers are slow)."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def check_sequence(diff, sequence, resp3=False, same=None):
    """From an empty keyspace, every command's replies must agree: be equal, or pass
    `same(cmd, ours, ref)` where the test knows of an allowed difference."""
    diff.check("FLUSHALL")
    if resp3:
        diff.both("HELLO", "3")
    for cmd in sequence:
        ours, ref = diff.both(*cmd)
        agree = ours == ref if same is None else same(cmd, ours, ref)
        assert agree, "command %r:\n  ours:  %r\n  redis: %r" % (cmd, ours, ref)
