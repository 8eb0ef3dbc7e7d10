"""資料1, hyoka publish and collect's rating-jump when last year's plan version rated by another scale:
each year counted under its own codes, no 上昇/低下 (a changed code is 変更), said once; no steps judged."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from lxml import html as lxml_html

from hyoka.collect import collect
from hyoka.report import pdf
from hyoka.store import Part
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.conftest import MIDORI
from tests.helpers import make_form, store_import
from tests.test_diff_scales import A_TO_D, S_TO_C, _ok, _set_scale
from tests.test_report import doc_text, evaluation_rows, grid

R5, R6 = FiscalYear(2023), FiscalYear(2024)
TABLE = "資料1_進捗状況及び評価表_R6.docx"
# Per plan row of みどり市 (in plan order): R5 by A–D, R6 by S/A/B/C.
R5_CODES = ("A", "B", "C", "D", "C", "A", "B", "A", "B", "D")
R6_CODES = ("S", "B", "A", "C", "C", "A", "C", "B", "B", "A")
NOTICE = (
    "令和5年度と令和6年度では「事業評価」の評価基準が異なります（令和5年度は A・B・C・D、"
    "令和6年度は S・A・B・C）。件数は各年度の評価基準の記号で数えています。"
    "上がった・下がったは判定せず、評価が変わった事業は「変更」としています。"
)


def _store(ws: Workspace, year: FiscalYear, codes: tuple[str, ...]) -> None:
    parts = [
        Part(r.project_no, r.department, "", code, f"{r.project_name}の実績", "今後も継続")
        for r, code in zip(ws.plan.rows, codes, strict=True)
    ]
    store_import(ws, year, parts, name=year.short)


def _city(
    tmp_path: Path,
    run,  # type: ignore[no-untyped-def]
    before: tuple[str, ...],
    after: tuple[str, ...],
    r6: tuple[str, ...] | None = R6_CODES,
) -> Path:
    """みどり市 rating R5 by ``before``, then a plan version from R6 whose scale is ``after``."""
    root = tmp_path / "midori"
    shutil.copytree(MIDORI, root)
    _set_scale(root, before)
    Workspace.load(root).store().close()  # the first version records hyoka.toml's definition
    _store(Workspace.load(root), R5, R5_CODES)
    _set_scale(root, after)
    _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", root))
    if r6 is not None:
        _store(Workspace.load(root), R6, r6)
    return root


@pytest.fixture
def rescaled(tmp_path: Path, run) -> Path:  # type: ignore[no-untyped-def]
    return _city(tmp_path, run, A_TO_D, S_TO_C)


def _report(root: Path, run, out: Path) -> Document:  # type: ignore[no-untyped-def, valid-type]
    _ok(run("report", "--year", "R6", "--out", out, "-w", root))
    return Document(str(out / TABLE))


# --- 資料1 -------------------------------------------------------------------------------------------


def test_the_summary_counts_each_year_under_its_own_codes_and_says_so_once(
    rescaled: Path,
    run,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    result = run("report", "--year", "R6", "--out", tmp_path / "out", "-w", rescaled)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines().count(f"お知らせ: {NOTICE}") == 1  # on the terminal too
    doc = Document(str(tmp_path / "out" / TABLE))
    counts, changes = [grid(t) for t in doc.element.body.iter(qn("w:tbl"))][:2]
    # This year's codes, then the code only last year had.
    assert [c.text for c in counts[0]] == ["基本目標", "S", "A", "B", "C", "D", "計"]
    assert [c.text for c in counts[1][1:]] == ["令和5年度", "令和6年度"] * 6
    assert [[c.text for c in r] for r in counts[2:]] == [
        ["1　誰もが安心して暮らせるまち", "0", "1", "2", "2", "2", "1", "2", "3", "1", "0", "7", "7"],
        ["2　支え合いの担い手を育てるまち", "0", "0", "1", "1", "1", "2", "0", "0", "1", "0", "3", "3"],
        ["合計", "0", "1", "3", "3", "3", "3", "2", "3", "2", "0", "10", "10"],
    ]
    text = doc_text(doc)
    assert text.count(NOTICE) == 1
    assert "令和5年度から評価が変わった事業（6件）" in text
    assert "上昇" not in text and "低下" not in text
    assert [c.text for c in changes[0]] == ["基本目標", "事業", "担当課", "令和5年度", "令和6年度", "変化"]
    assert [[c.text for c in r][2:] for r in changes[1:]] == [
        ["高齢福祉課", "A", "S", "変更"],
        ["市民協働課\n福祉総務課", "C", "A", "変更"],  # "up" by R6's order alone
        ["危機管理室", "D", "C", "変更"],
        ["こども家庭課", "B", "C", "変更"],
        ["市民協働課", "A", "B", "変更"],
        ["福祉総務課\n(社会福祉協議会)", "D", "A", "変更"],
    ]
    # The 前年度 column shows last year's code as it was given.
    rows = evaluation_rows(doc)
    assert [(r.prior, r.rating) for r in rows] == list(zip(R5_CODES, R6_CODES, strict=True))


def test_the_same_codes_in_another_order_are_not_ranked_in_the_report(
    tmp_path: Path,
    run,  # type: ignore[no-untyped-def]
) -> None:
    root = _city(tmp_path, run, ("A", "B", "C", "D"), ("D", "C", "B", "A"), r6=R5_CODES[:1] + ("C",) * 9)
    doc = _report(root, run, tmp_path / "out")
    counts, changes = [grid(t) for t in doc.element.body.iter(qn("w:tbl"))][:2]
    assert [c.text for c in counts[0]] == ["基本目標", "D", "C", "B", "A", "計"]
    assert {r[5].text for r in changes[1:]} == {"変更"}
    assert (
        "令和5年度と令和6年度では「事業評価」の評価基準が異なります（令和5年度は A・B・C・D、"
        "令和6年度は D・C・B・A）。"
    ) in doc_text(doc)


def test_the_same_scale_in_both_versions_ranks_as_before(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    root = _city(tmp_path, run, A_TO_D, A_TO_D, r6=("A", "B", "A", "B", "D", "A", "B", "A", "B", "D"))
    doc = _report(root, run, tmp_path / "out")
    counts, changes = [grid(t) for t in doc.element.body.iter(qn("w:tbl"))][:2]
    assert [c.text for c in counts[0]] == ["基本目標", "A", "B", "C", "D", "計"]
    assert [[c.text for c in r][2:] for r in changes[1:]] == [
        ["市民協働課\n福祉総務課", "C", "A", "↑ 上昇"],
        ["危機管理室", "D", "B", "↑ 上昇"],
        ["高齢福祉課", "C", "D", "↓ 低下"],
    ]
    text = doc_text(doc)
    assert "評価基準が異なります" not in text
    assert "令和5年度から評価が変わった事業（3件：上昇 2件、低下 1件）" in text


@pytest.mark.slow
@pytest.mark.skipif(
    pdf.find_soffice() is None or shutil.which("pdftoppm") is None,
    reason="LibreOffice and poppler (pdftoppm) are not installed",
)
def test_the_summary_page_renders_through_libreoffice(rescaled: Path, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    _report(rescaled, run, out)
    (written,), notice = pdf.convert([out / TABLE], tmp_path / "pdf")
    assert notice == ""
    text = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", str(written), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = "".join(text.split())  # pdftotext spaces the digits and breaks the lines
    assert "".join(NOTICE.split()) in text and "変更" in text and "上昇" not in text
    subprocess.run(["pdftoppm", "-r", "60", "-f", "2", "-l", "2", "-png", str(written), str(tmp_path / "p")])
    assert list(tmp_path.glob("p*.png"))


# --- hyoka publish ----------------------------------------------------------------------------------


def test_publish_says_it_once_and_marks_the_changes_changed(rescaled: Path, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "site"
    _ok(run("publish", "--year", "R6", "--out", out, "-w", rescaled))
    text = next(out.glob("*.txt")).read_bytes().decode("utf-8-sig").split("\r\n")
    assert text.count(f"　{NOTICE}") == 1 and sum(NOTICE in line for line in text) == 1
    assert "　　①【事業No.A-1】見守りネットワークの運営（高齢福祉課）：A → S（変更）" in text
    assert "　令和5年度" in text
    i = text.index("　令和5年度")
    assert text[i + 3] == "　　合計：S 0件、A 3件、B 3件、C 2件、D 2件（計 10件）"
    page = next(out.glob("*.html")).read_text(encoding="utf-8")
    tree = lxml_html.fromstring(page)
    assert [p.text_content() for p in tree.xpath("//p[@role='note']")] == [NOTICE]
    changed = tree.xpath("//caption[@id='cap-changes']/..")[0].xpath(".//tbody/tr")
    assert [r.xpath("./td")[-1].text_content() for r in changed] == ["変更"] * 6
    data = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    assert [r["prior_rating"] for r in data["records"]] == list(R5_CODES)
    assert data["prior_scale"] == [{"code": c, "description": f"評価{c}"} for c in A_TO_D]


# --- collect's rating-jump --------------------------------------------------------------------------


def _jump(root: Path, tmp_path: Path) -> list[tuple[str, str]]:
    """Collect 障がい福祉課's R6 form: A-1 B (last year: B), A-3 C (last year: A)."""
    ws = Workspace.load(root)
    values = {"A-1": ("実績", "B", "展望"), "A-3": ("実績", "C", "展望")}
    path = make_form(ws, tmp_path, department="障がい福祉課", values=values, year=R6)
    result = collect(ws, [path], R6)
    assert result.ok, result
    return [(p.code, p.cell or "", p.message) for p in result.files[0].problems]


