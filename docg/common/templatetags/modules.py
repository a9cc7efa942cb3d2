"""`{% importmap "js/editor/" %}`: ES modules by their hashed names, though they import each other by plain ones.

ManifestStaticFilesStorage can rewrite `import` paths inside JavaScript (support_js_module_import_aggregation,
experimental), but its patterns apply to every *.js collected: they match django_htmx's JSDoc
`import("../htmx")` and collectstatic fails, and modules that ever import each other in a circle cannot be
hashed at all (a file's hash would depend on itself). So the modules keep their relative imports; the
browser resolves each against the plain URL and this import map sends that URL to the hashed file.
Outside production (no manifest) it writes nothing.
"""

import json
from urllib.parse import urljoin

from django import template
from django.contrib.staticfiles.storage import staticfiles_storage
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def importmap(directory: str) -> str:
    hashed_files = getattr(staticfiles_storage, "hashed_files", None)
    if not hashed_files:
        return ""
    imports = {
        urljoin(staticfiles_storage.base_url, name): staticfiles_storage.url(name)
        for name in sorted(hashed_files)
        if name.startswith(directory) and name.endswith(".js")
    }
    # JSON inside <script>: escape what could close the element or start markup.
    text = json.dumps({"imports": imports}).replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
    return format_html('<script type="importmap">{}</script>', mark_safe(text))  # noqa: S308 (escaped above)
