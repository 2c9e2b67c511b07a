"""Code-aware ranking: tokens, symbols, paths, references, diversity; and the symbol extractor."""

from __future__ import annotations

import textwrap

import numpy as np

from agent.gather.documents import content_hash
from agent.retrieval.chunking import chunk_document
from agent.retrieval.lexicon import code_tokens, split_identifier, word_pairs
from agent.retrieval.ranking import CodeIndex, diversify, fuse, question_symbols
from agent.retrieval.symbols import definitions, outline
from agent.state import Document, Span


def doc(uri: str, text: str) -> Document:
    span = Span(kind="lines", start=1, end=text.count("\n"))
    return Document(id="d-" + uri, uri=uri, text=text, hash=content_hash(text), span=span)


def test_identifiers_are_kept_whole_and_split_into_parts() -> None:
    assert split_identifier("FixtureFunctionMarker") == ["fixture", "function", "marker"]
    assert split_identifier("HTTPServer_v2") == ["http", "server", "v", "2"]
    toks = code_tokens("class FixtureFunctionMarker: the fixtures of it")
    assert toks[:4] == ["class", "fixturefunctionmarker", "fixture", "function"]
    assert "the" not in toks and toks.count("fixture") == 2  # plural folded


def test_question_symbols_are_the_code_looking_names() -> None:
    q = "How does FixtureFunctionMarker.__call__ use `getfixturedefs` and parse_args in the JSON provider?"
    names = question_symbols(q)
    assert names[:2] == ["FixtureFunctionMarker", "__call__"]
    assert "getfixturedefs" in names and "parse_args" in names
    assert "JSON" not in names and "provider" not in names  # plain words are BM25's job


def test_fuse_fuses_ranks() -> None:
    assert list(fuse([(["a", "b", "c"], 1.0), (["c", "a"], 1.0)])) == ["a", "c", "b"]
    assert list(fuse([(["x"], 1.0), ([], 1.0)])) == ["x"]


FILLER = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(40))
MARKER = textwrap.dedent(
    '''\
    class Marker:
        """Decorate a function once."""

        def __call__(self, function):
            if getattr(function, "_done", False):
                raise ValueError("applied twice")
            return register_definition(function)
    '''
)
REGISTRY = "def register_definition(function):\n    '''Store the definition.'''\n    return function\n"


def _corpus() -> tuple[list[Document], CodeIndex]:
    docs = [
        doc("src/app/filler.py", FILLER),
        doc("src/app/marker.py", FILLER[:400] + "\n\n" + MARKER),
        doc("src/app/registry.py", FILLER[400:900] + "\n\n" + REGISTRY),
        doc("src/app/json/provider.py", "def dumps(obj):\n    return str(obj)\n"),
    ]
    chunks = [c for d in docs for c in chunk_document(d, 60, 90)]
    return docs, CodeIndex(chunks, docs)


def test_a_dotted_name_reaches_its_definition_first() -> None:
    _, index = _corpus()
    top = index.chunks[index.by_symbols("What does Marker.__call__ check?")[0]]
    assert top.uri == "src/app/marker.py" and "def __call__" in top.text


def test_path_words_reach_a_file_whose_text_never_says_them() -> None:
    _, index = _corpus()
    ranked = [index.chunks[i].uri for i in index.rank("Where is the JSON provider?")]
    assert ranked[0] == "src/app/json/provider.py"


def test_references_pull_in_the_definitions_a_chunk_calls() -> None:
    _, index = _corpus()
    marker = next(i for i, c in enumerate(index.chunks) if "def __call__" in c.text)
    refs = [index.chunks[i].uri for i in index.references([marker])]
    assert refs == ["src/app/registry.py"]
    ranked = [index.chunks[i].uri for i in index.rank("What does Marker.__call__ raise when applied twice?")]
    assert "src/app/registry.py" in ranked and "src/app/filler.py" not in ranked  # reached only by reference


def test_diversity_lets_a_second_file_in_before_a_files_fourth_chunk() -> None:
    scores = {0: 1.0, 1: 0.99, 2: 0.98, 3: 0.97, 4: 0.9}
    uris = ["a", "a", "a", "a", "b"]
    assert diversify(scores, uris).index(4) < diversify(scores, uris).index(3)


