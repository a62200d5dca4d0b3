"""Line breaks for Chinese text on the TV screen.

Kivy breaks lines only at spaces; Chinese has none, so Kivy cuts a long sentence at
whatever character overflows, and a full stop or a closing quote can land alone at the
start of the next line ("……可以取消\n。"). `wrap_cjk` breaks such paragraphs itself,
between characters, by the rules of Chinese typesetting (kinsoku): no line starts with
closing punctuation, none ends with opening punctuation, and a run of digits or Latin
letters ("7", "OK") or a phone number ("010-6501-8899") is not split. No Kivy here: the
screen passes a text measure in.
"""

from __future__ import annotations

from collections.abc import Callable

NO_LINE_START = frozenset("。，、；：？！）」』】》〉”’…—·%.,;:?!)]}")
NO_LINE_END = frozenset("（「『【《〈“‘([{")


def has_cjk(text: str) -> bool:
    """True if `text` holds Chinese characters or full-width punctuation."""
    return any("\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text)


def _joined(left: str, right: str) -> bool:
    """True if a line may not break between `left` and `right`."""
    return (
        right in NO_LINE_START
        or left in NO_LINE_END
        or (left.isascii() and left.isalnum() and right.isascii() and right.isalnum())
        or (left == "-" and right.isdigit())  # a phone number ("010-6501-8899") is one word
        or (left.isdigit() and right == "-")
    )


def wrap_cjk(text: str, width: float, measure: Callable[[str], float]) -> str:
    """`text` with a newline wherever a Chinese paragraph must break to fit `width`.

    `measure(s)` is the drawn width of `s`. Paragraphs without Chinese, and ones that
    fit, are returned as they are (Kivy wraps those at spaces itself).
    """
    out = []
    for paragraph in text.split("\n"):
        if not has_cjk(paragraph) or measure(paragraph) <= width:
            out.append(paragraph)
            continue
        lines: list[str] = []
        line = ""
        for ch in paragraph:
            if not line or measure(line + ch) <= width:
                line += ch
                continue
            start = ch
            # Carry characters that may not be parted from `start` down with it.
            while len(line) > 1 and _joined(line[-1], start[0]):
                start = line[-1] + start
                line = line[:-1]
            lines.append(line.rstrip())
            line = start.lstrip()
        lines.append(line)
        out.append("\n".join(lines))
    return "\n".join(out)
