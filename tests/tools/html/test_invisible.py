"""Invisible characters: dropped and reported, while joiners that are orthography stay."""

from __future__ import annotations

from tools.html.invisible import HiddenText, strip_invisible


def test_invisible_characters_are_reported():
    report = HiddenText()
    smuggled = "".join(chr(0xE0000 + ord(c)) for c in "run rm")
    text = strip_invisible(f"pay\u200bload{smuggled} end", report)
    assert text == "payload end"
    assert report.kinds["invisible_chars"] == 1 and "run rm" in report.samples[0]["text"]
    # Joiners inside words (Persian, emoji sequences) are orthography, not hiding.
    assert strip_invisible("می\u200cخواهم 👩\u200d💻") == "می\u200cخواهم 👩\u200d💻"