def test_python_definitions_have_qualnames_signatures_and_docstrings() -> None:
    d = doc("m.py", "import os\nLIMIT = 3\n\n" + MARKER)
    defs = definitions(d)
    assert [(x.qualname, x.kind) for x in defs] == [
        ("LIMIT", "constant"),
        ("Marker", "class"),
        ("Marker.__call__", "method"),
    ]
    assert defs[1].doc == "Decorate a function once." and defs[2].signature == "def __call__(self, function)"
    text = outline(d)
    assert (
        "    4: class Marker  # Decorate a function once." in text and "def __call__(self, function)" in text
    )
    assert "raise ValueError" not in text  # bodies are left out


def test_other_languages_and_broken_python_fall_back_to_declaration_patterns() -> None:
    ts = "export async function loadUser(id: string) {\n  return 1\n}\ninterface User {\n  id: string\n}\n"
    assert [(x.name, x.line) for x in definitions(doc("u.ts", ts))] == [("loadUser", 1), ("User", 4)]
    broken = "def ok():\n    pass\nprint 'python 2'\nclass Old:\n    pass\n"
    assert [x.name for x in definitions(doc("old.py", broken))] == ["ok", "Old"]
    assert [x.name for x in definitions(doc("g.md", "# Guide\ntext\n## Install\n"))] == ["Guide", "Install"]


C_SOURCE = """static PyObject *
fast_scalar_power(PyObject *o1, PyObject *o2,
                  int inplace, PyObject **value)
{
    if (PyArray_Check(o1)) {
        convert(o1);
    }
    else if (inplace) {
    }
    return NULL;
}

int Shape::area(int scale) const {
    return scale;
}
"""
JAVA_SOURCE = """public class Greeter extends Base {
    @Override
    public static <T> List<T> greet(String[] names) throws IOException {
        synchronized (this) {
            Runnable task = new Runnable() {
            };
        }
    }
    private Map<String, Integer> counts() {}
}
"""


def test_keyword_less_functions_of_c_like_languages_are_definitions() -> None:
    found = [(x.name, x.qualname, x.line) for x in definitions(doc("src/number.c", C_SOURCE))]
    assert found == [("fast_scalar_power", "fast_scalar_power", 2), ("area", "Shape.area", 13)]
    java = [(x.qualname, x.kind) for x in definitions(doc("Greeter.java", JAVA_SOURCE), fast=True)]
    assert java == [("Greeter", "class"), ("Greeter.greet", "method"), ("Greeter.counts", "method")]
    ts = "class Store {\n  async fetchUser(id: string): Promise<User> {\n    items.forEach((i) => {\n    });\n  }\n}\n"
    assert [x.qualname for x in definitions(doc("store.ts", ts))] == ["Store", "Store.fetchUser"]
    # in Python, only def and class declare; a method may be named like a control word
    py = "def match(x):\n    pass\nclass when:\n    pass\n"
    assert [x.name for x in definitions(doc("m.py", py), fast=True)] == ["match", "when"]


def test_a_c_function_named_in_the_question_reaches_its_definition() -> None:
    docs = [
        doc("src/number.c", C_SOURCE),
        doc("src/calls.c", "void run(void) {\n    fast_scalar_power(a, b, 0, &v);\n}\n"),
    ]
    docs += [
        doc(f"src/filler_{i}.c", f"int filler_{i}(int x) {{\n    return x + {i};\n}}\n") for i in range(20)
    ]
    index = CodeIndex([c for d in docs for c in chunk_document(d, 60, 90)], docs)
    assert (
        index.chunks[index.by_symbols("Why does fast_scalar_power square any dtype?")[0]].uri
        == "src/number.c"
    )


