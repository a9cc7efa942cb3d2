"""Static files at the ASGI layer, by ServeStatic: collectstatic's output in production, source folders elsewhere.

ServeStatic's Django middleware reads the settings (the manifest's hashed names when the staticfiles storage
is a ManifestStaticFilesStorage and DEBUG is off, the finders when SERVESTATIC_USE_FINDERS says so, long
immutable caching for hashed names); this wrapper uses it from outside Django, so a static file never
enters Django's request handling and any other path, the SSE streams included, goes straight on
without a thread or a file lookup.
"""

from servestatic.asgi import FileServerASGI
from servestatic.middleware import ServeStaticMiddleware
from servestatic.utils import decode_path_info, run_async_in_thread


async def _not_called(request):  # ServeStaticMiddleware wants a next step; this wrapper never calls it.
    raise AssertionError("static files are served by StaticFilesASGI")


class StaticFilesASGI:
    def __init__(self, application):
        self.application = application
        self.servestatic = ServeStaticMiddleware(_not_called)
        self.prefix = self.servestatic.static_prefix

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            path = decode_path_info(scope["path"])
            if self.servestatic.autorefresh:  # DEBUG: files may change or appear while the server runs
                static_file = await run_async_in_thread(self.servestatic.find_file, path)
            else:
                static_file = self.servestatic.files.get(path)
            if static_file is not None:
                return await FileServerASGI(static_file)(scope, receive, send)
        return await self.application(scope, receive, send)
