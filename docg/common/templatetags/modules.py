"""`{% importmap "js/editor/" %}`: ES modules by their hashed names, though they import each other by plain ones.

ManifestStaticFilesStorage can rewrite `import` paths inside JavaScript (support_js_module_import_aggregation),
but not for modules that import each other in a cycle, as the editor's do: a file's hash depends on the
hashed names it imports, which depend on its own hash, and collectstatic writes imports of files that do
not exist. So the modules keep their relative imports; the browser resolves each against the plain URL,
and this import map sends that URL to the hashed file. Outside production (no manifest) it writes nothing.
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
