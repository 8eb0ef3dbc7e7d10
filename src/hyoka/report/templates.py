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

from hyoka.files import atomic_write
from hyoka.problems import HyokaError
from hyoka.report.ooxml import normalise_package, replace_font_families, strip_theme_fonts
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
_DELIMITER = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}")
_CLOSER = {"{{": "}}", "{%": "%}", "{#": "#}"}
_OPENER = {v: k for k, v in _CLOSER.items()}
# The end of a tag, or the next tag's start where the end is missing (a comment ends at #} only).
_TAG_END = {
    "{{": re.compile(r"\}\}|\{[{%#]"),
    "{%": re.compile(r"%\}|\{[{%#]"),
    "{#": re.compile(r"#\}"),
}
TAG_PROBLEMS_SHOWN = 5


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


def document_title(title: str, *, draft: bool) -> str:
    """The title in a document's properties, which a PDF keeps and a reader or screen reader announces:
    a draft says 案 there as its file name and pages do."""
    return f"{title}（案）" if draft else title


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


def save_docx(doc: Any, out: Path) -> Path:
    """Save a python-docx Document (or a rendered DocxTemplate) to ``out`` atomically.

    Every part is put in schema order first (:func:`~hyoka.report.ooxml.normalise_package`): what
    hyoka built, what docxtpl rendered and whatever a clerk's edited template brought with it.
    """
    document = getattr(doc, "docx", None) or doc  # a DocxTemplate holds its Document in .docx
    package = document.part.package
    normalise_package(package)
    return atomic_write(out, lambda stream: write_package(package, stream))


def write_package(package: Any, stream: Any) -> None:
    """python-docx's ``OpcPackage.save``, but each XML part is serialised straight into its zip entry.

    python-docx first turns every part into one bytes string (``part.blob``): for 資料1 of a large plan
    that string of document.xml alone is tens of megabytes beside the tree, at the peak of the run.
    The package written is the same: content types, package relationships, then each part and its
    relationships, deflated.
    """
    import zipfile

    from docx.opc.packuri import CONTENT_TYPES_URI, PACKAGE_URI
    from docx.opc.part import XmlPart
    from docx.opc.pkgwriter import _ContentTypesItem
    from lxml import etree  # type: ignore[import-untyped]  # python-docx's XML library

    parts = list(package.parts)
    for part in parts:
        part.before_marshal()
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        types = _ContentTypesItem.from_parts(parts)  # type: ignore[no-untyped-call]
        zf.writestr(CONTENT_TYPES_URI.membername, types.blob)
        zf.writestr(PACKAGE_URI.rels_uri.membername, package.rels.xml)
        for part in parts:
            if isinstance(part, XmlPart):
                with zf.open(part.partname.membername, "w") as entry:
                    etree.ElementTree(part._element).write(entry, encoding="UTF-8", standalone=True)
            else:
                zf.writestr(part.partname.membername, part.blob)
            if len(part.rels):
                zf.writestr(part.partname.rels_uri.membername, part.rels.xml)


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
    check_tags(path, tpl.docx)
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
    tag = _context_line(exc)
    where = f": 問題の箇所「{tag}」" if tag else ""
    return f"{head}（{exc.message}）{where}。{hint}"


def _undefined_name(message: str) -> str:
    m = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", message)
    return str(m.group(1) or m.group(2)) if m else ""


def check_tags(path: Path, doc: Any) -> None:
    """Refuse a template whose ``{{ }}``, ``{% %}`` or ``{# #}`` do not pair up within a paragraph.

    Jinja takes a lone ``}}`` for text and docxtpl lets an unclosed ``{{`` swallow what follows up to
    the next closing braces, so without this check a typo renders a document with parts silently
    missing. Each paragraph's runs are joined first: Word splits one tag over several runs.
    """
    problems = [problem for where, text in _paragraph_texts(doc) for problem in unbalanced_tags(text, where)]
    if not problems:
        return
    shown = "。".join(problems[:TAG_PROBLEMS_SHOWN])
    more = len(problems) - TAG_PROBLEMS_SHOWN
    rest = f"（ほかに {more} か所）" if more > 0 else ""
    raise HyokaError(
        f"{path.name}: {shown}。{rest}Wordで {path} を開き、{{{{ }}}}・{{% %}}・{{# #}} の括弧が"
        "同じ段落の中で組になるように直してください。"
    )


def unbalanced_tags(text: str, where: str = "") -> list[str]:
    """What is wrong with the tag delimiters of one paragraph's text, one message per problem."""
    problems: list[str] = []
    place = f"{where}の" if where else ""
    pos = segment = 0  # segment: where the text after the last complete tag starts
    while m := _DELIMITER.search(text, pos):
        token = m.group()
        if token in _OPENER:  # a closer outside any tag
            shown = _clip(text[segment : m.end()], tail=True)
            problems.append(f"{place}「{shown}」の「{token}」に対応する「{_OPENER[token]}」がありません")
            pos = segment = m.end()
            continue
        end = _TAG_END[token].search(text, m.end())
        if end is not None and end.group() == _CLOSER[token]:
            pos = segment = end.end()
            continue
        stop = end.start() if end is not None else len(text)
        problems.append(
            f"{place}タグ「{_clip(text[m.start() : stop])}」が閉じていません（「{_CLOSER[token]}」がありません）"
        )
        pos = segment = stop
    return problems


def _clip(text: str, *, tail: bool = False, limit: int = 40) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return "…" + text[-limit:] if tail else text[:limit] + "…"


def _paragraph_texts(doc: Any) -> Iterator[tuple[str, str]]:
    """(where, text) of every paragraph: body and its tables, headers, footers and footnotes.

    Parts are reached through the document's relationships, as docxtpl renders them: python-docx's
    ``section.header`` would add a header to a section that has none.
    """
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn

    part_names = {RT.HEADER: "ヘッダー", RT.FOOTER: "フッター", RT.FOOTNOTES: "脚注"}
    roots: list[tuple[str, Any]] = [("", doc.element.body)]
    for rel in doc.part.rels.values():
        if rel.is_external or rel.reltype not in part_names:
            continue
        part = rel.target_part
        element = getattr(part, "element", None)
        roots.append((part_names[rel.reltype], element if element is not None else parse_xml(part.blob)))
    p_tag, t_tag, tc_tag = qn("w:p"), qn("w:t"), qn("w:tc")
    for where, root in roots:
        for p in root.iter(p_tag):
            # A text box's paragraphs sit inside a paragraph; each is checked on its own.
            text = "".join(t.text or "" for t in p.iter(t_tag) if next(t.iterancestors(p_tag)) is p)
            if not _DELIMITER.search(text):
                continue
            in_table = next(p.iterancestors(tc_tag), None) is not None
            yield (where or ("表" if in_table else "")), text


def _tag_naming(tpl: Any, name: str) -> str:
    """The tag of the unrendered template that uses ``name`` (a failed render may have changed tpl.docx)."""
    if not name:
        return ""
    try:
        doc = open_docx(Path(tpl.template_file))
    except HyokaError:  # the file opened once already; any failure here only loses the hint
        return ""
    for _, text in _paragraph_texts(doc):
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
