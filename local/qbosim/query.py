"""The QuickBooks query language as clients use it.

  select * | count(*) | f1, f2 from Entity
    [where cond (and cond)*]  cond := field (= < > <= >= != like) value | field in (v1, v2, ...)
    [orderby field [asc|desc] (, field [asc|desc])*]
    [startposition n] [maxresults n]

Strings are single-quoted with \\' for a quote (reference: "Query strings must escape ' as \\'"). There is no OR.
MAXRESULTS is at most 1000 (reference, Limits table); STARTPOSITION is 1-based.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .faults import QboFault, query_error

MAX_RESULTS_LIMIT = 1000
DEFAULT_MAX_RESULTS = 100

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:\\.|[^'\\])*')
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),*])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


@dataclass
class Condition:
    field: str
    op: str
    values: list[Any]


@dataclass
class Query:
    entity: str
    count: bool = False
    fields: list[str] | None = None
    conditions: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise query_error(f"unexpected text at position {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _Parser:
    def __init__(self, text: str, entities: dict[str, str]) -> None:
        self.tokens = _tokenize(text)
        self.i = 0
        self.entities = entities  # lower-case name -> canonical name

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise query_error("unexpected end of query")
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].lower() == word:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise query_error(f"expected {word.upper()}")

    def expect_punct(self, p: str) -> None:
        tok = self.take()
        if tok != ("punct", p):
            raise query_error(f"expected {p!r}, found {tok[1]!r}")

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "num":
            try:
                return Decimal(text)
            except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
                raise query_error(f"bad number {text}") from exc
        if kind == "word" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise query_error(f"expected a value, found {text!r}")

    def integer(self, what: str) -> int:
        kind, text = self.take()
        if kind != "num" or "." in text or int(text) < 0:
            raise query_error(f"{what} needs a whole number, found {text!r}")
        return int(text)

    def parse(self) -> Query:
        self.expect_keyword("select")
        count = False
        fields: list[str] | None = None
        if self.peek() == ("punct", "*"):
            self.take()
        elif self.keyword("count"):
            self.expect_punct("(")
            self.expect_punct("*")
            self.expect_punct(")")
            count = True
        else:
            fields = []
            while True:
                kind, text = self.take()
                if kind != "word":
                    raise query_error(f"expected a field name, found {text!r}")
                fields.append(text)
                if self.peek() != ("punct", ","):
                    break
                self.take()
        self.expect_keyword("from")
        kind, name = self.take()
        canonical = self.entities.get(name.lower()) if kind == "word" else None
        if canonical is None:
            raise query_error(f"unknown entity {name!r}")
        q = Query(entity=canonical, count=count, fields=fields)
        if self.keyword("where"):
            while True:
                q.conditions.append(self.condition())
                if not self.keyword("and"):
                    break
        if self.keyword("orderby") or (self.keyword("order") and (self.expect_keyword("by") or True)):
            while True:
                kind, fname = self.take()
                if kind != "word":
                    raise query_error(f"expected a field to order by, found {fname!r}")
                desc = False
                if self.keyword("desc"):
                    desc = True
                else:
                    self.keyword("asc")
                q.order.append((fname, desc))
                if self.peek() != ("punct", ","):
                    break
                self.take()
        while self.peek() is not None:
            if self.keyword("startposition"):
                q.start = self.integer("STARTPOSITION")
                if q.start < 1:
                    raise query_error("STARTPOSITION is 1-based")
            elif self.keyword("maxresults"):
                q.max_results = self.integer("MAXRESULTS")
                if q.max_results > MAX_RESULTS_LIMIT:
                    # ASSUMPTION: real QuickBooks may cap silently; the simulator refuses, so a client that asks for
                    # more than the documented 1000 is caught in tests.
                    raise query_error(f"MAXRESULTS may be at most {MAX_RESULTS_LIMIT}")
            else:
                raise query_error(f"unexpected {self.take()[1]!r}")
        return q

    def condition(self) -> Condition:
        kind, fname = self.take()
        if kind != "word":
            raise query_error(f"expected a field name, found {fname!r}")
        if self.keyword("in"):
            self.expect_punct("(")
            values = [self.value()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.value())
            self.expect_punct(")")
            return Condition(fname, "in", values)
        if self.keyword("like"):
            return Condition(fname, "like", [self.value()])
        kind, op = self.take()
        if kind != "op":
            raise query_error(f"expected an operator after {fname}, found {op!r}")
        return Condition(fname, "!=" if op == "<>" else op, [self.value()])


def parse(text: str, entities: dict[str, str]) -> Query:
    if not text or not text.strip():
        raise query_error("empty query")
    return _Parser(text, entities).parse()


def _get(obj: dict[str, Any], path: str) -> Any:
    """Case-insensitive dotted lookup; a *Ref compares on its value."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        key = next((k for k in cur if k.lower() == part.lower()), None)
        if key is None:
            return None
        cur = cur[key]
    if isinstance(cur, dict) and "value" in cur:
        return cur["value"]
    return cur


