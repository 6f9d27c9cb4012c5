"""What a listing page's pager scripts write: their string pieces joined with the values the page gives.

Government CMSs write their pagers from inline script: TRS's ``countPage`` template writes
``"<a href=\\"index"+"_" + nextPage + "."+"shtml\\">下一页</a>"``, ``createPageHTML(21, 0, "index",
"html")`` calls a function whose body joins ``_sPageName+"_" + (_nCurrIndex+1) + "."+_sPageExt``, and
other templates name their own variables and functions. The href is in none of the pieces alone, and its
name and extension come from the script, not from a guess.

This module reads such scripts as data, never runs them: it tokenizes them, keeps the numbers and
strings the page assigns (``var countPage = 7``, ``var nextPage = currentPage+1``) and the arguments
of the first call of each function defined on the page, and evaluates every ``+`` expression that
joins a string: what the script could write, all branches of its ``if``s included. A value the page
does not give (a loop variable, a call's result) stays a hole (``HOLE``), so an href built from one is
never taken for a page. Functions called from links (``javascript:gotoPage(2)``) are evaluated the same
way with the link's arguments, and what they assign to ``location`` is the page they open.

Bounded: only scripts that name a pager (and only when one writes an href, sets the location, submits
a form or calls a pager function), each at most ``MAX_SCRIPT_CHARS``, at most ``MAX_TOTAL_CHARS`` and
``MAX_TOKENS`` a page, ``MAX_FUNCTIONS`` functions, and at most ``MAX_WRITTEN_CHARS`` of written text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Stands for a value the page does not give; never part of a real href.
HOLE = "\ue000"
MAX_SCRIPT_CHARS = 20_000
MAX_TOTAL_CHARS = 120_000
MAX_WRITTEN_CHARS = 60_000
# A pager script names its pager (its words below, lowercased) and writes a link, sets the location,
# submits a form or calls a pager (``age`` for ``[Pp]age``: a pattern whose every branch opens with a
# literal lets the engine skip through the script).
PAGER_WORDS = re.compile(
    "下一页|下页|上一页|fenye|countpage|createpagehtml|nextpage|prevpage|gopage|gotopage|topage|showpage"
    "|turnpage|jumppage|pagecount|pagetotal|totalpage|maxpage|pageno|pagenum|pageindex|curpage|currpage"
    "|currentpage|pagenav|pager"
)
LINK_WRITING = re.compile(r"href|location|window\.open|submit|age[\w$.]*\s*\(")
TOKEN = re.compile(
    r"""(?P<skip>\s+|//[^\n]*|/\*.*?(?:\*/|$)|<!--|-->)"""
    r"""|(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)"""
    r"""|(?P<number>\d+(?:\.\d+)?)"""
    r"""|(?P<name>[A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)"""
    r"""|(?P<op>\+\+|--|\+=|-=|===?|!==?|<=|>=|&&|\|\||[-+*/%(),;=<>!&|?:{}\[\].])"""
    r"""|(?P<other>.)""",
    re.DOTALL,
)
ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(.))", re.DOTALL)
ESCAPED = {"n": "\n", "t": "\t", "r": "\r", "b": "", "f": "", "v": "", "0": ""}
DECLARATIONS = {"var", "let", "const"}
BRACKETS = {"(": ")", "{": "}", "[": "]"}
CLOSERS = set(BRACKETS.values())
LOOP_STEPS = {("op", "="), ("op", "++"), ("op", "+=")}
SEQUENCE_NAME = re.compile(r"\w{1,40}")
SEQUENCE_EXTENSION = re.compile(r"s?html?|jsp|aspx?|php", re.IGNORECASE)
# Comparisons and logic (level 0) only matter for where an expression ends: their value is not given,
# but for ``a || b`` (``a`` when the page gives it).
PRECEDENCE = {
    **dict.fromkeys(("==", "===", "!=", "!==", "<", ">", "<=", ">=", "&&", "||"), 0),
    **{"+": 1, "-": 1, "*": 2, "/": 2, "%": 2},
}
MAX_TOKENS = 40_000
# A link's own script (its onclick or javascript: href) is read up to this length.
MAX_INLINE_CHARS = 1_000
MAX_FUNCTIONS = 100
# Where a script sends the browser: assignments to these and the first argument of these calls.
LOCATION_TARGETS = {
    "location",
    "location.href",
    "window.location",
    "window.location.href",
    "self.location",
    "self.location.href",
    "document.location",
    "document.location.href",
    "top.location",
    "top.location.href",
    "parent.location",
    "parent.location.href",
}
LOCATION_CALLS = {
    "location.replace",
    "location.assign",
    "window.location.replace",
    "window.location.assign",
    "self.location.replace",
    "document.location.replace",
    "top.location.replace",
    "window.open",
}
# Calls whose value is their (first) argument's, as far as a pager's numbers and strings go.
ROUNDING_CALLS: dict[str, Callable[[float], int]] = {
    "Math.ceil": math.ceil,
    "Math.floor": math.floor,
    "Math.round": round,
}
TRANSPARENT_CALLS = {"parseInt", "Number", "String", "escape", "encodeURI", "encodeURIComponent", "unescape"}

