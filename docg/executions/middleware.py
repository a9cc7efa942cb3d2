"""A Dramatiq middleware that runs the lease sweep inside every worker process."""

from dramatiq.middleware import Middleware


class ReaperMiddleware(Middleware):
    def __init__(self) -> None:
        self.thread = None

    def after_worker_boot(self, broker, worker) -> None:
        from docg.executions.reaper import ReaperThread

        self.thread = ReaperThread()
        self.thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        if self.thread is not None:
            self.thread.stop()
