"""Where each template row of a sheet lands once its row loops ran, and references that follow it.

A sheet's row loops turn template rows into output rows: rows before the first
loop stay, a loop's body rows are emitted once per item (each emission tagged with
its iteration `chain`, ((loop row, index), …) from the outermost loop in), marker
rows disappear, and rows after the last loop shift by a constant. References move
the way Excel moves them when rows are inserted or deleted:

- a range (`D5:D9`, `5:9`) covers every output row its template rows became, so a
  total under a loop sums all of the loop's rows; a range whose rows all went (a
  loop over an empty list) becomes `#REF!`, as in Excel;
- a relative reference from inside a repeated row to a row of the same repetition
  (`=B5*C5` in the body row) points at the same copy; any other reference to a
  repeated row points at its first copy;
- references to other sheets follow that sheet's rows; column references
  (`A:A`), names and other workbooks are left alone.

Inside SUM, SUMPRODUCT, SUMSQ, MAX, MIN and PRODUCT a range that is gone becomes
`0` instead: what each of them gives for an empty range, so a total under a loop
over an empty list reads 0, not #REF!.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

from openpyxl.formula.tokenizer import Token, Tokenizer

Chain = tuple[tuple[int, int], ...]
EXCEL_MAX_ROW = 1_048_576
# Functions for which a range with no rows left counts as 0 (what they give for empty ranges).
_ZERO_WHEN_EMPTY = {"SUM", "SUMPRODUCT", "SUMSQ", "MAX", "MIN", "PRODUCT"}
_REF = re.compile(r"^(?P<sheet>(?:'(?:[^']|'')+'|[^'!:\[\]]+)!)?(?P<first>[^:!]+)(?::(?P<last>[^:!]+))?$")
_REFERENCE = "reference"
_PART = re.compile(r"^(?P<col>\$?[A-Za-z]{1,3})?(?P<abs>\$?)(?P<row>\d+)?$")


@dataclass
class SheetMap:
    """Template rows → output rows of one sheet (the identity for a sheet without loops)."""

    first: int = 0  # the first marker row: rows above it keep their place
    last: int = 0  # the last template row the plan covers; later rows shift by `delta`
    delta: int = 0
    emitted: dict[int, list[int]] = field(default_factory=dict)
    chains: dict[int, list[Chain]] = field(default_factory=dict)
    at: dict[tuple[int, Chain], int] = field(default_factory=dict)
    _spans: dict[tuple[int, int], tuple[int, int] | None] = field(default_factory=dict, repr=False)

    def emit(self, template_row: int, chain: Chain, output_row: int) -> None:
        self.emitted.setdefault(template_row, []).append(output_row)
        self.chains.setdefault(template_row, []).append(chain)
        self.at[(template_row, chain)] = output_row

    def span(self, first: int, last: int) -> tuple[int, int] | None:
        """(lowest, highest) output row of template rows first…last; None when none of them is left."""
        # Every copy of a repeated row asks again for the same ranges: answer each once.
        if (first, last) not in self._spans:
            self._spans[(first, last)] = self._span(first, last)
        return self._spans[(first, last)]

    def _span(self, first: int, last: int) -> tuple[int, int] | None:
        found = [r for t in range(first, min(last, self.last) + 1) for r in self.emitted.get(t, ())]
        if last > self.last:
            found += [max(first, self.last + 1) + self.delta, last + self.delta]
        if not found:
            return None
        return min(found), min(max(found), EXCEL_MAX_ROW)

    def in_chain(self, template_row: int, chain: Chain) -> int | None:
        """The output row of `template_row` in the innermost repetition of `chain` that emitted it."""
        if template_row > self.last:
            return None
        for depth in range(len(chain), -1, -1):
            row = self.at.get((template_row, chain[:depth]))
            if row is not None:
                return row
        return None

    def ranges(self, first: int, last: int) -> list[tuple[int, int]]:
        """Output row spans of a block of rows that moves as one (a merged cell): one per repetition when the
        block lies inside one repeated body, else one span over everything its rows became."""
        chains = sorted(set(self.chains.get(first, ())) - {()})
        if chains and last <= self.last:
            copies = [[self.at.get((t, chain)) for t in range(first, last + 1)] for chain in chains]
            if all(all(rows) for rows in copies):
                return [(rows[0], rows[-1]) for rows in copies]
        span = self.span(first, last)
        return [span] if span else []


def _unquote(sheet: str) -> str:
    sheet = sheet.rstrip("!")
    return sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet


def _moved_ref(value: str, own: str, maps: dict[str, SheetMap], chain: Chain) -> str:
    match = _REF.match(value)
    if match is None:
        return value
    sheet = _unquote(match.group("sheet")) if match.group("sheet") else own
    rows = maps.get(sheet)
    parts = [_PART.match(p) for p in (match.group("first"), match.group("last")) if p is not None]
    if rows is None or not all(parts) or not any(p.group("row") for p in parts):
        return value
    if any(not p.group("row") for p in parts):
        return value  # A1:B (not a reference Excel writes): leave it
    numbers = [int(p.group("row")) for p in parts]
    relative = sheet == own and chain and not any(p.group("abs") for p in parts)
    moved = [rows.in_chain(n, chain) for n in numbers] if relative else [None]
    if None in moved:
        span = rows.span(min(numbers), max(numbers))
        if span is None:
            return "#REF!"
        moved = [span[0]] if len(parts) == 1 else [span[0], span[1]]
    pieces = [f"{p.group('col') or ''}{p.group('abs')}{row}" for p, row in zip(parts, moved, strict=True)]
    return (match.group("sheet") or "") + ":".join(pieces)


@lru_cache(maxsize=4096)
def _tokens(formula: str) -> tuple[tuple[str, str, str], ...] | None:
    """(type, subtype, text) of each token, and for each reference the call it sits in as its subtype.

    A repeated row has the same formulas in every copy: tokenize each once. None: openpyxl's tokenizer
    refuses the formula (Excel would not write it), which then stays as it was.
    """
    try:
        items = Tokenizer(formula).items
    except Exception:
        return None
    tokens, functions = [], []  # the calls the current token sits in, innermost last
    for token in items:
        if token.type == Token.FUNC:
            if token.subtype == Token.OPEN:
                functions.append(token.value[:-1].upper().removeprefix("_XLFN."))
            elif functions:
                functions.pop()
        if token.type == Token.OPERAND and token.subtype == Token.RANGE:
            tokens.append((_REFERENCE, functions[-1] if functions else "", token.value))
        else:
            tokens.append((token.type, token.subtype, token.value))
    return tuple(tokens)


def moved_formula(formula: str, *, sheet: str, maps: dict[str, SheetMap], chain: Chain = ()) -> str:
    """`formula` with its row references following the rows' new places (unchanged when nothing moved)."""
    if not any(m.last for m in maps.values()):
        return formula
    tokens = _tokens(formula)
    if not tokens or tokens[0][0] == Token.LITERAL:
        return formula
    pieces, changed = [], False
    for kind, function, text in tokens:
        if kind == _REFERENCE:
            moved = _moved_ref(text, sheet, maps, chain)
            moved = "0" if moved == "#REF!" and function in _ZERO_WHEN_EMPTY else moved
            changed, text = changed or moved != text, moved
        pieces.append(text)
    return "=" + "".join(pieces) if changed else formula