def test_rating_jump_is_not_judged_across_different_scales(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    # R5's A (of A–D) → R6's C (of S/A/B/C): two steps by R6's order alone.
    root = _city(tmp_path, run, A_TO_D, S_TO_C, r6=None)
    assert _jump(root, tmp_path / "forms") == []


def test_rating_jump_with_the_same_scale_is_unchanged(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    root = _city(tmp_path, run, S_TO_C, S_TO_C, r6=None)
    assert _jump(root, tmp_path / "forms") == [
        (
            "rating-jump",
            "F14",
            "事業評価が前年度の「A」から「C」へ2段階変わりました。内容を確認してください。",
        )
    ]


# --- a workspace's own sheet ([sheet]) --------------------------------------------------------------

SHEET_NOTICE = (
    "令和5年度と令和6年度では「評価」の評価基準が異なります（令和5年度は A・B・C・D、"
    "令和6年度は S・A・B・C・D）。件数は各年度の評価基準の記号で数えています。"
    "同じ記号でも意味が同じとは限りません。"
)


def test_the_sheet_s_summary_counts_each_year_under_its_own_codes(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    """The indicator city counts its 評価 per 基本目標; R6's version adds S above A."""
    from tests.test_diff_column import _city as _sample
    from tests.test_diff_column import _indicator_part
    from tests.test_diff_column import _store as _store_parts

    ws = _sample(tmp_path, "indicator")
    config = ws.root / "hyoka.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('scale = "grade"\n', 'scale = "grade"\nsummary = true\n', 1), encoding="utf-8"
    )
    _ok(run("plan", "adopt", "plan.csv", "--from", "R5", "-w", ws.root))
    for year, ratings in ((R5, "ABBB"), (R6, "SACB")):
        if year == R6:
            text = config.read_text(encoding="utf-8")
            s = '[[scales.grade.levels]]\ncode = "S"\nlabel = "目標以上"\ndescription = "目標を大きく上回った。"\n\n'
            config.write_text(
                text.replace("[[scales.grade.levels]]", s + "[[scales.grade.levels]]", 1), encoding="utf-8"
            )
            _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", ws.root))
        _store_parts(
            Workspace.load(ws.root),
            year,
            [
                _indicator_part("1", "保育課", ratings[0], 8),
                _indicator_part("2", "子育て支援課", ratings[1], 1150),
                _indicator_part("3", "健康推進課", ratings[2], 500),
                _indicator_part("3", "子育て支援課", ratings[2], 380),
                _indicator_part("4", "健康推進課", ratings[3], 90),
            ],
        )
    out = tmp_path / "out"
    _ok(run("report", "--year", "R6", "--draft", "--out", out, "-w", ws.root))
    doc = Document(str(out / "進捗状況及び評価表_R6_案.docx"))
    counts = grid(next(doc.element.body.iter(qn("w:tbl"))))
    assert [c.text for c in counts[0]] == ["基本目標", "S", "A", "B", "C", "D", "未提出", "計"]
    assert [[c.text for c in r] for r in counts[2:]] == [
        ["1　安心して子育てできるまち", "0", "1", "1", "1", "3", "1", "0", "1", "0", "0", "0", "0", "4", "4"],
        ["2　地域で支え合うまち", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "4", "4", "4", "4"],
        ["合計", "0", "1", "1", "1", "3", "1", "0", "1", "0", "0", "4", "4", "8", "8"],
    ]
    text = doc_text(doc).split("\n")
    assert text.count(SHEET_NOTICE) == 1
    assert (
        text[text.index(SHEET_NOTICE) - 1]
        == "基本目標ごとの評価の件数です（各評価の左が令和5年度、右が令和6年度）。"
    )
    site = tmp_path / "site"
    _ok(run("publish", "--year", "R6", "--draft", "--no-pdf", "--out", site, "-w", ws.root))
    lines = next(site.glob("*.txt")).read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines.count(f"　{SHEET_NOTICE}") == 1
    page = lxml_html.fromstring(next(site.glob("*.html")).read_text(encoding="utf-8"))
    assert [p.text_content() for p in page.xpath("//p[@role='note']")] == [SHEET_NOTICE]