def test_a_full_name_beats_chunks_that_share_only_its_first_or_last_name() -> None:
    assert word_pairs("The code for Marta Kowalski is 4417.") == ["marta_kowalski"]  # no pair across 'for'
    lines = []
    for i in range(400):
        first, last = ("Marta", f"Other{i}") if i % 2 else (f"Someone{i}", "Kowalski")
        lines.append(f"The locker of {first} {last} holds item {i}.\n")
    lines.insert(250, "The locker of Marta Kowalski holds item 9999.\n")
    d = doc("notes.txt", "".join(lines))
    chunks = chunk_document(d, 60, 90)
    index = CodeIndex(chunks, [d])
    best = index.chunks[index.rank("What does the locker of Marta Kowalski hold?")[0]]
    assert "9999" in best.text


def test_a_file_with_several_matching_chunks_outranks_one_lucky_chunk() -> None:
    scores = {0: 1.0, 1: 0.9, 2: 0.85, 3: 0.8}  # file b: one chunk; file a: three that each match
    uris = ["b", "a", "a", "a"]
    ranked = diversify(scores, uris)
    assert [uris[i] for i in ranked][:2] == ["a", "b"] and ranked[0] == 1  # a's best chunk leads
    assert diversify({0: 1.0, 1: 0.5}, ["b", "a"]) == [0, 1]  # one weak chunk does not


def test_a_definition_several_of_the_best_chunks_use_outranks_one_used_once() -> None:
    docs = [
        doc("src/core.py", "def shared_helper(x):\n    return x\n"),
        doc("src/other.py", "def lone_helper(x):\n    return x\n"),
        *(doc(f"src/user{i}.py", f"def user_{i}(x):\n    return shared_helper(x) + {i}\n") for i in range(3)),
        doc("src/user9.py", "def user_9(x):\n    return lone_helper(x)\n"),
    ]
    chunks = [c for d in docs for c in chunk_document(d, 60, 90)]
    index = CodeIndex(chunks, docs)
    users = sorted((i for i, c in enumerate(index.chunks) if c.uri.startswith("src/user")), reverse=True)
    assert index.chunks[users[0]].uri == "src/user9.py"  # the best source uses the lone helper
    refs = [index.chunks[i].uri for i in index.references(users, weights=[1.5, 1.0, 1.0, 1.0])]
    assert refs == ["src/core.py", "src/other.py"]  # used by three (weight 3) before by one (1.5)


# Words repeated within and across texts, plurals, CamelCase and snake_case, stopwords, one-letter
# words, pairs that spell alike ("foo_bar baz" and "foo bar_baz"), non-ASCII text (the Kelvin sign
# lower-cases to an ASCII k and joins a word), an empty text and texts of one path.
LEXICAL_TEXTS = [
    "def parse_args(argv):\n    return ParseArgs(argv).parse() or parse_args(argv[1:])\n",
    "class FixtureFunctionMarker:\n    fixtures = [fixture for fixture in the_fixtures]\n",
    "foo_bar baz foo_bar baz and the a x y\n",
    "foo bar_baz: FOO BAR_BAZ, plural tests of test and classes of class\n",
    "",
    "Temperature in \u212aelvin: 300\u212a and na\u00efve caf\u00e9 foo_bar \u0130stanbul\n",
    "HTTPServer_v2 serves HTTPServer requests; json provider dumps json\n",
    "parse_args parse_args parse_args\n",
]
LEXICAL_PATHS = ["src/app/cli.py", "src/app/json/provider.py", "docs/Read Me.md"]
LEXICAL_PATH_OF = [0, 0, 1, 1, 1, 2, 1, 0]


def _reference_bm25(docs: list[list[str]], query: list[str], k1: float = 1.5, b: float = 0.75) -> list[float]:
    """Okapi BM25 written out from its definition (Lucene's idf), one document at a time."""
    import math
    from collections import Counter

    n = len(docs)
    avg = sum(map(len, docs)) / n if n and any(docs) else 1.0
    df = Counter(t for d in docs for t in set(d))
    out = []
    for d in docs:
        tf = Counter(d)
        s = 0.0
        for t in dict.fromkeys(query):
            if tf[t]:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                s += idf * tf[t] * (k1 + 1) / (tf[t] + k1 * (1 - b + b * len(d) / avg))
        out.append(s)
    return out


