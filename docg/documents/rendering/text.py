"""Text from data as XML can hold it: the one clean-up every DOCX writer (values, links, rich text, markers) uses."""

import re

# XML 1.0 refuses these characters. docxtpl parses its output with a *recovering* parser, which
# answers one of them by dropping every `<`, `>` and `&` after it; in a header, python-docx's strict
# parser fails the render instead. A vertical tab is Word's manual line break and a form feed a
# page's end: both become a line break (docxtpl turns "\n" into <w:br/>, "\t" into <w:tab/>);
# "\a" would be a new paragraph in docxtpl, which breaks nesting inside links and cells: dropped.
_INVALID_XML = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c]")


def clean_text(value: str) -> str:
    """`value` with what XML cannot hold removed, Word's line-break characters as newlines."""
    return _INVALID_XML.sub("", _LINE_BREAKS.sub("\n", value))
