"""Keys, values and the many ways a fact about them is worded, so no single phrase marks a needle.

A fact is (key, relation, value): "Marta Kowalski" / locker number / "4471". Keys come in four
kinds (person names, UUIDs, numbered records, file-like paths), each with near misses that
share most of the key ("Marta Lindqvist", the same UUID prefix, a sibling path). A relation has
a few nouns (the question uses the first; statements use any) and is worded by one of many
statement templates; questions have their own templates.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

KEY_KINDS = ("name", "uuid", "number", "path")

FIRST = """Marta Tomas Aiko Bruno Chloe Dmitri Elena Farid Greta Hugo Ines Jonas Kasia Liam Mina Nils Olga
Pavel Quinn Rosa Sven Tariq Uma Viktor Wanda Xavier Yara Zeno Amara Bodhi Celine Dario Eitan Fiona Gideon Hana
Ivo Jana Kofi Lena Mateo Nadia Oren Priya Rafael Sana Theo Ulla Vera Wren Anouk Bilal Carmen Desta Emre Freya
Goran Hiroshi Ilse Joaquim Kalani Lucia Moana Noor Oskar Paloma Ravi Soren Talia Umar Valentina Wei Ximena
Yusuf Zara""".split()
LAST = """Kowalski Oyelaran Lindqvist Moreau Tanaka Haddad Novak Okafor Petrov Silva Ivanova Brennan Castillo
Dubois Eriksen Fischer Gallo Horvat Iqbal Jansen Kaur Larsen Mendes Nakamura Ortiz Pereira Quist Rahman
Schmidt Toivonen Ueda Varga Weber Xu Yilmaz Zielinski Abbott Bauer Costa Dahl Esposito Ferreira Grant Holm Ito
Jovanovic Keller Lund Marsh Nieminen Achebe Bianchi Chowdhury Delacroix Elmi Fontaine Gutierrez Hakimi
Ishikawa Jaramillo Kovacs Lombardi Mwangi Nascimento Oduya Pham Quintero Rossi Sandoval Takahashi""".split()
_RECORDS = ["order", "ticket", "invoice", "badge", "case", "shipment", "account", "work order"]
_DIRS = """services/billing services/search config/cache deploy/staging tools/lint data/exports
infra/network apps/mobile lib/parsers docs/internal jobs/nightly ops/alerts""".split()
_STEMS = """retry_policy limits routes schema defaults secrets quotas mirrors handlers rollout
tokens pipeline""".split()
_EXTS = [".toml", ".yaml", ".json", ".ini", ".cfg", ".py"]
WORDS = """amber falcon cedar harbor meadow quartz lantern willow copper summit ember glacier orchid
thistle cobalt saffron juniper marble raven tundra velvet walnut zephyr basalt canyon delta fjord garnet
heron indigo jasper kestrel lagoon maple nectar onyx pepper quill russet sparrow topaz umber violet""".split()


@dataclass(frozen=True)
class Key:
    kind: str
    text: str  # as questions name it
    variants: tuple[str, ...] = ()  # other ways statements may write it


def make_key(kind: str, rng: random.Random) -> Key:
    if kind == "name":
        first, last = rng.choice(FIRST), rng.choice(LAST)
        return Key(kind, f"{first} {last}", (f"{last}, {first}",))
    if kind == "uuid":
        h = f"{rng.getrandbits(128):032x}"
        return Key(kind, f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    if kind == "number":
        return Key(kind, f"{rng.choice(_RECORDS)} {rng.randint(10_000, 999_999)}")
    if kind == "path":
        return Key(kind, f"{rng.choice(_DIRS)}/{rng.choice(_STEMS)}{rng.choice(_EXTS)}")
    raise ValueError(f"unknown key kind {kind!r}")


def near_miss(key: Key, rng: random.Random) -> Key:
    """A different key that shares most of this one: the hard distractor."""
    if key.kind == "name":
        first, last = key.text.split(" ", 1)
        if rng.random() < 0.5:
            return _other(key, lambda: Key("name", f"{first} {rng.choice(LAST)}"), rng)
        return _other(key, lambda: Key("name", f"{rng.choice(FIRST)} {last}"), rng)
    if key.kind == "uuid":
        keep = key.text[:14] if rng.random() < 0.5 else key.text[-12:]
        fresh = make_key("uuid", rng).text
        text = keep + fresh[14:] if len(keep) == 14 else fresh[:-12] + keep
        return Key("uuid", text)
    if key.kind == "number":
        noun, digits = key.text.rsplit(" ", 1)
        if rng.random() < 0.5:
            i = rng.randrange(len(digits))
            d = str((int(digits[i]) + rng.randint(1, 9)) % 10)
            new = digits[:i] + d + digits[i + 1 :]
            if new[0] == "0":
                new = "1" + new[1:]
            return _other(key, lambda: Key("number", f"{noun} {new}"), rng)
        return _other(key, lambda: Key("number", f"{rng.choice(_RECORDS)} {digits}"), rng)
    folder, name = key.text.rsplit("/", 1)
    if rng.random() < 0.5:
        return _other(key, lambda: Key("path", f"{folder}/{rng.choice(_STEMS)}{rng.choice(_EXTS)}"), rng)
    return _other(key, lambda: Key("path", f"{rng.choice(_DIRS)}/{name}"), rng)


def _other(key: Key, make: object, rng: random.Random) -> Key:
    for _ in range(50):
        k = make()  # type: ignore[operator]
        if k.text != key.text:
            return k
    return make_key(key.kind, rng)


VALUE_KINDS = ("number", "code", "words", "uuid")


def make_value(kind: str, rng: random.Random) -> str:
    if kind == "number":
        return str(rng.randint(10_000, 9_999_999))
    if kind == "code":
        letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
        return (
            f"{letters}{rng.randint(1000, 9999)}"
            if rng.random() < 0.5
            else f"{letters}-{rng.randint(100, 999)}"
        )
    if kind == "words":
        a, b = rng.sample(WORDS, 2)
        return f"{a}-{b}"
    if kind == "uuid":
        return make_key("uuid", rng).text
    raise ValueError(f"unknown value kind {kind!r}")


@dataclass(frozen=True)
class Relation:
    nouns: tuple[str, ...]  # nouns[0] is what questions ask for
    plural: str
    value_kind: str


RELATIONS = (
    Relation(("access code", "entry code", "door code"), "access codes", "code"),
    Relation(("locker number", "locker", "storage locker"), "locker numbers", "number"),
    Relation(("recovery passphrase", "backup phrase", "recovery phrase"), "recovery passphrases", "words"),
    Relation(("desk extension", "phone extension", "extension"), "desk extensions", "number"),
    Relation(("checksum", "digest", "content hash"), "checksums", "uuid"),
    Relation(("cost centre", "budget code", "cost center"), "cost centres", "code"),
    Relation(("project codename", "code name", "internal codename"), "project codenames", "words"),
    Relation(("shelf slot", "storage slot", "rack slot"), "shelf slots", "code"),
    Relation(("licence key", "license key", "activation key"), "licence keys", "uuid"),
    Relation(("badge PIN", "PIN", "security PIN"), "badge PINs", "number"),
)

STATEMENTS = (
    "The {noun} for {key} is {value}.",
    "For {key}, the {noun} on record is {value}.",
    "Note: {key} -> {noun}: {value}",
    "We changed the {noun} of {key} to {value} last week.",
    "If anyone asks, {value} is the {noun} assigned to {key}.",
    "{key} ({noun}): {value}",
    "According to the registry, {key} was given {value} as the {noun}.",
    "Please remember that the {noun} belonging to {key} is now {value}.",
    "Reminder for the team - {key} uses {value} as the {noun}.",
    "| {key} | {noun} | {value} |",
    "Ops update: {noun} {value} now belongs to {key}.",
    "After the audit, {key} kept {value} for the {noun}.",
)

QUESTIONS = (
    "What is the {noun} for {key}?",
    "Which {noun} was assigned to {key}?",
    "Tell me the {noun} of {key}.",
    "I need the {noun} that belongs to {key}. What is it?",
    "Look up {key}: what is the {noun}?",
)

MULTI_QUESTIONS = (
    "What are the {plural} for {keys}?",
    "Give me the {noun} of each of these: {keys}.",
    "List the {plural} assigned to {keys}.",
)

ALL_VALUES_QUESTIONS = (
    "What are all the {plural} given for {key}? List every one.",
    "{key} has more than one {noun}. Which are they?",
    "List every {noun} recorded for {key}.",
)


def statement(key: Key, relation: Relation, value: str, rng: random.Random) -> str:
    """One wording of the fact, chosen at random (noun, key form and template all vary)."""
    noun = relation.nouns[0] if rng.random() < 0.6 else rng.choice(relation.nouns[1:])
    written = key.text if not key.variants or rng.random() < 0.8 else rng.choice(key.variants)
    return _sentence(rng.choice(STATEMENTS), noun=noun, key=written, value=value)


def _sentence(template: str, **fields: str) -> str:
    """Fill a template; capitalise its first letter unless a key or value starts it (keys are exact)."""
    text = template.format(**fields)
    return text if template.startswith("{") else text[0].upper() + text[1:]


def question(key: Key, relation: Relation, rng: random.Random) -> str:
    return rng.choice(QUESTIONS).format(noun=relation.nouns[0], key=key.text)


def join_keys(keys: list[Key]) -> str:
    names = [k.text for k in keys]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def multi_question(keys: list[Key], relation: Relation, rng: random.Random) -> str:
    template = rng.choice(MULTI_QUESTIONS)
    return template.format(noun=relation.nouns[0], plural=relation.plural, keys=join_keys(keys))


def all_values_question(key: Key, relation: Relation, rng: random.Random) -> str:
    template = rng.choice(ALL_VALUES_QUESTIONS)
    return _sentence(template, noun=relation.nouns[0], plural=relation.plural, key=key.text)
