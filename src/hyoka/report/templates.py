"""The Word templates: where they are found, and rendering them with docxtpl without tracebacks.

A template is looked up, in order, in a folder given by the caller, in the workspace's own
``templates/`` folder, and in the templates that ship with hyoka — so a clerk copies one file into
the workspace, edits it in Word, and only that document changes.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hyoka.problems import HyokaError
from hyoka.report.ooxml import replace_font_families, strip_theme_fonts
from hyoka.resources import templates_dir

EVALUATION = "evaluation_base.docx"
AGENDA = "agenda.docx"
MATERIALS_LIST = "materials_list.docx"
ALL = (EVALUATION, AGENDA, MATERIALS_LIST)

# The families scripts/make_templates.py writes; a workspace that configures other fonts
# ([report] font_mincho / font_gothic) gets these names replaced at render time, while a font a
# clerk chose in Word for one style is left alone.
TEMPLATE_MINCHO = "BIZ UD明朝"
TEMPLATE_GOTHIC = "BIZ UDゴシック"

TABLES_MARKER = "[[hyoka:tables]]"
"""What ``{{ tables }}`` in the evaluation template renders to; the tables are put in its place."""

_TAG_OPEN = re.compile(r"\{[{%#]")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")


def search_path(workspace_root: Path | None, override: Path | None = None) -> list[Path]:
    """Folders searched for templates, first match wins."""
    folders = []
    if override is not None:
        folders.append(override)
    if workspace_root is not None:
        folders.append(workspace_root / "templates")
    with contextlib.suppress(FileNotFoundError):  # an install without packaged templates
        folders.append(templates_dir())
    return folders


def find_template(name: str, folders: Sequence[Path]) -> Path:
    for folder in folders:
        path = folder / name
        if path.is_file():
            return path
    where = "、".join(str(f) for f in folders) or "（なし）"
    raise HyokaError(
        f"テンプレート {name} が見つかりません（探した場所: {where}）。"
        "hyoka を入れ直すか、ワークスペースの templates フォルダに置いてください。"
    )


def _unreadable() -> tuple[type[BaseException], ...]:
    from docx.opc.exceptions import PackageNotFoundError

    # python-docx raises PackageNotFoundError for a file that is not a zip at all, BadZipFile for a
    # damaged one, KeyError for a zip without word/document.xml.
    return (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError)


def open_docx(path: Path) -> Any:
    """python-docx Document of a template or material, with a clear message for a bad file."""
    from docx import Document

    try:
        return Document(str(path))
    except _unreadable() as exc:
        raise HyokaError(
            f"{path} をWord文書（.docx）として開けません（{type(exc).__name__}）。"
            "Wordで開いて「Word 文書 (*.docx)」で保存し直してください。"
        ) from None


def apply_fonts(doc: Any, mincho: str, gothic: str) -> None:
    """Use the configured families in styles, headers and footers; drop theme fonts that would win."""
    mapping = {k: v for k, v in ((TEMPLATE_MINCHO, mincho), (TEMPLATE_GOTHIC, gothic)) if k != v and v}
    styles = doc.styles.element
    strip_theme_fonts(styles)
    replace_font_families(styles, mapping)
    replace_font_families(doc.element, mapping)
    for section in doc.sections:
        for part in (section.header, section.first_page_header, section.footer, section.first_page_footer):
            if not part.is_linked_to_previous:
                replace_font_families(part._element, mapping)


def render_docxtpl(path: Path, context: Mapping[str, Any]) -> Any:
    """Render a docxtpl template; a broken tag becomes a HyokaError naming the file and the tag."""
    import jinja2
    from docxtpl import DocxTemplate

    try:
        tpl = DocxTemplate(str(path))
        tpl.init_docx()
    except _unreadable() as exc:
        raise HyokaError(
            f"テンプレート {path} をWord文書として開けません（{type(exc).__name__}）。"
            "Wordで開いて「Word 文書 (*.docx)」で保存し直すか、templates フォルダから削除してください。"
        ) from None
    # StrictUndefined: a misspelt name in a template is an error the clerk sees, not a silent blank.
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
    try:
        tpl.render(dict(context), jinja_env=env, autoescape=True)
    except jinja2.TemplateError as exc:
        raise HyokaError(_template_message(path, tpl, exc, sorted(context))) from None
    return tpl


def _template_message(path: Path, tpl: Any, exc: Any, names: list[str]) -> str:
    import jinja2

    head = f"テンプレート {path} を差し込みできません"
    hint = (
        "Wordでテンプレートを開き、{{ }} や {% %} の括弧がそろっているか確認してください"
        "（自動修正で “ ” に変わった引用符も原因になります）。"
    )
    if isinstance(exc, jinja2.UndefinedError):
        tag = _tag_naming(tpl, _undefined_name(str(exc)))
        where = f"タグ {tag} の" if tag else ""
        return f"{head}: {where}名前を使えません（{exc.message}）。使える名前: {'、'.join(names)}。"
    unclosed = _unbalanced_tag(tpl)
    if unclosed:
        return f"{head}: タグ「{unclosed}」が閉じていません（}}}} または %}} がありません）。{hint}"
    tag = _context_line(exc)
    where = f": 問題の箇所「{tag}」" if tag else ""
    return f"{head}（{exc.message}）{where}。{hint}"


def _undefined_name(message: str) -> str:
    m = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", message)
    return str(m.group(1) or m.group(2)) if m else ""


def _paragraph_texts(tpl: Any) -> Iterator[str]:
    """Text of every paragraph of the unrendered template: body, tables, headers and footers."""
    from docx import Document

    try:
        doc = Document(str(tpl.template_file))
    except Exception:  # the file opened once already; any failure here only loses the hint
        return
    roots = [doc.element.body]
    for section in doc.sections:
        for part in (section.header, section.first_page_header, section.footer, section.first_page_footer):
            roots.append(part._element)
    from docx.oxml.ns import qn

    for root in roots:
        for p in root.iter(qn("w:p")):
            yield "".join(t.text or "" for t in p.iter(qn("w:t")))


def _unbalanced_tag(tpl: Any) -> str:
    """The first paragraph text with a tag opened but not closed (``{{ foo``)."""
    for text in _paragraph_texts(tpl):
        rest = _TAG.sub("", text)
        m = _TAG_OPEN.search(rest)
        if m:
            return rest[m.start() : m.start() + 40].strip()
    return ""


def _tag_naming(tpl: Any, name: str) -> str:
    if not name:
        return ""
    for text in _paragraph_texts(tpl):
        for m in _TAG.finditer(text):
            if re.search(rf"\b{re.escape(name)}\b", m.group(0)):
                return m.group(0)
    return ""


def _context_line(exc: Any) -> str:
    """docxtpl attaches the text lines around the error; the failing one names the tag."""
    lines: list[str] = [str(line).strip() for line in getattr(exc, "docx_context", []) or []]
    lineno: int | None = getattr(exc, "lineno", None)
    if lines and lineno:
        index = lineno - 1 - max(lineno - 4, 0)
        if 0 <= index < len(lines) and lines[index]:
            return lines[index][:60]
    return next((line[:60] for line in lines if _TAG_OPEN.search(line)), "")
