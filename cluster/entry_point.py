"""The one way into the state machine: ``@entry_point``.

Every public operation of :class:`cluster.state.ClusterState` that may change it
(``process_packet``, ``cluster_cron``, ``link_*``, the CLUSTER subcommands in
admin.py, ...) is decorated with it, and so is entered and left the same way:

1. begin: the state's clock becomes the call's ``now_ms`` (operations with an
   optional ``now_ms`` that got none keep the last one);
2. the operation runs; it appends effects with ``self._send``, ``self._log``, ...
   and returns the reply of its CLUSTER subcommand, or nothing. A ClusterError it
   raises goes to the caller (raise before changing anything: that is the rule of
   admin.py);
3. finish (``ClusterState._finish``, Redis's clusterBeforeSleep): deferred
   failover steps, the cluster-state update and the config save are done once;
4. the caller gets one shape: an :class:`cluster.effects.Outcome`, the effects in
   order plus ``.reply``.

So an adapter, or commands/, always does::

    outcome = state.some_operation(args..., now_ms)
    bus.execute(outcome)          # carry out the effects
    return outcome.reply          # if the subcommand answers with a value

An entry point called from inside another one (none is today) runs without its
own begin/finish: its effects join the outer call's Outcome.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Callable

from cluster.effects import Outcome

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState


def entry_point(operation: Callable[..., Any]) -> Callable[..., Outcome]:
    """Give a state-machine operation the common begin/finish and the Outcome return."""
    parameters = list(inspect.signature(operation).parameters)
    if "now_ms" not in parameters:
        raise TypeError(f"entry point {operation.__qualname__} needs a now_ms parameter")
    now_position = parameters.index("now_ms") - 1  # among the arguments after self

    @functools.wraps(operation)
    def enter(self: ClusterState, *args: Any, **kwargs: Any) -> Outcome:
        if self._entered:
            return Outcome((), operation(self, *args, **kwargs))
        now_ms = args[now_position] if len(args) > now_position else kwargs.get("now_ms")
        self._begin(now_ms)
        self._entered = True
        try:
            reply = operation(self, *args, **kwargs)
        finally:
            self._entered = False
        outcome = self._finish()
        outcome.reply = reply
        return outcome

    enter.is_entry_point = True  # for tests that list the entry points
    return enter
