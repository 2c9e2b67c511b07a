"""Definitions in source files: names, lines, signatures and first docstring lines.

Python is read with `ast` (exact spans, qualified names, signatures, docstrings). Other code
uses declaration patterns common to C-, JS-, Go-, Rust- and Java-like languages, and markdown
its headings. In the languages whose functions and methods carry no keyword (C, C++, Java, C#,
JS/TS methods, Kotlin, Swift, Scala, PHP, Dart), a function is also a name and its parameters
opening a body: `static PyObject *\nfast_scalar_power(PyObject *o1, ...)\n{`. The same records
serve the symbol index (a name in the question reaches its definition) and the outlines of the
fidelity ladder.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

from agent.isolation import isolated
from agent.retrieval.chunking import chunk_kind
from agent.state import Document

MAX_PARSE_CHARS = 1_500_000  # ast on bigger (generated) files costs more than it tells
_DOC_LINE_CHARS = 100


@dataclass(frozen=True, slots=True)  # slots: the symbol index holds one per definition of a corpus
class Definition:
    """One definition: `qualname` is dotted (Class.method); lines are 1-based, of the document."""

    name: str
    qualname: str
    kind: str  # class | function | method | constant | heading | type
    line: int
    end_line: int
    signature: str  # one line, as the source declares it
    doc: str = ""  # first line of the docstring, if any
    depth: int = 0


def definitions(doc: Document, *, fast: bool = False) -> list[Definition]:
    """The definitions in one document, in source order (empty for prose and pages).

    fast: names, kinds and lines only, from declaration patterns (Python too): ~20x cheaper
    than `ast` and enough for the symbol index; outlines use the full parse.
    """
    if doc.source in ("web", "pdf") or len(doc.text) > MAX_PARSE_CHARS:
        return []
    kind = chunk_kind(doc)
    path = doc.uri.split("?", 1)[0].lower()
    if fast and kind == "code":
        return _generic(doc.text, _family(path))
    if path.endswith((".py", ".pyi")):
        try:
            return _python(doc.text)
        except (SyntaxError, ValueError, RecursionError):
            return _generic(doc.text)  # Python 2, templates, fragments: fall back to patterns
    if kind == "code":
        return _generic(doc.text, _family(path))
    if kind == "markdown":
        return _headings(doc.text)
    return []


def _fast_definitions(doc: Document) -> list[Definition]:
    return definitions(doc, fast=True)


def _first_doc_line(node: ast.AST) -> str:
    text = (
        ast.get_docstring(node, clean=True)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module)
        else None
    )
    if not text:
        return ""
    lines = text.strip().splitlines()  # empty when the docstring is only whitespace and separators
    if not lines:
        return ""
    line = lines[0].strip()
    return line[:_DOC_LINE_CHARS] + ("…" if len(line) > _DOC_LINE_CHARS else "")


def _signature(lines: list[str], node: ast.AST) -> str:
    """The declaration line(s) up to the colon that opens the body, joined into one line."""
    start = node.lineno - 1  # type: ignore[attr-defined]
    body = getattr(node, "body", None)
    stop = body[0].lineno - 1 if body else start + 1
    head = " ".join(s.strip() for s in lines[start : max(start + 1, min(stop, start + 8))])
    head = re.sub(r"\s+", " ", head)
    depth = 0
    for i, ch in enumerate(head):  # cut at the colon that ends the header, not one in an annotation
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == ":" and depth == 0:
            return head[:i]
    return head[:200]


def _python(text: str) -> list[Definition]:
    tree = ast.parse(text)
    lines = text.splitlines()
    out: list[Definition] = []

    def visit(body: list[ast.stmt], prefix: str, depth: int, in_class: bool) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                qual = f"{prefix}{node.name}"
                kind = "class" if isinstance(node, ast.ClassDef) else "method" if in_class else "function"
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                out.append(
                    Definition(
                        node.name, qual, kind, first, node.end_lineno or node.lineno,
                        _signature(lines, node), _first_doc_line(node), depth,
                    )
                )  # fmt: skip
                if depth < 2:
                    visit(node.body, qual + ".", depth + 1, isinstance(node, ast.ClassDef))
            elif depth == 0 and isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name) and (t.id.isupper() or t.id[:1].isupper()):
                        line = lines[node.lineno - 1].strip()
                        out.append(
                            Definition(
                                t.id,
                                t.id,
                                "constant",
                                node.lineno,
                                node.end_lineno or node.lineno,
                                line[:120],
                            )
                        )

    visit(tree.body, "", 0, False)
    return out


_GENERIC = re.compile(
    r"^(?P<indent>[ \t]*)(?:(?:export|default|public|private|protected|internal|static|final|abstract|async|"
    r"pub(?:\([a-z]+\))?|unsafe|extern|inline|virtual|override|open|sealed|data)\s+)*"
    r"(?P<kw>class|interface|struct|enum|trait|impl|type|function|fn|func|def|module|object|namespace|record)"
    r"\s*\*?\s+(?:\([^)]*\)\s*)?(?P<name>[A-Za-z_$][\w$]*)",
    re.MULTILINE,
)
_KINDS = {"class": "class", "interface": "type", "struct": "type", "enum": "type", "trait": "type",
          "impl": "type", "type": "type", "record": "type", "object": "class", "module": "class",
          "namespace": "class"}  # fmt: skip


# A function whose declaration has no keyword: modifiers and a return type (or none, when the
# type stands on the line above), a name, parameters without nested parentheses, then a body
# (after a const/noexcept, a TS or Kotlin return type, a constructor's initialisers or a throws
# clause). Calls end in ";" and control statements are told apart by their keyword. A line
# without "(" before any ";" is passed over at once (half the matching time on numpy's C).
_C_FUNCTION = (
    r"^(?=[^\n;]*\()(?P<cindent>[ \t]*)(?:(?!(?:new|return|throw|else|case|await|yield|delete|goto|if)\b)"
    r"[\w<>\[\],:?.@]+(?:[ \t]*[*&]+[ \t]*|[ \t]+))*?"
    r"(?P<cname>~?[A-Za-z_]\w*(?:::~?[A-Za-z_]\w*)*)[ \t]*\([^;{}()]{0,400}\)"
    r"[ \t]*(?:(?:const|noexcept|override|final)\b[ \t]*)*(?::[^;{}=\n]{1,160}?)?"
    r"(?:[ \t]*throws[ \t]+[\w., \t]+?)?\s*\{"
)
_C_FAMILY = re.compile(_GENERIC.pattern + "|" + _C_FUNCTION, re.MULTILINE)
_C_FAMILY_SUFFIXES = (
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".c++", ".m", ".mm", ".java", ".cs", ".kt",
    ".kts", ".scala", ".swift", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".dart",
    ".php", ".groovy",
)  # fmt: skip
_NOT_FUNCTIONS = frozenset(
    "if for foreach while switch catch return sizeof synchronized using lock fixed else new delete throw case "
    "do try with when match typeof defined function elif elseif unless until assert constexpr".split()
)


def _family(uri: str) -> re.Pattern[str]:
    """The declaration pattern for a file: keyword declarations, and keyword-less functions in C-like code."""
    return _C_FAMILY if uri.split("?", 1)[0].lower().endswith(_C_FAMILY_SUFFIXES) else _GENERIC


def _generic(text: str, pattern: re.Pattern[str] = _GENERIC) -> list[Definition]:
    out: list[Definition] = []
    for _, m, line, name, qual, kind, depth in _declarations([text], pattern):
        end = text.find("\n", m.start())
        sig = text[m.start() : end if end >= 0 else len(text)].strip()
        out.append(Definition(name, qual, kind, line, line, sig[:160].rstrip("{ :"), "", depth))
    return out


# Between texts matched together: no declaration pattern matches across it (no whitespace run
# reaches past the ')', a parenthesised receiver ends at it, and nothing starts a name at NUL).
_SEPARATOR = "\n)\0\n"


def _declarations(
    texts: Sequence[str], pattern: re.Pattern[str] = _GENERIC
) -> Iterator[tuple[int, re.Match[str], int, str, str, str, int]]:
    """Each declaration pattern's match in each text: (text number, match, line, name, qualname,
    kind, depth), as if every text were matched alone; they are matched joined, in one pass."""
    joined = _SEPARATOR.join(texts)
    bounds = list(accumulate((len(t) + len(_SEPARATOR) for t in texts), initial=0))
    t, nxt = -1, 0  # the text being read, and where the next one begins
    line = pos = 0
    stack: list[tuple[int, str, str]] = []  # (indent, name, kind) of the enclosing definitions
    for m in pattern.finditer(joined):
        name = m.group("name")
        if name is None:  # a keyword-less function (_C_FUNCTION), unless it is a control statement
            name = m.group("cname")
            if name in _NOT_FUNCTIONS:
                continue
        owner = ""
        if "::" in name:  # C++ `Foo::bar(...) {`: bar, of Foo
            owner, _, name = name.rpartition("::")
            owner = owner.replace("::", ".")
        at = m.start()
        if at >= nxt:  # into a later text
            t = bisect.bisect_right(bounds, at) - 1
            nxt = bounds[t + 1]
            line, pos = 1, bounds[t]
            stack.clear()
        line += joined.count("\n", pos, at)  # line numbers counted forward from match to match, in C
        pos = at
        kind = _KINDS.get(m.group("kw"), "function")
        indent = len((m.group("indent") if m.group("kw") else m.group("cindent")).expandtabs(4))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if kind == "function" and stack and stack[-1][2] in ("class", "type"):
            kind = "method"
        qual = ".".join([*(n for _, n, _ in stack), name]) if stack else name  # top level: one string
        if owner:
            qual = f"{owner}.{name}"
        yield t, m, line, name, qual, kind, min(2, len(stack))
        stack.append((indent, name, kind))


_JOIN_CHARS = 4_000_000  # code matched at a time, joined


def definition_names(documents: Sequence[Document]) -> Iterator[tuple[int, str, str, int]]:
    """(document number, name, qualname, line) of each definition but headings, as
    `definitions(doc, fast=True)` finds them, documents in order: what the symbol index needs,
    without a record and a signature for each, and code matched many files at a time."""
    batch: list[int] = []  # code documents waiting, by number, all of one pattern
    pattern = _GENERIC
    size = 0
    for i, doc in enumerate(documents):
        if doc.source in ("web", "pdf") or len(doc.text) > MAX_PARSE_CHARS:
            continue
        kind = chunk_kind(doc)
        if kind == "code":
            family = _family(doc.uri)
            if family is not pattern or size >= _JOIN_CHARS:
                yield from _code_names(documents, batch, pattern)
                batch, size, pattern = [], 0, family
            batch.append(i)
            size += len(doc.text)
        elif kind != "markdown":  # markdown: headings only
            found = isolated("symbol indexing", doc.uri, "its names are not indexed", [],
                             _fast_definitions, doc)  # fmt: skip
            names = [(i, d.name, d.qualname, d.line) for d in found if d.kind != "heading"]
            if names:
                yield from _code_names(documents, batch, pattern)
                batch, size = [], 0
                yield from names
    yield from _code_names(documents, batch, pattern)


def _code_names(
    documents: Sequence[Document], batch: list[int], pattern: re.Pattern[str]
) -> Iterator[tuple[int, str, str, int]]:
    for n, _, line, name, qual, _, _ in _declarations([documents[i].text for i in batch], pattern):
        yield batch[n], name, qual, line


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _headings(text: str) -> list[Definition]:
    out = []
    line_of = 1
    pos = 0
    for m in _HEADING.finditer(text):
        line_of += text.count("\n", pos, m.start())
        pos = m.start()
        level = len(m.group(1))
        out.append(
            Definition(m.group(2), m.group(2), "heading", line_of, line_of, m.group(0).strip(), "", level - 1)
        )
    return out


def outline(doc: Document, defs: list[Definition] | None = None, *, max_depth: int = 1) -> str:
    """Signatures and first docstring lines, one per line with its line number: the file's shape."""
    defs = definitions(doc) if defs is None else defs
    rows = []
    first = doc.span.start if doc.span.kind == "lines" and doc.span.start else 1
    for d in defs:
        if d.depth > max_depth:
            continue
        pad = "    " * d.depth
        line = f"{first + d.line - 1:>5}: {pad}{d.signature}"
        if d.doc:
            line += f"  # {d.doc}"
        rows.append(line)
    return "\n".join(rows) + ("\n" if rows else "")
