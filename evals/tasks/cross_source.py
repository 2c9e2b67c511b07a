"""Cross-source: one answer split over a local file, a web page and a PDF; it needs all three.

The case folder holds `corpus/` (notes, read by the files server), `web/` (HTML pages the
runner serves on loopback and the web server fetches) and `pdf/` (PDFs generated with fpdf2,
found in the folder by the files server and read by the pdf server). About 60% of the
tokens are files, 25% pages and 15% PDF text.
"""

from __future__ import annotations

import html
import random
from pathlib import Path

from evals.tasks import haystack, keys
from evals.tasks.base import SITE, BuildContext, Case, Gate, Needle, Suite, rng_for
from tools.tokens import estimate_tokens

ORDINALS = ("first", "second", "third")
PARTS = (
    "The {ordinal} part of the {noun} for {key} is {value}.",
    "Part {n} of 3 of the {noun} for {key}: {value}.",
    "We split the {noun} for {key} into three pieces; piece number {n} is {value}.",
    "For {key}, the {ordinal} segment of the {noun} reads {value}.",
)
QUESTIONS = (
    "The {noun} for {key} is split into three parts kept in different places. What are all three parts?",
    "What are the three parts of the {noun} for {key}, in order?",
    "Put the {noun} for {key} together: give each of its three parts.",
)
MEDIA = (("corpus", 0.6), ("web", 0.25), ("pdf", 0.15))


class CrossSource(Suite):
    name = "cross-source"
    description = "an answer split over a local file, a web page (loopback) and a PDF; all three needed"
    example = "forage eval run cross-source --sizes 32k --strategies select,full --out runs/xs"
    needs = frozenset({"web", "pdf"})
    gates = (Gate("select", "evidence", 0.9), Gate("full", "evidence", 0.99, over_budget=False))

    def build(self, size: int, seed: int, dest: Path, ctx: BuildContext) -> Case:
        rng = rng_for(self.name, size, seed)
        kind = rng.choice(keys.KEY_KINDS)
        relation = rng.choice(keys.RELATIONS)
        key = keys.make_key(kind, rng)
        values = [keys.make_value("code", rng) for _ in ORDINALS]
        texts = [
            rng.choice(PARTS).format(ordinal=o, n=i + 1, noun=relation.nouns[0], key=key.text, value=v)
            for i, (o, v) in enumerate(zip(ORDINALS, values, strict=True))
        ]
        pool = haystack.pool_for(ctx.haystack, int(size * 4.5), ctx.cache_dir)
        sources: list[str] = []
        needles: list[Needle] = []
        corpus = 0
        for (medium, share), text, value in zip(MEDIA, texts, values, strict=True):
            docs = haystack.compose(
                pool, int(size * share), rng, folder=medium, file_tokens=_file_tokens(medium),
                exts=(".md", ".txt") if medium == "corpus" else (".html",) if medium == "web" else (".pdf",),
            )  # fmt: skip
            depth = rng.random()
            where = haystack.plant(docs, text, depth, rng, alone=medium != "corpus" or None)
            depth = haystack.depths(docs, [text])[0]
            if medium == "corpus":
                corpus += haystack.write(docs, dest)
                sources.append("corpus")
            elif medium == "web":
                corpus += _write_pages(docs, dest)
                sources += [f"{SITE}/{d.path}" for d in docs]
            else:
                corpus += _write_pdfs(docs, dest)
                sources.append("pdf")
            needles.append(Needle(text=text, value=value, depth=depth, where=where))
        question = rng.choice(QUESTIONS).format(noun=relation.nouns[0], key=key.text)
        return Case(
            suite=self.name, size=size, seed=seed, question=question, answers=values, needles=needles,
            sources=sources, corpus_tokens=corpus, meta={"key_kind": kind, "relation": relation.nouns[0]},
        )  # fmt: skip


def _file_tokens(medium: str) -> tuple[int, int]:
    return {"corpus": (1200, 3600), "web": (1500, 3000), "pdf": (2000, 4000)}[medium]


_NAV = '<nav><a href="/">Home</a> | <a href="/docs/">Docs</a> | <a href="/blog/">Blog</a></nav>'


def _write_pages(docs: list[haystack.Doc], dest: Path) -> int:
    """Static documentation pages (nav, article, footer), one per doc."""
    total = 0
    for doc in docs:
        body = "".join(f"<p>{html.escape(' '.join(p.split()))}</p>\n" for p in doc.paras)
        title = html.escape(doc.title)
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<header>{_NAV}</header><main><article><h1>{title}</h1>\n{body}</article></main>"
            "<footer>Generated page for the forage cross-source eval.</footer></body></html>\n"
        )
        path = dest / doc.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
        total += estimate_tokens("\n\n".join(doc.paras))
    return total


def _write_pdfs(docs: list[haystack.Doc], dest: Path) -> int:
    """One PDF per doc, a few paragraphs a page (fpdf2, core Helvetica: Latin-1 text only)."""
    try:
        from fpdf import FPDF
    except ImportError as exc:  # an optional dependency for users; installed by scripts/setup.sh
        raise RuntimeError(
            "the cross-source suite writes PDFs with fpdf2, which is not installed: pip install 'forage[eval]'"
        ) from exc
    total = 0
    for doc in docs:
        pdf = FPDF()
        pdf.set_font("helvetica", size=10)
        pdf.set_title(doc.title)
        per_page = random.Random(doc.path).randint(3, 5)
        for start in range(0, len(doc.paras), per_page):
            pdf.add_page()
            text = "\n\n".join(" ".join(p.split()) for p in doc.paras[start : start + per_page])
            pdf.multi_cell(0, 5, text.encode("latin-1", "replace").decode("latin-1"))
        path = dest / doc.path
        path.parent.mkdir(parents=True, exist_ok=True)
        pdf.output(str(path))
        total += estimate_tokens("\n\n".join(doc.paras))
    return total
