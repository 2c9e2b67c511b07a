"""Main-content extraction on real pages: forage against trafilatura's defaults and readability.

Usage:
    python -m evals.checks.extraction [--corpus KIND=PATH]... [--workers 2] [--limit N] [--out FILE]
        [--pages FILE]

Every method runs on the same pages in the same run. Corpora are public checkouts (fetch the
repository, then ``git clone`` it locally); nothing of them is committed here:

- ``wceb2025=PATH``: tiptopjaw/web-content-extraction-benchmark (2025 pages with the full
  main text as ground truth; we score its article, blog and documentation pages);
- ``readability=PATH``: mozilla/readability's test pages (source.html and expected.html);
- ``trafilatura=PATH``: adbar/trafilatura's evaluation set (tests/evaldata.json: snippets each
  page must and must not contain);
- ``aeb=PATH``: scrapinghub/article-extraction-benchmark (181 real news and blog pages, 2019,
  fetched without JavaScript, with each article's body text as ground truth). It is a held-out
  check, never tuned on: no setting here was chosen on it.

Without --corpus it runs on the few real pages bundled for the smoke test (tests/fixtures/pages).

Scores. On full-text corpora: bag-of-words precision, recall and F1 per page (averaged), over
the text each extractor returns, as it would be packed (forage's markdown, trafilatura's
text), and the same over word 4-grams (order matters there). On snippet corpora: a snippet
counts as found when it occurs (whitespace and markdown emphasis ignored) in the output.
Characters a reader does not see (soft hyphens, zero-width spaces and joiners, byte-order marks)
are removed from every text before scoring, for every method alike: "of\u00adfen" and "offen"
are the same word on screen.

Markdown syntax is fair game: bag-of-words tokens are runs of word characters, so emphasis
marks, heading marks, bullets, table pipes and backslash escapes are no tokens for any method,
nor the inline HTML a markdown writer uses for superscript, subscript and underline; snippets
are matched after removing the same marks, tags and escapes (a backslash before ``[`` is not
seen on screen). Measured on the even pages, stripping every remaining piece of markdown syntax
from forage's output (ordered-list numbers, fence lines, table rules) moves its precision by
less than 0.002.

Each corpus is also scored in two halves, even- and odd-indexed pages (``even``/``odd`` in the
report): extraction settings are chosen on the even pages, so the odd ones are a held-out figure.
Corpora with page types (wceb2025: article, blog, documentation) are also scored per type
(``by_type``): news and blog pages are what the articles stand for.
``--pages FILE`` writes every page's scores (JSON lines) to look at the worst pages.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SMOKE_PAGES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "pages"
DEFAULT_OUT = Path("evals/perf/results/extraction.json")
_TOKEN = re.compile(r"\w+")
_MARKUP = re.compile(r"[*`|#]+|(?<!\w)_|_(?!\w)")
_UNSEEN = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
# Inline HTML that markdown writers use for formatting markdown has no syntax for (trafilatura:
# "x<sup>2</sup>", "<u>word</u>"): markup, not words, for every method.
_INLINE_TAGS = re.compile(r"</?(?:sup|sub|u)>")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")  # a markdown backslash escape
WCEB_TYPES = ("article", "blog", "documentation")


@dataclass
class Page:
    """One real page: its HTML and either its main text or snippets it must (not) contain."""

    name: str
    html: str
    url: str = ""
    truth: str | None = None
    must: list[str] = field(default_factory=list)
    must_not: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- corpora


def load_wceb2025(root: Path) -> Iterator[Page]:
    for gt_file in sorted((root / "benchmark" / "ground-truth").glob("*.json")):
        item = json.loads(gt_file.read_text(encoding="utf-8"))
        kind = item.get("_internal", {}).get("page_type", {}).get("primary")
        html_file = root / "release" / "html" / f"{item['file_id']}.html.gz"
        if kind not in WCEB_TYPES or not html_file.exists():
            continue
        truth = (item.get("ground_truth") or {}).get("main_content") or ""
        html = gzip.decompress(html_file.read_bytes()).decode("utf-8", "replace")
        yield Page(f"wceb2025/{kind}/{item['file_id']}", html, item.get("url", ""), truth)


def load_readability(root: Path) -> Iterator[Page]:
    from lxml import html as lhtml

    for folder in sorted((root / "test" / "test-pages").iterdir()):
        source, expected = folder / "source.html", folder / "expected.html"
        if not (source.exists() and expected.exists()):
            continue
        want = expected.read_text(encoding="utf-8", errors="replace")
        truth = lhtml.fromstring(want).text_content() if want.strip() else ""
        yield Page(
            f"readability/{folder.name}", source.read_text(encoding="utf-8", errors="replace"), "", truth
        )


def load_trafilatura(root: Path) -> Iterator[Page]:
    data = json.loads((root / "tests" / "evaldata.json").read_text(encoding="utf-8"))
    for url, item in sorted(data.items()):
        for sub in ("cache", "eval"):
            path = root / "tests" / sub / item["file"]
            if path.is_file():
                raw = path.read_bytes()
                yield Page(
                    f"trafilatura/{item['file']}",
                    _decode(raw),
                    url,
                    None,
                    list(item["with"]),
                    list(item["without"]),
                )
                break


def load_aeb(root: Path) -> Iterator[Page]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    for key, item in sorted(truth.items()):
        html_file = root / "html" / f"{key}.html.gz"
        if html_file.exists():
            html = gzip.decompress(html_file.read_bytes()).decode("utf-8", "replace")
            yield Page(f"aeb/{key[:16]}", html, item.get("url", ""), item.get("articleBody") or "")


def load_smoke(root: Path = SMOKE_PAGES) -> Iterator[Page]:
    """The real pages bundled for the pytest smoke run (see their README for sources)."""
    for meta_file in sorted(root.glob("*.json")):
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        html = gzip.decompress((root / meta["html"]).read_bytes()).decode("utf-8", "replace")
        yield Page(f"smoke/{meta_file.stem}", html, meta.get("url", ""), meta["truth"])


LOADERS: dict[str, Callable[[Path], Iterator[Page]]] = {
    "wceb2025": load_wceb2025,
    "readability": load_readability,
    "trafilatura": load_trafilatura,
    "aeb": load_aeb,
    "smoke": load_smoke,
}


def _decode(raw: bytes) -> str:
    m = re.search(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", raw[:4096], re.I)
    for codec in ((m.group(1).decode("ascii"),) if m else ()) + ("utf-8",):
        try:
            return raw.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("utf-8", "replace")


# ---------------------------------------------------------------------------- methods


def forage(html: str, url: str) -> str:
    from tools.html.extract import extract_html

    return extract_html(html, url or "https://example.org/page").markdown


def trafilatura_defaults(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url or None) or ""


def readability(html: str, url: str) -> str:
    from lxml import html as lhtml
    from readability import Document

    summary = Document(html).summary()
    return lhtml.fromstring(summary).text_content() if summary.strip() else ""


METHODS: dict[str, Callable[[str, str], str]] = {
    "forage": forage,
    "trafilatura_defaults": trafilatura_defaults,
    "readability": readability,
}


# ---------------------------------------------------------------------------- scoring


def tokens(text: str) -> list[str]:
    return [w.lower() for w in _TOKEN.findall(_INLINE_TAGS.sub(" ", _UNSEEN.sub("", text or "")))]


def overlap(predicted: str, truth: str, n: int = 1) -> tuple[float, float, float]:
    """Precision, recall and F1 of predicted against truth over word n-grams (bags, with counts)."""
    got, want = tokens(predicted), tokens(truth)
    if n > 1:
        got = [" ".join(got[i : i + n]) for i in range(max(0, len(got) - n + 1))]
        want = [" ".join(want[i : i + n]) for i in range(max(0, len(want) - n + 1))]
    hit = sum((Counter(got) & Counter(want)).values())
    precision = hit / len(got) if got else float(not want)
    recall = hit / len(want) if want else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def snippets(predicted: str, page: Page) -> tuple[int, int, int, int]:
    """(found, missed, leaked, kept out) for a snippet-annotated page."""

    def norm(text: str) -> str:
        return " ".join(_UNSEEN.sub("", text).split())

    text = norm(_MARKUP.sub("", _ESCAPE.sub(r"\1", _INLINE_TAGS.sub("", predicted))))
    found = sum(norm(s) in text for s in page.must)
    leaked = sum(norm(s) in text for s in page.must_not)
    return found, len(page.must) - found, leaked, len(page.must_not) - leaked


def score_page(job: tuple[Page, tuple[str, ...]]) -> tuple[str, dict[str, Any]]:
    page, names = job
    out: dict[str, Any] = {}
    for name in names:
        started = time.perf_counter()
        try:
            text = METHODS[name](page.html, page.url)
        # A method that crashes on a real page scores zero there, as it would fail a user.
        except Exception as exc:  # noqa: BLE001
            text = ""
            out[f"{name}_error"] = f"{type(exc).__name__}: {exc}"[:200]
        seconds = time.perf_counter() - started
        if page.truth is not None:
            out[name] = {
                "words": overlap(text, page.truth),
                "4grams": overlap(text, page.truth, 4),
                "s": seconds,
            }
        else:
            out[name] = {"snippets": snippets(text, page), "s": seconds}
    return page.name, out


def summarize(results: list[tuple[str, dict[str, Any]]], names: tuple[str, ...]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name in names:
        rows = [r[name] for _, r in results if name in r]
        if not rows:
            continue
        entry: dict[str, Any] = {"pages": len(rows), "seconds": round(sum(r["s"] for r in rows), 2)}
        full = [r for r in rows if "words" in r]
        if full:
            for key in ("words", "4grams"):
                p, r_, f = (statistics.mean(x[key][i] for x in full) for i in range(3))
                entry[key] = {"precision": round(p, 4), "recall": round(r_, 4), "f1": round(f, 4)}
            entry["pages_f1_below_0.8"] = sum(1 for x in full if x["words"][2] < 0.8)
        snip = [r["snippets"] for r in rows if "snippets" in r]
        if snip:
            tp, fn, fp, _ = (sum(x[i] for x in snip) for i in range(4))
            p, r_ = tp / max(1, tp + fp), tp / max(1, tp + fn)
            entry["snippets"] = {
                "precision": round(p, 4),
                "recall": round(r_, 4),
                "f1": round(2 * p * r_ / (p + r_), 4),
            }
        report[name] = entry
    return report


def run(
    pages: list[Page],
    names: tuple[str, ...] = tuple(METHODS),
    workers: int = 2,
    rows: list[tuple[str, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Score every method on the pages; a summary per method, and per half (even, odd pages).

    ``rows``, when given, receives every page's scores.
    """
    jobs = [(page, names) for page in pages]
    if workers > 1 and len(pages) > 4:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(score_page, jobs, chunksize=4))
    else:
        results = [score_page(job) for job in jobs]
    if rows is not None:
        rows.extend(results)
    report = halves(results, names)
    even = {name for name, _ in results[0::2]}
    types: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for row in results:
        parts = row[0].split("/")
        if len(parts) == 3:  # "wceb2025/article/0001"
            types.setdefault(parts[1], []).append(row)
    if len(types) > 1:
        report["by_type"] = {kind: halves(rows_, names, even) for kind, rows_ in sorted(types.items())}
    return report


