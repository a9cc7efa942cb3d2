"""A Dramatiq middleware that runs the lease sweep (and the periodic Google Forms poll) inside every worker process."""

from dramatiq.middleware import Middleware


class ReaperMiddleware(Middleware):
    def __init__(self) -> None:
        self.thread = None
        self.forms_poller = None
        self.periodic = None

    def after_worker_boot(self, broker, worker) -> None:
        from docg.executions.periodic import PeriodicThread
        from docg.executions.reaper import ReaperThread
        from docg.providers.google.schedule import FormsPollThread

        self.thread = ReaperThread()
        self.thread.start()
        self.forms_poller = FormsPollThread()
        self.forms_poller.start()
        self.periodic = PeriodicThread()
        self.periodic.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        if self.thread is not None:
            self.thread.stop()
        if self.forms_poller is not None:
            self.forms_poller.stop()
        if self.periodic is not None:
            self.periodic.stop()
