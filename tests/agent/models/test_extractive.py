from agent.gather.sources import resolve_sources
from agent.graph.prompts import plan_request
from agent.models.base import Message, ToolSpec
from agent.models.extractive import ExtractiveModel, passages
from agent.pack.packing import build_pack
from agent.settings import Settings
from tests.agent.pack.test_packing import _doc
from tools.tokens import estimate_tokens

TOOLS = [ToolSpec(name=n, description="", input_schema={}) for n in ("read_many", "read_file", "read_pdf")]


def test_plans_one_call_per_source_then_follows_continuations(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    sources, failures = resolve_sources(
        [str(tmp_path), str(tmp_path / "missing")], Settings(data_dir=tmp_path)
    )
    assert len(sources) == 1 and "no such file" in failures[0]
    model = ExtractiveModel()
    request = plan_request("q?", sources, failures)
    first = model.generate([Message(role="user", content=request)], TOOLS)
    assert [c.name for c in first.tool_calls] == ["read_many"]
    history = [
        Message(role="user", content=request),
        Message(role="assistant", tool_calls=first.tool_calls),
        Message(
            role="tool",
            name="read_many",
            content="…",
            data={"next": {"paths_or_glob": "x", "offset": 5}, "pdfs": ["/p.pdf"]},
        ),
    ]
    second = model.generate(history, TOOLS)
    assert [(c.name, c.args) for c in second.tool_calls] == [
        ("read_many", {"paths_or_glob": "x", "offset": 5}),
        ("read_pdf", {"path": "/p.pdf"}),
    ]
    third = model.generate([*history, Message(role="assistant", tool_calls=second.tool_calls)], TOOLS)
    assert third.tool_calls == [] and third.text == "DONE"


def test_answers_with_the_best_passage_and_line_citation():
    code = "\n".join(f"line {i}" for i in range(1, 40)) + "\nRETRY_DELAY_SECONDS = 0.5  # retry delay\n"
    docs = [_doc("src/net/client.py", code, start=1), _doc("README.md", "A project about apples.\n")]
    pack = build_pack(docs, "Where is the retry delay configured?", count_tokens=estimate_tokens)
    reply = ExtractiveModel().generate(
        [Message(role="user", content=pack.question_text, cacheable_prefix=pack.prefix)], None
    )
    assert "Extractive answer" in reply.text
    assert "[2] src/net/client.py:" in reply.text and "RETRY_DELAY_SECONDS" in reply.text
    assert not reply.unanswerable


def test_says_when_nothing_matches():
    pack = build_pack(
        [_doc("a.txt", "apples and pears\n")], "quantum chromodynamics?", count_tokens=estimate_tokens
    )
    reply = ExtractiveModel().generate(
        [Message(role="user", content=pack.question_text, cacheable_prefix=pack.prefix)]
    )
    assert reply.unanswerable and "No passage" in reply.text


def test_passages_keep_page_labels():
    from agent.state import Span

    doc = _doc("paper.pdf", "The learning rate was 3e-4.\n\nOther text.", trusted=True, source="pdf")
    doc.span = Span(kind="pages", start=7, end=7)
    pack = build_pack([doc], "learning rate", count_tokens=estimate_tokens)
    found = passages(pack.prefix)
    assert found[0].cite() == "[1] paper.pdf p.7"


def _lookalike_haystack(asked: list[tuple[str, str]], seed: int = 7) -> list:
    """Files of 'First Surname-NN: code XXXX' lines, thousands of names sharing their parts with the asked ones."""
    import random

    rng = random.Random(seed)
    firsts = ["Anna", "Boris", "Chiara", "Dmitri", "Elif", "Farouk", "Greta", "Hamid"]
    surnames = ["Vodaldal", "Kelmarin", "Ostrovel", "Tamburek"]
    asked_names = {name for name, _ in asked}
    lines = []
    while len(lines) < 6000:
        name = f"{rng.choice(firsts)} {rng.choice(surnames)}-{rng.randint(10, 99)}"
        if name not in asked_names:
            lines.append(f"{name}: code {rng.randint(1000, 9999)}")
    for i, (name, code) in enumerate(asked):
        lines.insert(700 + 1400 * i, f"{name}: code {code}")
    per_file = 500
    return [
        _doc(f"people/part{n:02d}.txt", "\n".join(lines[lo : lo + per_file]) + "\n")
        for n, lo in enumerate(range(0, len(lines), per_file))
    ]


def test_quotes_a_passage_for_each_name_the_question_asks_about():
    asked = [("Anna Vodaldal-74", "4821"), ("Boris Kelmarin-21", "7310"), ("Elif Ostrovel-58", "1964"),
             ("Greta Tamburek-33", "5057")]  # fmt: skip
    pack = build_pack(_lookalike_haystack(asked), "", count_tokens=estimate_tokens)
    question = (
        "What are the codes of Anna Vodaldal-74, Boris Kelmarin-21, Elif Ostrovel-58 and Greta Tamburek-33?"
    )
    reply = ExtractiveModel().generate(
        [Message(role="user", content=f"answer this question: {question}", cacheable_prefix=pack.prefix)]
    )
    for name, code in asked:
        assert f"{name}: code {code}" in reply.text, name
    # The asked ones come first, in the question's order, before any other passage.
    quoted = [reply.text.index(f"{name}: code") for name, _ in asked]
    assert quoted == sorted(quoted)


def test_asked_items_are_names_codes_and_quoted_text():
    from agent.models.extractive import asked_items

    assert asked_items("What are the lockers of Marta Kowalski, Tomas Novak and Aiko Silva?") == [
        "Marta Kowalski", "Tomas Novak", "Aiko Silva",
    ]  # fmt: skip
    assert asked_items("Give the owner of ticket 482913 and services/billing/limits.toml.") == [
        "482913", "services/billing/limits.toml",
    ]  # fmt: skip
    assert asked_items("How does `--tb=short` change ReprEntry output?") == ["--tb=short", "ReprEntry"]
    assert asked_items("Where is the retry delay configured?") == []