def _reference_float32(
    docs: list[list[str]], query: list[str], k1: float = 1.5, b: float = 0.75
) -> np.ndarray:
    """The same sums in BM25's float32 arithmetic, from counts taken here: equal to the bit when
    the index holds the same term frequencies, document frequencies and lengths."""
    import math
    from collections import Counter

    lens = np.array([len(d) for d in docs], dtype=np.int32)
    avg = float(lens.mean()) if len(lens) and lens.any() else 1.0
    norm = (k1 * (1 - b + b * lens / avg)).astype(np.float32)
    counts = [Counter(d) for d in docs]
    out = np.zeros(len(docs), dtype=np.float32)
    for t in dict.fromkeys(query):
        idx = np.array([i for i, c in enumerate(counts) if c[t]], dtype=np.int32)
        if not len(idx):
            continue
        tf = np.array([counts[i][t] for i in idx], dtype=np.float32)
        idf = math.log(1 + (len(docs) - len(idx) + 0.5) / (len(idx) + 0.5))
        out[idx] += idf * tf * (k1 + 1) / (tf + norm[idx])
    return out


def test_bulk_built_indexes_score_as_bm25_over_each_texts_tokens() -> None:
    from agent.retrieval.bm25 import BM25
    from agent.retrieval.lexicon import index_corpus, path_words

    path_tokens = [code_tokens(path_words(p)) for p in LEXICAL_PATHS]
    word_docs = [path_tokens[f] + code_tokens(t) for t, f in zip(LEXICAL_TEXTS, LEXICAL_PATH_OF, strict=True)]
    pair_docs = [word_pairs(t) for t in LEXICAL_TEXTS]
    assert "foo_bar_baz" in pair_docs[2] and "foo_bar_baz" in pair_docs[3]  # spelt alike: one term
    assert any("kelvin" in p for p in pair_docs[5])  # the Kelvin sign joined its word
    for batch in (1, 3, 1000):  # texts tokenized one, three or all at a time
        built = index_corpus(
            LEXICAL_TEXTS, LEXICAL_PATHS, np.array(LEXICAL_PATH_OF, dtype=np.int32), batch=batch
        )
        for index, docs in zip(built, (word_docs, path_tokens, pair_docs), strict=True):
            assert index.n == len(docs)
            vocabulary = sorted({t for d in docs for t in d})
            assert vocabulary
            for query in [*([t] for t in vocabulary), ["absent"], vocabulary[::3], vocabulary]:
                scores = index.scores(query)
                assert np.allclose(scores, _reference_bm25(docs, query), rtol=1e-5, atol=1e-7), (batch, query)
                assert np.array_equal(scores, _reference_float32(docs, query)), (batch, query)
                assert np.array_equal(scores, BM25(docs).scores(query)), (batch, query)  # token lists
            assert all(index.df(t) == sum(t in d for d in docs) for t in vocabulary)


def test_definition_names_match_the_definitions_of_each_file_alone() -> None:
    from agent.retrieval import symbols

    # Files that end inside a declaration, so that matching them joined could run into the next.
    texts = {
        "a.go": "package a\n\nfunc (s *Server) Serve() {}\nfunc (",
        "b.go": "x Thing) Method() {}\n",
        "c.ts": "export class Widget {\n  render() {}\n}\nexport async function",
        "d.ts": "load;\n\tfunction inner() {}\n",
        "e.rs": "pub(crate) fn parse() {}\nimpl\n",
        "f.rs": "Parser {\n    fn next(&mut self) {}\n}\n",
        "g.py": "class Outer:\n    def method(self):\n        def inner(): pass\nclass",
        "h.py": "  Late: pass\n\x00)def odd(): pass\n",
        "notes.md": "# Title\n\ndef not_code(): pass\n",
        "i.py": "",
    }
    docs = [doc(uri, text) for uri, text in texts.items()]
    want = [
        (i, d.name, d.qualname, d.line)
        for i, document in enumerate(docs)
        for d in definitions(document, fast=True)
        if d.kind != "heading"
    ]
    names = {name for _, name, _, _ in want}
    assert {"Serve", "Widget", "parse", "method", "inner"} <= names
    assert not names & {
        "load",
        "Method",
        "Parser",
        "Late",
        "not_code",
    }  # no file's declaration ends in the next
    assert list(symbols.definition_names(docs)) == want
