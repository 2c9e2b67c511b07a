"""RULER-style needle-in-a-haystack suites: single, multi-key, multi-value and multi-query.

Each case draws its key kind (names, UUIDs, numbered records, paths), its relation ("locker
number", "recovery passphrase", ...) and every needle's wording at random, so neither a phrase
nor a template marks the needles. Multi-key adds hard distractors: the same relation stated
for near-miss keys (same first name, same UUID prefix, a sibling path).
"""

from __future__ import annotations

import random
from pathlib import Path

from evals.tasks import haystack, keys
from evals.tasks.base import BuildContext, Case, Gate, Needle, Suite, rng_for


class NiahSuite(Suite):
    """One needle family: how many keys are asked about, values per key, distractors per token."""

    queries = 1
    values = 1
    distractors_per_ktok = 0.0
    gates = (Gate("select", "evidence", 0.9), Gate("select", "correct", 0.6))

    def build(self, size: int, seed: int, dest: Path, ctx: BuildContext) -> Case:
        rng = rng_for(self.name, size, seed)
        kind = rng.choice(keys.KEY_KINDS)
        relation = rng.choice(keys.RELATIONS)
        targets = _distinct_keys(kind, self.queries, rng)
        facts: list[tuple[keys.Key, str]] = []
        for key in targets:
            for _ in range(self.values):
                facts.append((key, keys.make_value(relation.value_kind, rng)))
        texts = [keys.statement(key, relation, value, rng) for key, value in facts]
        distractors: list[tuple[keys.Key, str]] = []
        taken = {k.text for k in targets}
        for i in range(round(self.distractors_per_ktok * size / 1000)):
            base = targets[i % len(targets)]
            other = keys.near_miss(base, rng) if rng.random() < 0.6 else keys.make_key(kind, rng)
            if other.text in taken:
                continue
            distractors.append((other, keys.make_value(relation.value_kind, rng)))
        pool = haystack.pool_for(ctx.haystack, int(size * 4.5), ctx.cache_dir)
        docs = haystack.compose(pool, size, rng)
        for key, value in distractors:
            haystack.plant(docs, keys.statement(key, relation, value, rng), rng.random(), rng)
        for text in texts:
            haystack.plant(docs, text, rng.random(), rng)
        corpus = haystack.write(docs, dest)
        where = {t: _where(docs, t) for t in texts}
        depth = haystack.depths(docs, texts)
        needles = [
            Needle(text=t, value=v, depth=d, where=where[t])
            for t, (_, v), d in zip(texts, facts, depth, strict=True)
        ]
        if self.queries > 1:
            question = keys.multi_question(targets, relation, rng)
        elif self.values > 1:
            question = keys.all_values_question(targets[0], relation, rng)
        else:
            question = keys.question(targets[0], relation, rng)
        return Case(
            suite=self.name, size=size, seed=seed, question=question, answers=[v for _, v in facts],
            needles=needles, sources=["corpus"], corpus_tokens=corpus,
            distractors=[v for _, v in distractors],
            meta={"key_kind": kind, "relation": relation.nouns[0], "distractor_needles": len(distractors)},
        )  # fmt: skip


def _distinct_keys(kind: str, n: int, rng: random.Random) -> list[keys.Key]:
    out: dict[str, keys.Key] = {}
    while len(out) < n:
        k = keys.make_key(kind, rng)
        out.setdefault(k.text, k)
    return list(out.values())


def _where(docs: list[haystack.Doc], text: str) -> str:
    return next(d.path for d in docs if any(text in p for p in d.paras))


class NiahSingle(NiahSuite):
    name = "niah-single"
    description = "one fact in a long haystack; the question asks for its value"
    example = "forage eval run niah-single --sizes 32k,128k --window 16k --seeds 5 --out runs/single"


class NiahMultiKey(NiahSuite):
    name = "niah-multikey"
    description = "one fact among many near-miss facts (same first name, UUID prefix, sibling path)"
    example = "forage eval run niah-multikey --strategies select,topk --sizes 128k --out runs/mk"
    distractors_per_ktok = 1.0


class NiahMultiValue(NiahSuite):
    name = "niah-multivalue"
    description = "one key with four values spread over the corpus; the answer needs all four"
    example = "forage eval run niah-multivalue --sizes 32k --seeds 10 --out runs/mv"
    values = 4


class NiahMultiQuery(NiahSuite):
    name = "niah-multiquery"
    description = "four keys asked about in one question; the answer needs every value"
    example = "forage eval run niah-multiquery --strategies select,self --out runs/mq"
    queries = 4