Value = int | float | str | None
Token = tuple[str, str]


class _Tokens(list[Token]):
    """A script's tokens and, for each opening bracket, the index of its closing one (matched once,
    so that reading a call or a body never rescans the script)."""

    def __init__(self, tokens: list[Token]) -> None:
        super().__init__(tokens)
        self.partners: dict[int, int] = {}
        open_brackets: list[tuple[int, str]] = []
        for index, (kind, text) in enumerate(tokens):
            if kind != "op":
                continue
            if text in BRACKETS:
                open_brackets.append((index, BRACKETS[text]))
            elif text in CLOSERS:
                # An unbalanced closer closes the nearest bracket of its kind; those above stay open.
                while open_brackets and open_brackets[-1][1] != text:
                    open_brackets.pop()
                if open_brackets:
                    self.partners[open_brackets.pop()[0]] = index


@dataclass(frozen=True)
class PageSequence:
    """Static pages ``name_N.extension`` of a pager script: ``count`` pages, ``current`` the page shown."""

    count: int
    current: int
    name: str
    extension: str


@dataclass
class _Function:
    params: list[str]
    body: tuple[int, int]  # token span of the body, braces excluded
    call: list[Value] | None = None  # arguments of the first call with arguments the page gives


@dataclass
class PagerScripts:
    """The pager scripts of one page, evaluated once: ``written`` is the markup they could write (pieces
    in source order, holes for unknown values), ``joined`` the other strings they join (addresses being
    built), ``functions`` the functions they define."""

    tokens: _Tokens = field(default_factory=lambda: _Tokens([]))
    globals: dict[str, Value] = field(default_factory=dict)
    functions: dict[str, _Function] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)
    written_chars: int = 0
    sequence: PageSequence | None = None

    def navigation(self, name: str, arguments: list[Value]) -> list[str]:
        """What calling the page's function ``name`` with ``arguments`` assigns to the location (the
        page a ``javascript:gotoPage(2)`` link opens), holes and all; nothing when it is not defined."""
        function = self.functions.get(name)
        if function is None:
            return []
        scope = _scope(self.globals, function.params, arguments)
        found: list[str] = []
        spans = [f.body for f in self.functions.values()]
        _walk(self, *function.body, scope, skip=_nested(function.body, spans), navigations=found)
        return found

    def inline_navigation(self, code: str) -> list[str]:
        """What a link's own script (``onclick="location.href='list_2.html'"``) assigns to the location,
        with the page's values."""
        link = PagerScripts(tokens=_tokens(code[:MAX_INLINE_CHARS]), globals=self.globals)
        found: list[str] = []
        _walk(link, 0, len(link.tokens), dict(self.globals), navigations=found)
        return found

    def submitted_field(self, name: str) -> str | None:
        """The form field (name or id) the page's function ``name`` sets before it submits the form
        (``document.form1.pageNo.value = n; document.form1.submit()``), or None."""
        function = self.functions.get(name)
        if function is None:
            return None
        body = self.tokens[slice(*function.body)]
        if not any(kind == "name" and text.endswith("submit") for kind, text in body):
            return None
        for index, (kind, text) in enumerate(body[:-1]):
            if kind != "name":
                continue
            if text.endswith(".value") and body[index + 1] == ("op", "=") and "." in text[:-6]:
                return text[:-6].rpartition(".")[2]
            if text in ("value", "val") and index >= 4 and body[index - 1] == ("op", "."):
                # getElementById("pageNo").value = n, $("#pageNo").val(n)
                element = body[index - 3]
                if element[0] == "string" and body[index - 2] == ("op", ")"):
                    return element[1].lstrip("#")
        return None


