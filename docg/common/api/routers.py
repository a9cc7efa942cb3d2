from rest_framework.routers import SimpleRouter


class Router(SimpleRouter):
    """No trailing slashes, as PRODUCT.md writes the paths."""

    def __init__(self):
        super().__init__(trailing_slash="")
