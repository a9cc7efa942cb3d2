"""A Dramatiq middleware that runs, inside every worker process, the lease sweep and the
worker's heartbeat (which also drains the outbox and takes over dead workers' steps)."""

from dramatiq.middleware import Middleware


def _on_beat() -> None:
    from docg.executions import dispatch, heartbeat, reaper
    from docg.executions.leases import keeper

    dispatch.outbox_drain()
    reaper.reap_unheld(worker=heartbeat.worker_id(), held=keeper.held())
    reaper.reap_orphans()
    reaper.reap_lost_broker()  # last: it fails while the broker is down


class ReaperMiddleware(Middleware):
    def __init__(self) -> None:
        self.thread = None
        self.heartbeat = None

    def after_worker_boot(self, broker, worker) -> None:
        from docg.executions.heartbeat import HeartbeatThread
        from docg.executions.reaper import ReaperThread

        self.heartbeat = HeartbeatThread(on_beat=_on_beat)
        self.heartbeat.start()
        self.thread = ReaperThread()
        self.thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        if self.thread is not None:
            self.thread.stop()

    def after_worker_shutdown(self, broker, worker) -> None:
        # Beats until the actors have finished: a step still running is not orphaned.
        if self.heartbeat is not None:
            self.heartbeat.stop()