def pager_scripts(scripts: list[str], url: str) -> PagerScripts:
    """The page's pager scripts (see the module docstring for which, and the bounds) evaluated; the
    page's own address ``url`` is what they read from ``location``."""
    chosen: list[str] = []
    total = 0
    for script in scripts:
        if len(script) > MAX_SCRIPT_CHARS or not _names_a_pager(script):
            continue
        total += len(script)
        if total > MAX_TOTAL_CHARS:
            break
        chosen.append(script)
    found = PagerScripts()
    # The call (``createPageHTML(21, 0, …)``) and the function writing the links may be two scripts.
    if not any(LINK_WRITING.search(script) for script in chosen):
        return found
    found.globals.update(_location_values(url))
    found.tokens = _tokens("\n;\n".join(chosen))
    found.functions = _functions(found.tokens)
    body_spans = sorted(f.body for f in found.functions.values())
    _walk(found, 0, len(found.tokens), found.globals, skip=body_spans)
    _bind_calls(found)
    found.sequence = _sequence_call(found)
    for function in found.functions.values():
        scope = _scope(found.globals, function.params, function.call or [])
        _walk(found, *function.body, scope, skip=_nested(function.body, body_spans))
    return found


def _names_a_pager(script: str) -> bool:
    # Lowercased first: a case-insensitive pattern could not skip through the script. Every pager word
    # holds "page", "页" or "fenye": those substring tests rule most scripts out at C speed.
    lowered = script.lower()
    return ("page" in lowered or "页" in script or "fenye" in lowered) and PAGER_WORDS.search(
        lowered
    ) is not None


def _location_values(url: str) -> dict[str, Value]:
    """``location.pathname`` and the like as the page at ``url`` reads them (``goPage(n)`` functions
    build the next page's address from them)."""
    parts = urlsplit(url)
    search = f"?{parts.query}" if parts.query else ""
    values: dict[str, Value] = {}
    for owner in ("location", "window.location", "document.location", "self.location"):
        values |= {
            f"{owner}.href": url,
            f"{owner}.pathname": parts.path or "/",
            f"{owner}.search": search,
            f"{owner}.host": parts.netloc,
            f"{owner}.hostname": parts.hostname or "",
            f"{owner}.protocol": f"{parts.scheme}:",
            f"{owner}.origin": f"{parts.scheme}://{parts.netloc}",
        }
    values["document.URL"] = url
    return values


def _scope(globals_: dict[str, Value], params: list[str], arguments: list[Value]) -> dict[str, Value]:
    """A function body's scope: the page's values, its parameters bound (unknown when not passed)."""
    scope = dict(globals_)
    for place, param in enumerate(params):
        scope[param] = arguments[place] if place < len(arguments) else None
    return scope


