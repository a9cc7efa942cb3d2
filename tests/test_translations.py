"""The Brazilian Portuguese catalogue covers every string of the code and templates.

The catalogue is extracted afresh (`makemessages`, as a translator would run it) from a copy
of the tree, so a new string without a translation fails here, not in front of a customer.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings

SOURCES = ("docg", "templates", "static", "config", "locale", "manage.py")
DOMAINS = ("django", "djangojs")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: install Debian's gettext package.")
    root = tmp_path_factory.mktemp("tree")
    base = Path(settings.BASE_DIR)
    for name in SOURCES:
        source = base / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / name)
    for domain in DOMAINS:
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "pt_BR", "-d", domain, "--no-obsolete"],
            cwd=root,
            check=True,
            capture_output=True,
        )
    return root / "locale" / "pt_BR" / "LC_MESSAGES"


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_string_has_a_brazilian_portuguese_translation(extracted, domain):
    with open(extracted / f"{domain}.po", "rb") as po:
        catalogue = read_po(po, locale="pt_BR")
    missing = [
        message.id
        for message in catalogue
        if message.id
        and (message.fuzzy or not all(message.string if isinstance(message.string, tuple) else [message.string]))
    ]
    assert missing == [], f"untranslated or fuzzy in {domain}.po (run makemessages and translate): {missing}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalogue_matches_its_source(domain):
    directory = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES"
    compiled = subprocess.run(
        ["msgfmt", "--check", "-o", "-", str(directory / f"{domain}.po")], check=True, capture_output=True
    ).stdout
    assert compiled == (directory / f"{domain}.mo").read_bytes(), f"recompile {domain}.mo with msgfmt"
