"""Common words (RULER's CWE): which ten words occur most often in one long numbered list?

Aggregation over the whole corpus: every item is evidence, so a pack that holds a sample of
the list sees noisy counts. The ten common words occur twice as often as each of the others,
a gap that a full view resolves exactly and a partial view blurs. Selection is expected to
struggle here; the report shows by how much.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from evals.tasks.base import BuildContext, Case, Gate, Suite, rng_for
from tools.tokens import estimate_tokens

COMMON = 10
COMMON_FREQ, RARE_FREQ = 8, 4
_ONSETS = "b c d f g h j k l m n p r s t v w z br dr gr kr pl st tr sk".split()
_VOWELS = "a e i o u ai ea ou".split()
QUESTIONS = (
    "The documents hold one long numbered list of words, split over several files. Which ten words "
    "occur most often in that list?",
    "Across all parts of the word list, what are the 10 most frequent words?",
    "Count the words in the numbered word list. Which ten appear the most times?",
)


def pseudo_words(n: int, rng: random.Random) -> list[str]:
    """n distinct pronounceable non-words (3 syllables): nothing in them is anyone's text."""
    out: dict[str, None] = {}
    while len(out) < n:
        out["".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(3))] = None
    return list(out)


def list_items(text: str) -> list[str]:
    """The words of numbered list items ("12. word") in a text, in order."""
    out = []
    for line in text.splitlines():
        head, _, word = line.strip().partition(". ")
        if head.isdigit() and word and word.isalpha():
            out.append(word.lower())
    return out


def top_words(items: list[str], n: int = COMMON) -> list[str]:
    """The n most frequent words; ties broken alphabetically, so the result is deterministic."""
    counts = Counter(items)
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


class CommonWords(Suite):
    name = "common-words"
    description = "aggregation: the ten most frequent words of a long numbered list (retrieval struggles)"
    example = "forage eval run common-words --strategies full,select --sizes 8k,32k --out runs/cw"
    gates = (Gate("full", "evidence", 0.99, over_budget=False),)

    def build(self, size: int, seed: int, dest: Path, ctx: BuildContext) -> Case:
        rng = rng_for(self.name, size, seed)
        sample = pseudo_words(50, random.Random(seed))
        lines = "".join(f"{size // 4 + i}. {w}\n" for i, w in enumerate(sample))
        items_wanted = int(size / (estimate_tokens(lines) / len(sample)))
        rare = max(20, (items_wanted - COMMON * COMMON_FREQ) // RARE_FREQ)
        vocab = pseudo_words(COMMON + rare, rng)
        common = vocab[:COMMON]
        items = [w for w in common for _ in range(COMMON_FREQ)]
        items += [w for w in vocab[COMMON:] for _ in range(RARE_FREQ)]
        rng.shuffle(items)
        per_file = rng.randint(400, 900)
        corpus = 0
        number = 1
        for part, start in enumerate(range(0, len(items), per_file)):
            chunk = items[start : start + per_file]
            lines = [f"Word list, part {part + 1}", ""]
            for word in chunk:
                lines.append(f"{number}. {word}")
                number += 1
            text = "\n".join(lines) + "\n"
            path = dest / "corpus" / f"{part:03d}-words.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            corpus += estimate_tokens(text)
        assert top_words(items) == sorted(common), "the common words must be the true top ten"
        return Case(
            suite=self.name, size=size, seed=seed, question=rng.choice(QUESTIONS), answers=sorted(common),
            needles=[], sources=["corpus"], corpus_tokens=corpus, kind="aggregate",
            meta={"items": len(items), "common_freq": COMMON_FREQ, "rare_freq": RARE_FREQ},
        )  # fmt: skip