def _tokens(source: str) -> _Tokens:
    tokens: list[Token] = []
    for match in TOKEN.finditer(source):
        if len(tokens) >= MAX_TOKENS:
            break
        kind = match.lastgroup or "other"
        if kind == "skip":
            continue
        text = match.group()
        if kind == "string":
            text = ESCAPE.sub(_unescape, text[1:-1])
        elif kind == "name":
            text = "".join(text.split())
        tokens.append((kind, text))
    return _Tokens(tokens)


def _unescape(match: re.Match[str]) -> str:
    if match[1] or match[2]:
        return chr(int(match[1] or match[2], 16))
    return ESCAPED.get(match[3], match[3])


def _functions(tokens: _Tokens) -> dict[str, _Function]:
    """``function NAME(a, b) { … }`` and ``NAME = function(a, b) { … }``: parameters and body span."""
    functions: dict[str, _Function] = {}
    for index, (kind, text) in enumerate(tokens):
        if kind != "name" or text != "function":
            continue
        if index + 1 < len(tokens) and tokens[index + 1][0] == "name":
            name, open_paren = tokens[index + 1][1], index + 2
        elif index >= 2 and tokens[index - 1] == ("op", "=") and tokens[index - 2][0] == "name":
            name, open_paren = tokens[index - 2][1].rpartition(".")[2], index + 1
        else:
            continue
        if open_paren >= len(tokens) or tokens[open_paren] != ("op", "("):
            continue
        close_paren = _closing(tokens, open_paren, "(", ")")
        params = [t for k, t in tokens[open_paren + 1 : close_paren] if k == "name"]
        if close_paren + 1 >= len(tokens) or tokens[close_paren + 1] != ("op", "{"):
            continue
        end = _closing(tokens, close_paren + 1, "{", "}")
        functions.setdefault(name, _Function(params, (close_paren + 2, end)))
        if len(functions) >= MAX_FUNCTIONS:
            break
    return functions


def _closing(tokens: _Tokens, start: int, opening: str, closing: str) -> int:
    """The index of the token closing the bracket at ``start`` (or the end of the tokens)."""
    return tokens.partners.get(start, len(tokens))


def _bind_calls(found: PagerScripts) -> None:
    """Each function's first call outside a definition whose arguments are all values the page gives."""
    tokens = found.tokens
    inside = _inside_bodies(len(tokens), [f.body for f in found.functions.values()])
    for index, (kind, text) in enumerate(tokens):
        function = found.functions.get(text) if kind == "name" else None
        if function is None or function.call is not None or inside[index]:
            continue
        if index and tokens[index - 1] == ("name", "function"):
            continue
        if index + 1 < len(tokens) and tokens[index + 1] == ("op", "("):
            arguments = _arguments(tokens, index + 1, found.globals)
            if arguments and all(a is not None and HOLE not in str(a) for a in arguments):
                function.call = arguments


def _sequence_call(found: PagerScripts) -> PageSequence | None:
    """The first call of a pager function the page does not define (an external script's
    ``createPageHTML(countPage, currentPage, "index", "shtml")``, ``showPage('pages', 12, 0, 'list',
    'htm')``) whose arguments, as the page gives them, are a page count, the current page, a page name
    and an HTML extension."""
    tokens = found.tokens
    inside = _inside_bodies(len(tokens), [f.body for f in found.functions.values()])
    for index, (kind, text) in enumerate(tokens[:-1]):
        if kind != "name" or text in found.functions or inside[index] or "page" not in text.lower():
            continue
        if tokens[index + 1] != ("op", "(") or (index and tokens[index - 1] == ("name", "function")):
            continue
        arguments = _arguments(tokens, index + 1, found.globals)
        for start in range(len(arguments) - 3):
            count, current, name, extension = arguments[start : start + 4]
            if (
                isinstance(count, int)
                and isinstance(current, int)
                and isinstance(name, str)
                and isinstance(extension, str)
                and SEQUENCE_NAME.fullmatch(name)
                and SEQUENCE_EXTENSION.fullmatch(extension)
            ):
                return PageSequence(count, current, name, extension)
    return None


