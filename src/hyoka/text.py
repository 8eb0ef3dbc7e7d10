"""Text normalisation: codes are normalised, narrative text is only cleaned.

Codes (ratings, 事業No, department names) go through NFKC so that ``Ａ`` and `` b `` match the scale.
Narrative text must stay verbatim — NFKC would turn ① into 1 and ㈱ into (株) — so it only gets its
line breaks unified, Excel's ``_xHHHH_`` escapes undone, and characters that XML (and so Word) cannot
hold removed.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata

_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Characters XML 1.0 cannot carry, plus the non-characters U+FFFE/U+FFFF and lone surrogates.
# C1 controls (U+0080–U+009F) too: they come only from mis-decoded text, and HTML forbids them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")
_TRAILING_BLANKS = re.compile(r"[ \t\u3000]+(?=\n|$)")
# A character clean_text removes or turns into a line break.
_CONTROL = re.compile("[\r\x0b\u2028\x00-\x08\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_BLANKS = (" ", "\t", "\u3000")
_SEPARATORS = re.compile(r"[・、]")  # the plan master's documented separators for a joint row


def normalize_code(value: object) -> str:
    """NFKC + strip, for values that are identifiers (never for narrative text)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else _number_text(value)
    return _normalized(text)


@functools.lru_cache(maxsize=8192)
def _normalized(text: str) -> str:
    # Codes repeat (A–D, 実施, department names, 事業No): collect of the indicator sheet at 100x
    # normalised 40,000 values per 10x, most of them the same few dozen.
    # NFKC first: it turns no-break and ideographic spaces into spaces that cleaning then trims.
    # Zero-width characters (pasted from a web page or a mail) are invisible blanks too.
    return _ZERO_WIDTH.sub("", clean_text(unicodedata.normalize("NFKC", text))).strip()


def _number_text(value: object) -> str:
    # Excel stores 12 as 12.0; a project number must read back as "12".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def clean_text(value: object) -> str:
    """Make narrative text safe for storage and for Word, without changing what it says.

    Line breaks are unified to ``\\n`` (Word's vertical tab ``\\x0b`` from a pasted cell counts as a
    break), ``_xHHHH_`` escapes are undone, other control characters are dropped, blanks before a line
    break are trimmed, and leading/trailing empty lines removed.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else _number_text(value)
    if not _needs_cleaning(text):
        return text  # the common case, and collect's hot path: nothing to change
    text = _EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n").replace("\u2028", "\n")
    text = text.replace("\x85", "\n")  # NEL, the C1 line break
    text = _NOT_XML.sub("", text)
    text = _TRAILING_BLANKS.sub("", text)
    return text.strip("\n")


def _needs_cleaning(text: str) -> bool:
    """Whether :func:`clean_text` would change ``text``: a control character, an ``_xHHHH_`` escape,
    blanks before a line break or at the end, an empty first or last line. One character-class
    search and a few substring tests: a third of the time of one regex with all the alternatives,
    and most texts (two per row of every return) need nothing."""
    return (
        _CONTROL.search(text) is not None
        or ("_x" in text and _EXCEL_ESCAPE.search(text) is not None)
        or " \n" in text
        or "\t\n" in text
        or "\u3000\n" in text
        or text.startswith("\n")
        or text.endswith(("\n", *_BLANKS))
    )


def split_departments(label: str) -> tuple[str, ...]:
    """Departments named in one 担当課/提出課 cell: ``介護福祉課・広報秘書課`` is two."""
    parts = [normalize_code(p) for p in _SEPARATORS.split(label)]
    return tuple(p for p in parts if p)


def text_em(text: str) -> float:
    """Width of ``text`` in em as Japanese Word and Excel set it: a full-width character 1, a
    half-width one ½, and ¼ em of automatic space where Japanese meets a Latin letter or a digit
    (令和 5 年度)."""
    narrow, before_wide, after_wide = _width_patterns()
    half = sum(len(run) for run in narrow.findall(text))
    if not half:
        return float(len(text))
    gaps = len(before_wide.findall(text)) + len(after_wide.findall(text))
    return len(text) - half / 2 + gaps / 4


@functools.cache
def _width_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Runs of half-width characters, and the places where an ASCII letter or digit touches a wide
    one — compiled once from :data:`hyoka.widths.NARROW_RANGES` (every report and form asks for
    thousands of widths, and a Python loop over each character was most of the report's time at scale)."""
    from hyoka.widths import NARROW_RANGES

    def item(hex_range: str) -> str:
        a, _, b = hex_range.partition("-")
        return re.escape(chr(int(a, 16))) + (f"-{re.escape(chr(int(b, 16)))}" if b else "")

    klass = "".join(item(r) for r in "".join(NARROW_RANGES).split())
    narrow = re.compile(f"[{klass}]+")
    wide = f"[^{klass}]"
    return narrow, re.compile(f"[A-Za-z0-9](?={wide})"), re.compile(f"(?<={wide})[A-Za-z0-9]")


def wrapped_lines(text: str, em_per_line: float) -> int:
    """How many lines ``text`` takes when wrapped at ``em_per_line``: each paragraph (also a blank
    one) at least one line. An estimate that errs on the generous side: wrapping happens at
    characters, and a line that would end a little past the edge counts whole."""
    width = max(em_per_line, 1.0)
    return sum(max(1, math.ceil(text_em(line) / width)) for line in text.split("\n"))


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a cleaned text (blank lines are not paragraphs)."""
    return [line for line in clean_text(text).split("\n") if line.strip()]


_CIRCLED = (
    [chr(0x2460 + i) for i in range(20)]
    + [chr(0x3251 + i) for i in range(15)]
    + [chr(0x32B1 + i) for i in range(15)]
)


def circled(n: int) -> str:
    """①, ②, … ㊿; past 50, ``(51)``."""
    return _CIRCLED[n - 1] if 1 <= n <= len(_CIRCLED) else f"({n})"


def safe_filename(name: str, *, max_bytes: int = 150) -> str:
    """A file-name fragment that is valid on Windows and cannot leave its folder.

    Path separators, ``..``, characters Windows forbids and reserved device names (CON, NUL, COM1…)
    are replaced; the Japanese text itself is kept.
    """
    text = unicodedata.normalize("NFC", clean_text(name)).replace("\n", " ")
    text = re.sub(r'[<>:"/\\|?*\x00-\x1f]', "_", text)
    text = text.strip(" .")
    text = re.sub(r"\.{2,}", "_", text)
    if not text:
        text = "_"
    stem = text.split(".")[0].upper()
    if stem in {"CON", "PRN", "AUX", "NUL"} or re.fullmatch(r"(COM|LPT)[0-9¹²³]", stem):
        text = "_" + text
    # File systems limit names in bytes (255 on Linux/macOS, in UTF-8 a kanji takes 3): leave room
    # for the prefixes and suffixes hyoka adds (調査票_R6_, 要修正_, .xlsx).
    while len(text.encode("utf-8")) > max_bytes:
        text = text[:-1]
    return text
