"""Multi-key needle in a haystack with hard distractors: does selection keep every needle?

The corpus is 8x the window: thousands of "The special code for <name> is <value>." lines, four
of which are the needles asked for in one question. Distractors reuse the needles' first and
last names ("near misses"), so neither one word of a name nor the phrasing finds a needle.

Reported per method over all seeds: evidence recall (all four needle lines present in what
would be sent) and the share of corpus tokens sent. Methods, same corpus, same run:
  hybrid      agent.retrieval.select (BM25 + dense, RRF, budget fill, document order)
  truncate    the corpus cut to the budget (what a naive long-context call does)
  dense-top5  the five nearest chunks by embedding only (the usual RAG baseline)

Run: python -m evals.niah --seeds 50   (or --quick for a small smoke run)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agent.chunking import content_hash
from agent.embeddings import Embedder, LocalEmbedder
from agent.retrieval import ChunkIndex, chunk_all, chunk_target, select
from agent.settings import Settings
from agent.state import Document, Span
from tools.tokens import estimate_tokens

FIRST = """Marta Tomas Aiko Bruno Chloe Dmitri Elena Farid Greta Hugo Ines Jonas Kasia Liam Mina Nils Olga Pavel
Quinn Rosa Sven Tariq Uma Viktor Wanda Xavier Yara Zeno Amara Bodhi Celine Dario Eitan Fiona Gideon Hana Ivo Jana
Kofi Lena Mateo Nadia Oren Priya Rafael Sana Theo Ulla Vera Wren""".split()
LAST = """Kowalski Oyelaran Lindqvist Moreau Tanaka Haddad Novak Okafor Petrov Silva Ivanova Brennan Castillo Dubois
Eriksen Fischer Gallo Horvat Iqbal Jansen Kaur Larsen Mendes Nakamura Ortiz Pereira Quist Rahman Schmidt Toivonen
Ueda Varga Weber Xu Yilmaz Zielinski Abbott Bauer Costa Dahl Esposito Ferreira Grant Holm Ito Jovanovic Keller Lund
Marsh Nieminen""".split()


@dataclass
class Case:
    documents: list[Document]
    question: str
    needles: list[str]  # the exact needle lines
    corpus_tokens: int


def make_case(seed: int, window: int, docs: int = 8) -> Case:
    """Build one haystack of ~8x the window with four needles and near-miss distractors."""
    rng = random.Random(seed)
    names = [(f, last) for f in FIRST for last in LAST]
    rng.shuffle(names)
    targets = names[:4]
    taken = set(targets)
    near = [n for n in names[4:] if any(n[0] == t[0] or n[1] == t[1] for t in targets)]
    rest = [n for n in names[4:] if n not in near]

    def code() -> str:
        return f"{rng.randint(100, 999)}-{rng.randint(100, 999)}"

    needles = [f"The special code for {f} {last} is {code()}." for f, last in targets]
    goal = 8 * window
    lines: list[str] = []
    tokens = 0
    while tokens < goal or len(lines) % 200:
        pool = near if rng.random() < 0.3 else rest
        f, last = rng.choice(pool)
        if (f, last) in taken:
            continue
        line = f"The special code for {f} {last} is {code()}."
        lines.append(line)
        if rng.random() < 0.05:
            lines.append("")  # paragraph breaks, as in real notes
        if len(lines) % 200 == 0:  # measure the whole text now and then: per-line estimates drift
            tokens = estimate_tokens("\n".join(lines))
    for needle in needles:
        lines.insert(rng.randrange(len(lines)), needle)
    per = -(-len(lines) // docs)
    documents = []
    for k in range(docs):
        part = lines[k * per : (k + 1) * per]
        text = "\n".join(part) + "\n"
        documents.append(
            Document(
                id=f"niah-{seed}-{k}",
                uri=f"file:///haystack/{seed}/part-{k}.txt",
                text=text,
                hash=content_hash(text),
                span=Span(kind="lines", start=1, end=len(part)),
                tokens=estimate_tokens(text),
            )
        )
    who = ", ".join(f"{f} {last}" for f, last in targets[:3]) + f" and {targets[3][0]} {targets[3][1]}"
    question = f"What are the special codes for {who}?"
    return Case(documents, question, needles, sum(d.tokens for d in documents))


def recall(texts: list[str], needles: list[str]) -> bool:
    """All needles present in what would be sent."""
    sent = "\n".join(texts)
    return all(n in sent for n in needles)


def truncate(case: Case, budget: int) -> tuple[list[str], int]:
    """Keep the corpus from the start until the budget is used."""
    out, used = [], 0
    for d in case.documents:
        if used + d.tokens <= budget:
            out.append(d.text)
            used += d.tokens
            continue
        keep = []
        for line in d.text.splitlines(keepends=True):
            t = estimate_tokens(line)
            if used + t > budget:
                break
            keep.append(line)
            used += t
        out.append("".join(keep))
        break
    return out, used


def dense_top_k(
    case: Case, budget: int, settings: Settings, embedder: Embedder, k: int = 5
) -> tuple[list[str], int]:
    """The usual RAG baseline: the k chunks nearest to the question by embedding only."""
    chunks = chunk_all(case.documents, chunk_target(budget))
    by_id = {c.id: c for c in chunks}
    with ChunkIndex(settings, embedder) as index:
        index.add(chunks)
        top = index.dense(embedder.embed_query(case.question), list(by_id), k)
    texts = [by_id[i].text for i in top]
    return texts, sum(estimate_tokens(t) for t in texts)


def run(seeds: int, window: int, reserve: int, data_dir: Path) -> dict[str, object]:
    settings = Settings(data_dir=data_dir, window=window, reserve=reserve)
    budget = window - reserve
    embedder = LocalEmbedder(data_dir)
    rows: dict[str, list[tuple[bool, float]]] = {"hybrid": [], "truncate": [], "dense-top5": []}
    seconds: list[float] = []
    for seed in range(seeds):
        case = make_case(seed, window)
        started = time.perf_counter()
        sel = select(
            case.documents,
            case.question,
            budget,
            settings=settings,
            count_tokens=estimate_tokens,
            embedder=embedder,
        )
        seconds.append(time.perf_counter() - started)
        rows["hybrid"].append(
            (recall([d.text for d in sel.documents], case.needles), sel.kept_tokens / case.corpus_tokens)
        )
        texts, used = truncate(case, budget)
        rows["truncate"].append((recall(texts, case.needles), used / case.corpus_tokens))
        texts, used = dense_top_k(case, budget, settings, embedder)
        rows["dense-top5"].append((recall(texts, case.needles), used / case.corpus_tokens))
    report: dict[str, object] = {
        "seeds": seeds,
        "window": window,
        "budget": budget,
        "corpus_tokens_mean": int(
            statistics.mean(make_case(s, window).corpus_tokens for s in range(min(seeds, 3)))
        ),
        "select_seconds_median": round(statistics.median(seconds), 3),
    }
    for method, vals in rows.items():
        report[method] = {
            "evidence_recall": round(sum(ok for ok, _ in vals) / len(vals), 3),
            "share_sent_mean": round(statistics.mean(s for _, s in vals), 4),
            "share_sent_max": round(max(s for _, s in vals), 4),
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument(
        "--window", type=int, default=8192, help="model window in tokens; the corpus is 8x this"
    )
    parser.add_argument("--reserve", type=int, default=2048, help="tokens kept free for the answer")
    parser.add_argument("--quick", action="store_true", help="2 seeds, 2k window: a smoke run for tests")
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    args = parser.parse_args(argv)
    seeds, window, reserve = (2, 2048, 512) if args.quick else (args.seeds, args.window, args.reserve)
    with tempfile.TemporaryDirectory(prefix="forage-niah-") as tmp:
        report = run(seeds, window, reserve, Path(tmp))
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    hybrid = report["hybrid"]
    assert isinstance(hybrid, dict)
    ok = hybrid["evidence_recall"] >= 0.95 and hybrid["share_sent_max"] <= 0.25
    print("PASS" if ok else "FAIL", "hybrid: recall >= 0.95 and share sent <= 25%", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
