"""Chinese text breaks where a reader expects: never a full stop alone at a line's start."""

from __future__ import annotations

from tvbox.ui.linebreak import has_cjk, wrap_cjk


def width(text: str) -> float:
    """One unit per character (a monospace stand-in for the font's measure)."""
    return float(len(text))


def test_a_full_stop_never_starts_a_line_it_takes_a_character_along() -> None:
    # The SOS countdown is 23 characters; at 1080p 22 fit a line, and Kivy alone left
    # "。" by itself on the second.
    body = "7秒后呼叫求助。按返回键或说“不用”可以取消。"
    wrapped = wrap_cjk(body, 22, width)
    assert wrapped == "7秒后呼叫求助。按返回键或说“不用”可以取\n消。"
    assert all(width(line) <= 22 for line in wrapped.split("\n"))


def test_quotes_stay_with_their_words_and_numbers_are_not_split() -> None:
    # An opening quote goes down with its word, a closing one takes the word's last character.
    assert wrap_cjk("请说“不用”", 3, width) == "请说\n“不\n用”"
    assert wrap_cjk("还有12分钟", 3, width) == "还有\n12分\n钟"


def test_text_that_fits_or_has_no_chinese_is_left_to_kivy() -> None:
    assert wrap_cjk("好的。", 10, width) == "好的。"
    english = "Calling for help in 7 seconds. Press Back or say no to cancel."
    assert wrap_cjk(english, 10, width) == english
    assert wrap_cjk("第一行\n第二行很长很长", 4, width) == "第一行\n第二行很\n长很长"
    assert has_cjk("取消。") and not has_cjk("Cancel.")


def test_a_phone_number_is_never_split() -> None:
    wrapped = wrap_cjk("请打电话：010-6501-8899。", 16, width)
    assert wrapped == "请打电话：\n010-6501-8899。"