def _inside_bodies(count: int, spans: list[tuple[int, int]]) -> list[bool]:
    """For each of ``count`` tokens, whether it lies in one of the function bodies ``spans``."""
    depth = [0] * (count + 1)
    for start, end in spans:
        depth[start] += 1
        depth[min(end, count)] -= 1
    inside, level = [], 0
    for change in depth[:count]:
        level += change
        inside.append(level > 0)
    return inside


def _nested(span: tuple[int, int], spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans strictly inside ``span``, in order."""
    return sorted(other for other in spans if span[0] <= other[0] and other[1] <= span[1] and other != span)


def _arguments(tokens: _Tokens, open_paren: int, scope: dict[str, Value]) -> list[Value]:
    """The values of a call's arguments (``None`` for those not given), the call opening at ``open_paren``."""
    values: list[Value] = []
    position = open_paren + 1
    end = _closing(tokens, open_paren, "(", ")")
    while position < end:
        value, position = _Expression(tokens, position, end, scope).parse()
        values.append(value)
        while position < end and tokens[position] != ("op", ","):
            position += 1
        position += 1
    return values


def _walk(
    found: PagerScripts,
    start: int,
    end: int,
    scope: dict[str, Value],
    *,
    skip: list[tuple[int, int]] | None = None,
    navigations: list[str] | None = None,
) -> None:
    """Read tokens ``start:end`` in order: assignments of values the page gives go into ``scope``,
    joined strings into ``found.written`` (or, with ``navigations``, what is assigned to the location
    into it)."""
    tokens = found.tokens
    skipped = iter(skip or [])
    next_skip = next(skipped, None)
    position = start
    while position < end:
        if next_skip and position >= next_skip[0]:
            position = max(position, next_skip[1])
            next_skip = next(skipped, None)
            continue
        kind, text = tokens[position]
        following = tokens[position + 1] if position + 1 < end else ("", "")
        if kind == "name" and text == "for" and following == ("op", "("):
            # A loop variable has no one value: what the body joins from it stays a hole.
            header_end = _closing(tokens, position + 1, "(", ")")
            for index in range(position + 2, min(header_end, end) - 1):
                if tokens[index][0] == "name" and tokens[index + 1] in LOOP_STEPS:
                    scope[tokens[index][1]] = None
            position = header_end + 1
            continue
        if kind == "name" and following in (("op", "="), ("op", "+=")):
            expression = _Expression(tokens, position + 2, end, scope)
            value, after = expression.parse()
            if navigations is None:
                for branch in expression.branches:
                    _write(found, branch)
            if navigations is not None and text in LOCATION_TARGETS and isinstance(value, str):
                navigations.append(value)
            elif following == ("op", "="):
                declared = position > start and tokens[position - 1][1] in DECLARATIONS
                if value is not None and (declared or text not in scope):
                    scope[text] = value
            if navigations is None and isinstance(value, str) and _joined(tokens, position + 2, after):
                _write(found, value)
            position = max(after, position + 2)
            continue
        if kind == "name" and following == ("op", "(") and navigations is not None and text in LOCATION_CALLS:
            arguments = _arguments(tokens, position + 1, scope)
            if arguments and isinstance(arguments[0], str):
                navigations.append(arguments[0])
        if kind == "string" or (kind == "op" and text == "("):
            expression = _Expression(tokens, position, end, scope)
            value, after = expression.parse()
            if navigations is None:
                for branch in expression.branches:
                    _write(found, branch)
            if navigations is None and isinstance(value, str) and _joined(tokens, position, after):
                _write(found, value)
            if after > position:
                position = after
                continue
        position += 1


def _joined(tokens: _Tokens, start: int, end: int) -> bool:
    """Whether tokens ``start:end`` join pieces with ``+`` or hold a literal that writes markup."""
    pieces = tokens[start:end]
    return ("op", "+") in pieces or any(k == "string" and "<" in t for k, t in pieces)


def _write(found: PagerScripts, text: str) -> None:
    # Only markup can write a link; other joined strings (an address being built) are kept apart.
    if found.written_chars + len(text) <= MAX_WRITTEN_CHARS:
        (found.written if "<" in text else found.joined).append(text)
        found.written_chars += len(text)


class _Expression:
    """A precedence-climbing reader of one expression: numbers, strings, names, ``+ - * / %``,
    parentheses and transparent calls. Returns its value (``None``: not given by the page; strings
    carry ``HOLE`` where an unknown value was joined in) and the index after it."""

    def __init__(self, tokens: _Tokens, start: int, end: int, scope: dict[str, Value]) -> None:
        self.tokens, self.position, self.end, self.scope = tokens, start, end, scope
        self.branches: list[str] = []

    def parse(self) -> tuple[Value, int]:
        value = self._conditional()
        return value, self.position

    def _conditional(self) -> Value:
        """``condition ? a : b``: the value both branches agree on, else not given."""
        condition = self._binary(0)
        if self._peek() != ("op", "?"):
            return condition
        self.position += 1
        when_true = self._conditional()
        if self._peek() != ("op", ":"):
            return None
        self.position += 1
        when_false = self._conditional()
        if when_true == when_false:
            return when_true
        # Neither branch is the value, yet each may be a page's address (``n == 0 ? "list.htm" :
        # "list_" + n + ".htm"``).
        self.branches += [branch for branch in (when_true, when_false) if isinstance(branch, str)]
        return None

    def _peek(self) -> Token:
        return self.tokens[self.position] if self.position < self.end else ("", "")

    def _binary(self, level: int) -> Value:
        left = self._unary()
        while True:
            kind, text = self._peek()
            precedence = PRECEDENCE.get(text) if kind == "op" else None
            if precedence is None or precedence < level:
                return left
            self.position += 1
            right = self._binary(precedence + 1)
            left = _apply(text, left, right)

    def _unary(self) -> Value:
        kind, text = self._peek()
        if kind == "op" and text == "-":
            self.position += 1
            value = self._unary()
            return -value if isinstance(value, int | float) else None
        return self._operand()

    def _operand(self) -> Value:
        kind, text = self._peek()
        if not kind:
            return None
        self.position += 1
        if kind == "string":
            return text
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "op" and text == "(":
            value = self._conditional()
            if self._peek() == ("op", ")"):
                self.position += 1
            return value
        if kind == "name":
            if self._peek() == ("op", "("):
                close = _closing(self.tokens, self.position, "(", ")")
                arguments = _arguments(self.tokens, self.position, self.scope)
                self.position = min(close + 1, self.end)
                if text in TRANSPARENT_CALLS and arguments:
                    return arguments[0]
                if text in ROUNDING_CALLS and arguments and isinstance(arguments[0], int | float):
                    return ROUNDING_CALLS[text](arguments[0])
                return None
            if self._peek() == ("op", "["):
                self.position = min(_closing(self.tokens, self.position, "[", "]") + 1, self.end)
                return None
            return self.scope.get(text)
        self.position -= 1
        return None


def _apply(operator: str, left: Value, right: Value) -> Value:
    if operator == "||":
        return left if left not in (None, "", 0) else right
    if PRECEDENCE[operator] == 0:
        return None
    if operator == "+" and (isinstance(left, str) or isinstance(right, str)):
        return _piece(left) + _piece(right)
    if not (isinstance(left, int | float) and isinstance(right, int | float)):
        return None
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if right == 0:
        return None
    if operator == "/":
        quotient = left / right
        return int(quotient) if quotient == int(quotient) else quotient
    return left % right


def _piece(value: Value) -> str:
    if value is None:
        return HOLE
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)
