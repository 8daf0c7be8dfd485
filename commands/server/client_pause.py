"""CLIENT PAUSE / UNPAUSE: hold clients' commands for a while (Redis's pauseClients
with the PAUSE_BY_CLIENT_COMMAND purpose).

WRITE holds the commands that may change the data or reach the replicas (Redis's
is_may_replicate_command: the `write` and `may-replicate` flags, and an EXEC whose
queue holds one); ALL holds every command, CLIENT UNPAUSE included (as in Redis, only
the timeout or another pause's end releases it then). Replicas' connections are never
held. A held client waits in its own greenlet (its earlier replies of the same batch are
sent first) and its command is then processed again from the start, as Redis re-runs a
postponed client: it may meet a new pause, or a redirection.

While a pause lasts the data stands still: keys past their TTL are reported missing but
not deleted (lazily or by the cron) until it ends.

The cluster's manual-failover pause keeps its own hold (cluster/view.py `writes_held`,
driven by the bus); `dataset_frozen` answers for both.
"""
import time

import gevent.event

_MAX_MS = 2 ** 63


def _now_ms() -> int:
    return int(time.time() * 1000)


class ClientPause:
    def __init__(self, server):
        self.server = server
        self.kind = None              # None, "write" or "all"
        self.end_ms = 0               # unix ms
        self._resumed = gevent.event.Event()
        self._resumed.set()

    # ------------------------------------------------------------ CLIENT PAUSE / UNPAUSE

    def pause(self, end_ms: int, kind: str) -> None:
        """A new pause keeps the more restrictive kind and the later end of the one in
        force (Redis: one pause per purpose, max of both)."""
        self._expire_if_due()
        if self.kind is not None:
            kind = "all" if "all" in (kind, self.kind) else "write"
            end_ms = max(end_ms, self.end_ms)
        if end_ms < _now_ms():
            return                    # 0 ms (or a wrapped end): over before it began
        self.kind, self.end_ms = kind, end_ms
        self._resumed.clear()
        self.server.paused = True

    def unpause(self) -> None:
        if self.kind is None:
            return
        self.kind = None
        self.end_ms = 0
        self.server.paused = False
        self._resumed.set()

    def _expire_if_due(self) -> None:
        if self.kind is not None and self.end_ms < _now_ms():
            self.unpause()

    # ------------------------------------------------------------ the executor's check

    def holds(self, client, cmd) -> bool:
        """Must this command wait? (Called only while the server is `paused`.)"""
        self._expire_if_due()
        if self.kind is None or client.replica is not None:
            return False
        if self.kind == "all":
            return True
        if may_replicate(cmd):
            return True
        return cmd.name == "exec" and client.multi is not None \
            and any(may_replicate(queued) for queued, _ in client.multi)

    def wait(self, client) -> None:
        """Hold `client` until the pause ends (UNPAUSE, or its time)."""
        client.flush_batch()          # replies before the held command go out now
        # Counted and flagged as blocked meanwhile, as Redis's postponed clients are
        # (INFO blocked_clients, the 'b' of CLIENT LIST).
        client.held_by_pause = True
        self.server.blocked_clients += 1
        try:
            while self.kind is not None:
                left = (self.end_ms - _now_ms()) / 1000.0
                if left < 0:
                    self._expire_if_due()
                    break
                self._resumed.wait(min(left + 0.001, 1.0))
                self._expire_if_due()
        finally:
            client.held_by_pause = False
            self.server.blocked_clients -= 1

    # ------------------------------------------------------------ the data stands still

    def dataset_frozen(self) -> bool:
        """No expiry while any pause lasts: CLIENT PAUSE (either kind) or a manual
        failover's write hold."""
        self._expire_if_due()
        if self.kind is not None:
            return True
        view = self.server.cluster
        return view is not None and view.writes_paused()


def may_replicate(cmd) -> bool:
    return cmd.is_write or "may-replicate" in cmd.flags


def pause_end_ms(timeout_ms: int) -> int:
    """CLIENT PAUSE's end time as Redis computes it: now + timeout in a signed 64-bit
    integer (0 stays 0: no pause)."""
    if timeout_ms == 0:
        return 0
    end = timeout_ms + _now_ms()
    if end >= _MAX_MS:
        end -= 2 * _MAX_MS            # wraps negative: the pause ends at once
    return end