def _as_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 19 or value[4] != "-" or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _coerce(left: Any, right: Any) -> tuple[Any, Any]:
    left_dt, right_dt = _as_datetime(left), _as_datetime(right)
    if left_dt is not None and right_dt is not None:
        return left_dt, right_dt  # date-times compare as instants, whatever their UTC offsets
    if isinstance(right, Decimal) and not isinstance(left, Decimal):
        try:
            return Decimal(str(left)), right
        except (InvalidOperation, ValueError):
            return str(left), str(right)
    if isinstance(right, bool):
        return bool(left), right
    if isinstance(right, str) and not isinstance(left, str):
        return ("" if left is None else str(left)), right
    return left, right


def _matches(obj: dict[str, Any], cond: Condition) -> bool:
    raw = _get(obj, cond.field)
    if cond.op == "in":
        return any(_eq(raw, v) for v in cond.values)
    value = cond.values[0]
    if cond.op == "like":
        pattern = "^" + ".*".join(re.escape(p) for p in str(value).split("%")) + "$"
        return raw is not None and re.match(pattern, str(raw), re.IGNORECASE | re.DOTALL) is not None
    if raw is None:
        return False
    left, right = _coerce(raw, value)
    try:
        if cond.op == "=":
            return bool(left == right)
        if cond.op == "!=":
            return bool(left != right)
        if cond.op == "<":
            return bool(left < right)
        if cond.op == ">":
            return bool(left > right)
        if cond.op == "<=":
            return bool(left <= right)
        if cond.op == ">=":
            return bool(left >= right)
    except TypeError:
        return False
    raise query_error(f"unknown operator {cond.op}")  # pragma: no cover


def _eq(raw: Any, value: Any) -> bool:
    if raw is None:
        return False
    left, right = _coerce(raw, value)
    return bool(left == right)


def _sort_key(obj: dict[str, Any], fname: str) -> tuple[int, Any]:
    v = _get(obj, fname)
    if v is None:
        return (0, "")
    if isinstance(v, Decimal | int | float) and not isinstance(v, bool):
        return (1, Decimal(str(v)))
    s = str(v)
    return (1, Decimal(s)) if s.isdigit() else (2, s.lower())


def run(q: Query, objects: list[dict[str, Any]]) -> dict[str, Any]:
    """Evaluate a parsed query over the objects of one entity, answering QueryResponse's shape."""
    hits = [o for o in objects if all(_matches(o, c) for c in q.conditions)]
    if q.count:
        return {"totalCount": len(hits)}
    hits.sort(key=lambda o: _sort_key(o, "Id"))
    for fname, desc in reversed(q.order):
        hits.sort(key=lambda o, f=fname: _sort_key(o, f), reverse=desc)  # type: ignore[misc]
    page = hits[q.start - 1 : q.start - 1 + q.max_results]
    if q.fields:
        keep = {f.lower() for f in q.fields} | {"id", "synctoken", "domain", "sparse"}
        page = [{k: v for k, v in o.items() if k.lower() in keep} for o in page]
    if not page:
        return {}
    return {q.entity: page, "startPosition": q.start, "maxResults": len(page)}


__all__ = ["MAX_RESULTS_LIMIT", "QboFault", "Query", "parse", "run"]
