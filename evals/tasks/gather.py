"""Gather: many candidate sources, few relevant. Which sources reach the pack, at what cost?

Every source is its own file spec (as when a user names many files or notes). Two or three
hold the facts the question asks for; about a fifth hold the same relation for near-miss
keys; the rest are filler. Scored by source precision and recall (of the pack and of the
answer's citations) and by the tool calls spent.
"""

from __future__ import annotations

from pathlib import Path

from evals.tasks import haystack, keys
from evals.tasks.base import BuildContext, Case, Gate, Needle, Suite, rng_for


class Gather(Suite):
    name = "gather"
    description = "many candidate sources, 2-3 relevant: source precision/recall and tool calls spent"
    example = "forage eval run gather --sizes 32k,128k --strategies select,self --out runs/gather"
    gates = (Gate("select", "source_recall", 0.9), Gate("select", "evidence", 0.9))

    def build(self, size: int, seed: int, dest: Path, ctx: BuildContext) -> Case:
        rng = rng_for(self.name, size, seed)
        kind = rng.choice(keys.KEY_KINDS)
        relation = rng.choice(keys.RELATIONS)
        n_sources = max(8, min(80, size // 1500))
        targets: dict[str, keys.Key] = {}
        wanted = rng.choice([2, 3])
        while len(targets) < wanted:
            k = keys.make_key(kind, rng)
            targets.setdefault(k.text, k)
        target_keys = list(targets.values())
        pool = haystack.pool_for(ctx.haystack, int(size * 4.5), ctx.cache_dir)
        per = max(300, size // n_sources)
        docs = haystack.compose(pool, size, rng, folder="sources", file_tokens=(per * 2 // 3, per * 4 // 3))
        order = list(range(len(docs)))
        rng.shuffle(order)
        holders = order[: len(target_keys)]
        misses = order[len(target_keys) : len(target_keys) + max(1, len(docs) // 5)]
        needles = []
        for key, i in zip(target_keys, holders, strict=True):
            value = keys.make_value(relation.value_kind, rng)
            text = keys.statement(key, relation, value, rng)
            where = haystack.plant([docs[i]], text, rng.random(), rng)
            needles.append(Needle(text=text, value=value, depth=0.0, where=where))
        distractors = []
        for n, i in enumerate(misses):
            other = keys.near_miss(target_keys[n % len(target_keys)], rng)
            if other.text in targets:
                continue
            value = keys.make_value(relation.value_kind, rng)
            haystack.plant([docs[i]], keys.statement(other, relation, value, rng), rng.random(), rng)
            distractors.append(value)
        corpus = haystack.write(docs, dest)
        for needle, depth in zip(needles, haystack.depths(docs, [n.text for n in needles]), strict=True):
            needle.depth = depth
        return Case(
            suite=self.name, size=size, seed=seed, question=keys.multi_question(target_keys, relation, rng),
            answers=[n.value for n in needles], needles=needles, sources=[d.path for d in docs],
            corpus_tokens=corpus, distractors=distractors, relevant=sorted(n.where for n in needles),
            meta={"key_kind": kind, "relation": relation.nouns[0], "sources": len(docs)},
        )  # fmt: skip
