import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyoka.scale import DEFAULT_SCALE, RatingScale
from hyoka.text import circled, clean_text, normalize_code, safe_filename, split_departments


def test_default_scale_is_the_seed() -> None:
    assert DEFAULT_SCALE.codes == ["A", "B", "C", "D"]
    assert DEFAULT_SCALE.get("A").description == "ほぼ施策内容を達成した。"  # type: ignore[union-attr]
    assert DEFAULT_SCALE.get("D").description == "未実施"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "code"),
    [("Ａ", "A"), (" b ", "B"), ("c\n", "C"), ("E", None), ("A+", None), ("良", None), (None, None)],
)
def test_rating_normalisation(raw: object, code: str | None) -> None:
    assert DEFAULT_SCALE.normalize(raw) == code


def test_direction_follows_scale_order_not_letters() -> None:
    s = RatingScale.from_config({"levels": [{"code": "S"}, {"code": "A"}, {"code": "B"}, {"code": "C"}]})
    assert s.direction("A", "S") == "up"
    assert s.direction("S", "A") == "down"
    assert s.direction("B", "B") == "same"
    numbers = RatingScale.from_config(
        {"levels": [{"code": "5"}, {"code": "4"}, {"code": "3"}, {"code": "2"}, {"code": "1"}]}
    )
    assert numbers.direction("2", "5") == "up"
    assert numbers.steps("2", "5") == 3
    assert numbers.normalize(4.0) == "4"


def test_scale_config_errors() -> None:
    with pytest.raises(ValueError):
        RatingScale.from_config({"levels": [{"code": "A"}]})
    with pytest.raises(ValueError):
        RatingScale.from_config({"levels": [{"code": "A"}, {"code": "Ａ"}]})


def test_clean_text_keeps_narrative_verbatim() -> None:
    assert clean_text("①１２件㈱") == "①１２件㈱"
    assert clean_text("a\r\nb\rc\x0bd") == "a\nb\nc\nd"
    assert clean_text("x\x00y\x1f\ufffez") == "xyz"
    assert clean_text("line  \nnext　") == "line\nnext"
    assert clean_text("_x0041_") == "A"


def test_codes_are_nfkc() -> None:
    assert normalize_code("　１２ ") == "12"
    assert normalize_code(12.0) == "12"
    assert split_departments("介護福祉課・広報秘書課") == ("介護福祉課", "広報秘書課")
    assert split_departments("地域福祉課(社会福祉協議会)") == ("地域福祉課(社会福祉協議会)",)


@pytest.mark.parametrize("text", ["A\u200b", "\ufeffA", "A\u2060", "\u200cA\u200d", "Ａ\u200b　"])
def test_codes_lose_zero_width_characters(text: str) -> None:
    # Invisible characters pasted with a rating (from a web page, a mail) are dropped like the other
    # blanks: 「A​」 must not be rejected as a rating that is not in the scale.
    assert normalize_code(text) == "A"


def test_circled_numbers() -> None:
    assert [circled(i) for i in (1, 2, 20, 21, 35, 36, 50)] == ["①", "②", "⑳", "㉑", "㉟", "㊱", "㊿"]
    assert circled(51) == "(51)"


@pytest.mark.parametrize("name", ["../etc", "a/b\\c", "CON", "nul", "COM1", "x:y*z?", "..", "", " . "])
def test_safe_filename_stays_in_folder(name: str) -> None:
    out = safe_filename(name)
    assert out and "/" not in out and "\\" not in out and ".." not in out
    assert out.split(".")[0].upper() not in {"CON", "NUL", "COM1", "PRN", "AUX"}
    assert not any(c in out for c in '<>:"|?*')


@given(st.text())
def test_clean_text_output_is_xml_safe(text: str) -> None:
    out = clean_text(text)
    out.encode("utf-8")
    assert not any(ord(c) < 32 and c != "\n" and c != "\t" for c in out)


@given(st.text())
def test_normalize_code_is_idempotent(text: str) -> None:
    once = normalize_code(text)
    assert normalize_code(once) == once


def _clean_without_shortcut(text: str) -> str:
    import re

    text = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n").replace("\u2028", "\n")
    text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]", "", text)
    text = re.sub(r"[ \t\u3000]+(?=\n|$)", "", text)
    return text.strip("\n")


@given(st.text(alphabet=st.sampled_from(list("ab①　 \t\n\r\x0b\x01_x0041_\u2028\ufffe")), max_size=20))
def test_clean_text_shortcut_changes_nothing(text: str) -> None:
    assert clean_text(text) == _clean_without_shortcut(text)


def test_clean_text_drops_c1_controls_and_reads_nel_as_a_line_break() -> None:
    """C1 controls (U+0080–U+009F) come only from mis-decoded text; HTML forbids them in a page."""
    assert clean_text("a\x85b\x80c\x9fd") == "a\nbcd"