def halves(
    results: list[tuple[str, dict[str, Any]]], names: tuple[str, ...], even: set[str] | None = None
) -> dict[str, Any]:
    """The summary of all pages, and of the even- and odd-indexed ones.

    ``even`` names the corpus's even-indexed pages when ``results`` is a part of it (one page type),
    so a part's halves are the corpus's halves.
    """
    report = summarize(results, names)
    if len(results) > 1:
        even = even if even is not None else {name for name, _ in results[0::2]}
        report["even"] = summarize([r for r in results if r[0] in even], names)
        report["odd"] = summarize([r for r in results if r[0] not in even], names)
    return report


def table(report: dict[str, Any]) -> str:
    """The report as one line per corpus, half and method: precision, recall and F1."""
    lines = [f"{'corpus':<26} {'half':<4} {'method':<21} {'P':>6} {'R':>6} {'F1':>6}"]

    def add(label: str, part: dict[str, Any]) -> None:
        for half in ("all", "even", "odd"):
            methods = part if half == "all" else part.get(half, {})
            for name in METHODS:
                entry = methods.get(name)
                if not entry:
                    continue
                score = entry.get("words") or entry.get("snippets")
                lines.append(
                    f"{label:<26} {half:<4} {name:<21} {score['precision']:>6.3f} {score['recall']:>6.3f}"
                    f" {score['f1']:>6.3f}"
                )

    for corpus, part in report.items():
        add(corpus, part)
        for kind, sub in part.get("by_type", {}).items():
            add(f"{corpus}/{kind}", sub)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--corpus", action="append", default=[], metavar="KIND=PATH", help=f"one of {', '.join(LOADERS)}"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="pages per corpus (0: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--pages", type=Path, help="write every page's scores here (JSON lines)")
    args = parser.parse_args(argv)
    rows: list[tuple[str, dict[str, Any]]] = []
    corpora = [c.split("=", 1) for c in args.corpus] or [["smoke", str(SMOKE_PAGES)]]
    report: dict[str, Any] = {}
    for kind, path in corpora:
        if kind not in LOADERS:
            parser.error(f"unknown corpus {kind!r}; use one of {', '.join(LOADERS)}")
        pages = list(LOADERS[kind](Path(path).expanduser()))
        if args.limit:
            pages = pages[: args.limit]
        if not pages:
            parser.error(f"no pages found for {kind} under {path}; is it a checkout of that repository?")
        report[kind] = run(pages, workers=args.workers, rows=rows)
        print(kind, json.dumps(report[kind], indent=2), flush=True)
    print(table(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.pages:
        args.pages.write_text("".join(json.dumps({"page": n, **r}) + "\n" for n, r in rows), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
