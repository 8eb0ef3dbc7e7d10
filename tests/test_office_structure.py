"""Every .docx and .xlsx hyoka writes is structurally sound (issue 9, item 1.9).

:func:`hyoka.ooxml_check.check_package` checks the child order of the WordprocessingML property
elements against the schema and the package's integrity. The ``generated`` fixture runs the Koganei
cycle once per session and lists what it wrote by kind; a new feature that writes a document adds a
step there and a kind to ``KINDS``, and is checked from then on.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hyoka.cli import app
from hyoka.ooxml_check import check_package
from hyoka.report.ooxml import normalise_properties
from hyoka.resources import templates_dir
from hyoka.workspace import init_workspace

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "koganei"

# kind → files of that kind, relative to the session's output folder
KINDS: dict[str, str] = {
    "forms": "forms_R6/*.xlsx",
    "filled forms": "returned_R5/*.xlsx",
    "feedback copies": "feedback/*.xlsx",
    "資料1": "R5/*進捗状況及び評価表*.docx",
    "次第": "R5/次第_*.docx",
    "配布資料一覧": "R5/配布資料一覧_*.docx",
    "pack": "R5/会議資料一式_*.docx",
    "draft": "R6_draft/*.docx",
    "edited template": "edited/*.docx",
    "diff xlsx": "exports/評価比較*.xlsx",
    "history xlsx": "exports/評価推移*.xlsx",
    "member opinion forms": "opinion_forms/*.xlsx",
    "reply forms": "reply_forms/*.xlsx",
    "opinions material": "R6-2/*意見と市の考え方*.docx",
    "opinions draft": "opinions_draft/*.docx",
    "pack with opinions": "R6-2/会議資料一式_*.docx",
}


def _hyoka(*args: str | Path) -> None:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code in (0, 1), result.output  # collect of the mistakes folder exits 1
    assert "想定外" not in result.output, result.output


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """The Koganei cycle, once: every kind of document hyoka writes, listed by kind."""
    base = tmp_path_factory.mktemp("office")
    ws = init_workspace(base / "ws", None, sample=True)
    w = ("-w", ws.root)
    _hyoka("import", SAMPLE / "ratings_R4.csv", "--year", "R4", *w)
    _hyoka("collect", SAMPLE / "returned" / "R5", "--year", "R5", *w)
    shutil.copytree(SAMPLE / "returned" / "R5", base / "returned_R5")
    _hyoka("forms", "--year", "R6", "--out", base / "forms_R6", *w)
    _hyoka(
        "collect",
        SAMPLE / "returned" / "mistakes",
        "--year",
        "R5",
        "--dry-run",
        "--feedback",
        base / "feedback",
        *w,
    )
    _hyoka("report", "--year", "R5", "--out", base / "R5", *w)
    _hyoka("report", "--year", "R6", "--draft", "--out", base / "R6_draft", *w)
    _hyoka("diff", "--year", "R5", "--out", base / "exports" / "評価比較_R5.xlsx", *w)
    _hyoka("history", "--out", base / "exports" / "評価推移.xlsx", *w)
    # The committee's opinions (issue 12): member workbooks, reply workbooks, the material alone, a
    # draft of it, and the next meeting's pack that contains it.
    _hyoka("opinions", "forms", "--meeting", "R6-1", "--out", base / "opinion_forms", *w)
    _hyoka("opinions", "import", SAMPLE / "opinions" / "意見_R6-1.csv", "--meeting", "R6-1", *w)
    _hyoka("replies", "forms", "--meeting", "R6-1", "--out", base / "reply_forms", *w)
    _hyoka("opinions", "report", "--meeting", "R6-1", "--draft", "--out", base / "opinions_draft", *w)
    _hyoka("replies", "collect", SAMPLE / "replies" / "R6-1", *w)
    _hyoka("report", "--year", "R5", "--meeting", "R6-2", "--out", base / "R6-2", *w)
    # A clerk's edited template whose cell properties are out of order (as another editor may save
    # them): the rendered list must come out in schema order all the same.
    templates = ws.root / "templates"
    templates.mkdir(exist_ok=True)
    _reorder_template(templates_dir() / "materials_list.docx", templates / "materials_list.docx")
    _hyoka("report", "--year", "R5", "--out", base / "edited", *w)
    found = {kind: sorted(base.glob(pattern)) for kind, pattern in KINDS.items()}
    return found


def _reorder_template(src: Path, dst: Path) -> None:
    """Copy a template with the children of every tcPr, pPr and rPr reversed (body, styles, headers)."""
    from lxml import etree  # type: ignore[import-untyped]

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename in ("word/document.xml", "word/styles.xml") or "word/header" in item.filename:
                root = etree.fromstring(data)
                for tag in ("tcPr", "pPr", "rPr"):
                    for parent in root.iter(f"{{{W}}}{tag}"):
                        for child in reversed(list(parent)):
                            parent.append(child)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            zout.writestr(item, data)


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_generated_file_is_structurally_sound(generated: dict[str, list[Path]], kind: str) -> None:
    files = generated[kind]
    assert files, f"nothing of kind {kind!r} was generated"
    problems = {f.name: check_package(f.read_bytes()) for f in files}
    assert problems == {f.name: [] for f in files}


# --- the check itself finds what it is for -------------------------------------------------------


def _docx(document: str, *, rels: str = "", extra: dict[str, bytes] | None = None, types: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>' + types + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>',
        )
        z.writestr(
            "word/document.xml",
            f'<w:document xmlns:w="{W}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<w:body>{document}</w:body></w:document>",
        )
        if rels:
            z.writestr(
                "word/_rels/document.xml.rels",
                f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
            )
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_check_finds_vmerge_after_valign() -> None:
    cell = '<w:tbl><w:tr><w:tc><w:tcPr><w:vAlign w:val="center"/><w:vMerge/></w:tcPr><w:p/></w:tc></w:tr></w:tbl>'
    assert check_package(_docx(cell)) == [
        "word/document.xml: <w:tcPr>: <w:vMerge> after <w:vAlign> (schema order)"
    ]


def test_check_accepts_header_and_footer_references_in_any_order() -> None:
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    rels = (
        f'<Relationship Id="rId2" Type="{rel}header" Target="header1.xml"/>'
        f'<Relationship Id="rId3" Type="{rel}footer" Target="footer1.xml"/>'
    )
    body = (
        '<w:sectPr><w:footerReference w:type="default" r:id="rId3"/>'
        '<w:headerReference w:type="default" r:id="rId2"/><w:pgSz w:w="11906"/></w:sectPr>'
    )
    parts = {
        "word/header1.xml": f'<w:hdr xmlns:w="{W}"/>'.encode(),
        "word/footer1.xml": f'<w:ftr xmlns:w="{W}"/>'.encode(),
    }
    assert check_package(_docx(body, rels=rels, extra=parts)) == []


def test_check_finds_broken_references() -> None:
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    rels = (
        f'<Relationship Id="rId2" Type="{rel}footer" Target="header1.xml"/>'
        f'<Relationship Id="rId4" Type="{rel}image" Target="media/gone.png"/>'
    )
    body = '<w:sectPr><w:headerReference w:type="default" r:id="rId2"/><w:footerReference r:id="rId9"/></w:sectPr>'
    parts = {"word/header1.xml": f'<w:hdr xmlns:w="{W}"/>'.encode(), "word/media/x.emf": b"\0"}
    assert check_package(_docx(body, rels=rels, extra=parts)) == [
        "word/media/x.emf: no content type (neither an Override nor a Default for .emf)",
        "word/_rels/document.xml.rels: rId4 (image) → media/gone.png, which is not in the package",
        "word/document.xml: <headerReference> rId2 is a footer relationship",
        'word/document.xml: <footerReference r:id="rId9"> names no relationship of the part',
    ]


def test_check_finds_comments_without_their_vml_drawing() -> None:
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    sheet_rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}comments" Target="../comments1.xml"/></Relationships>'
    )
    parts = {
        "xl/worksheets/sheet1.xml": b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
        "xl/worksheets/_rels/sheet1.xml.rels": sheet_rels.encode(),
        "xl/comments1.xml": b'<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
    }
    assert check_package(_docx("", extra=parts)) == [
        "xl/worksheets/sheet1.xml: has comments but no VML drawing for them (Excel shows no comments)"
    ]


# --- the normalising pass ----------------------------------------------------------------------------


def _xml(body: str) -> object:
    from lxml import etree

    return etree.fromstring(f'<w:body xmlns:w="{W}" xmlns:w14="urn:w14">{body}</w:body>')


def _names(parent: object) -> list[str]:
    return [str(c.tag).rsplit("}", 1)[-1] for c in parent]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("tag", "given", "expected"),
    [
        ("tcPr", ["vAlign", "vMerge", "tcW"], ["tcW", "vMerge", "vAlign"]),
        ("trPr", ["trPrChange", "tblHeader", "cantSplit"], ["tblHeader", "cantSplit", "trPrChange"]),
        (
            "sectPr",
            ["pgMar", "footerReference", "titlePg", "headerReference", "pgSz"],
            ["footerReference", "headerReference", "pgSz", "pgMar", "titlePg"],
        ),
        ("tblPr", ["tblLook", "tblW", "tblStyle"], ["tblStyle", "tblW", "tblLook"]),
        ("pPr", ["rPr", "jc", "pStyle"], ["pStyle", "jc", "rPr"]),
        ("rPr", ["lang", "sz", "rFonts", "b"], ["rFonts", "b", "sz", "lang"]),
    ],
)
def test_normalise_puts_children_in_schema_order(tag: str, given: list[str], expected: list[str]) -> None:
    root = _xml(f"<w:{tag}>" + "".join(f"<w:{n}/>" for n in given) + f"</w:{tag}>")
    normalise_properties(root)
    assert _names(root[0]) == expected  # type: ignore[index]


def test_normalise_keeps_an_extension_with_the_child_before_it() -> None:
    root = _xml("<w:rPr><w:sz/><w14:glow/><w:b/></w:rPr>")
    normalise_properties(root)
    assert _names(root[0]) == ["b", "sz", "glow"]  # type: ignore[index]


def test_word_files_are_streamed_as_python_docx_would_write_them(tmp_path: Path) -> None:
    """templates.write_package serialises each XML part straight into the zip (a large 資料1's
    document.xml never exists as one string): the members are byte for byte python-docx's own."""
    import io
    import zipfile

    from docx import Document

    from hyoka.report.templates import write_package

    doc = Document()
    doc.add_paragraph("共同で報告する行 A&B <続き>")
    doc.add_table(rows=2, cols=2).cell(0, 0).text = "①全角１２"
    ours, theirs = io.BytesIO(), io.BytesIO()
    write_package(doc.part.package, ours)
    doc.save(theirs)
    a, b = zipfile.ZipFile(ours), zipfile.ZipFile(theirs)
    assert a.namelist() == b.namelist()
    assert [n for n in a.namelist() if a.read(n) != b.read(n)] == []
