"""hyoka publish: the web page, the text version, open data and the tagged PDF, read back."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from hyoka.problems import HyokaError
from hyoka.publish import make_publication
from hyoka.publish.records import FIELDS
from hyoka.results import load_year
from hyoka.store import Part
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.browser import SCREENSHOTS, axe_violations, chromium, screenshot
from tests.conftest import SAMPLE, read_csv, sample_r5_parts

R4, R5 = FiscalYear(2022), FiscalYear(2023)


def _store_r5(ws: Workspace, parts: list[Part]) -> None:
    """R5 as one imported table of ``parts`` (each department's part of a joint row apart)."""
    with ws.store() as store:
        store.add_submission(
            year=R5,
            submitter="",
            kind="import",
            file_name="x",
            file_path="x",
            sha256="x",
            parts=parts,
            replace_rows=True,
        )


def _published(ws: Workspace, tmp_path: Path, **kwargs: Any) -> dict[str, Path]:
    result = make_publication(ws, R5, out_dir=tmp_path / "pub", to_pdf=False, **kwargs)
    return {p.suffix: p for p in result.files}


@pytest.fixture
def published(sample_ws_loaded: Workspace, tmp_path: Path) -> tuple[Workspace, dict[str, Path]]:
    return sample_ws_loaded, _published(sample_ws_loaded, tmp_path)


def _expected_rows() -> dict[tuple[str, str], dict[str, Any]]:
    """The sample's R5 rows as the seed has them: a joint row's parts together."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    prior = {(r["事業No"], r["担当課"]): r["事業評価"] for r in read_csv(SAMPLE / "ratings_R4.csv")}
    for r in read_csv(SAMPLE / "entries_R5.csv"):
        key = (r["事業No"], r["担当課"])
        row = rows.setdefault(key, {"rating": r["事業評価"], "texts": [], "prior": prior.get(key)})
        row["texts"] += [r["事業実績・評価理由"], r["今後の事業計画・展望"]]
    return rows


def _paragraphs(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


# --- the page's table structure ---------------------------------------------------------------------


def _cells(page: Path) -> list[dict[str, str]]:
    """Every data cell of the evaluation tables with what its headers announce, as a reader would."""
    doc = lxml_html.fromstring(page.read_bytes())
    out = []
    for table in doc.xpath("//table[contains(@class, 'evaluation')]"):
        headers = {th.get("id"): th for th in table.xpath(".//th[@id]")}
        for td in table.xpath(".//tbody//td"):
            ids = td.get("headers", "").split()
            assert ids, f"a data cell without headers: {lxml_html.tostring(td)[:80]!r}"
            missing = [i for i in ids if i not in headers]
            assert not missing, f"headers refer to ids that are not header cells of the table: {missing}"
            named = [headers[i] for i in ids]
            column = [th for th in named if th.get("scope") == "col"]
            rows = [th for th in named if th.get("scope") != "col"]
            assert len(column) == 1 and len(rows) == 3  # 施策, project, department
            out.append(
                {
                    "column": column[0].text_content(),
                    "measure": rows[0].text_content(),
                    "project": rows[1].text_content(),
                    "department": rows[2].text_content(),
                    "text": "\n".join(p.text_content() for p in td.xpath("./p")) or td.text_content(),
                }
            )
    return out


def test_every_data_cell_is_announced_with_its_column_project_and_department(
    published: tuple[Workspace, dict[str, Path]],
) -> None:
    _ws, files = published
    cells = _cells(files[".html"])
    assert len(cells) == 57 * 4  # 57 department rows, four data columns each
    first = cells[0]
    assert first["column"] == "事業実績・評価理由"
    assert first["measure"].startswith("(1)")
    assert first["project"] == "①【事業No.1】ユニバーサルデザインによるまちづくりの推進"
    assert first["department"] == "地域福祉課"


def test_page_is_japanese_titled_captioned_and_script_free(
    published: tuple[Workspace, dict[str, Path]],
) -> None:
    _ws, files = published
    raw = files[".html"].read_text(encoding="utf-8")
    doc = lxml_html.fromstring(raw.encode())
    assert doc.get("lang") == "ja"
    assert doc.findtext(".//title") == "地域福祉計画の進捗状況及び評価表(令和5年度実績報告)"
    assert not doc.xpath("//script") and "javascript:" not in raw
    assert not doc.xpath("//link[@rel='stylesheet']")  # self-contained: the CSS is inline
    tables = doc.xpath("//table")
    assert tables and all(t.find("caption") is not None for t in tables)
    assert all(th.get("scope") == "col" for th in doc.xpath("//thead//th"))
    # Headings follow the levels: h2 per 基本目標, h3 per 基本施策 (one table each).
    h2 = [h.text_content() for h in doc.xpath("//main/h2")]
    assert [h for h in h2 if h.startswith("基本目標")] == [
        "基本目標1　福祉のまちづくり",
        "基本目標2　包括的支援体制の構築",
        "基本目標3　地域活動の活性化",
    ]
    assert len(doc.xpath("//main/h3[starts-with(@id, 't')]")) == len(
        doc.xpath("//table[@class='evaluation']")
    )


def test_page_and_text_hold_every_row_of_the_sample_with_ratings_and_texts(
    published: tuple[Workspace, dict[str, Path]],
) -> None:
    _ws, files = published
    by_row: dict[tuple[str, str], dict[str, str]] = {}
    for cell in _cells(files[".html"]):
        no = re.search(r"事業No\.([^】]+)】", cell["project"])
        assert no is not None
        by_row.setdefault((no.group(1), cell["department"]), {})[cell["column"]] = cell["text"]
    text = files[".txt"].read_bytes().decode("utf-8-sig")  # as written: CRLF line ends
    expected = _expected_rows()
    assert set(by_row) == set(expected)
    for key, want in expected.items():
        got = by_row[key]
        assert got["事業評価令和5年度"] == want["rating"], key
        assert got["前年度\u200b事業評価令和4年度"] == (want["prior"] or "—"), key
        page_text = got["事業実績・評価理由"] + "\n" + got["今後の事業計画・展望"]
        for paragraph in (p for t in want["texts"] for p in _paragraphs(t)):
            assert paragraph in page_text, (key, paragraph)
            assert paragraph in text, (key, paragraph)
    assert text.count("・担当課：") == 57
    assert text.startswith("地域福祉計画の進捗状況及び評価表\r\n(令和5年度実績報告)\r\n")


def test_text_is_escaped_in_the_page_and_kept_in_the_text_version(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    hostile = "A&B <script>alert(1)</script> \x07鐘\n①全角１２"
    parts = [
        Part(
            r["事業No"],
            r["担当課"],
            r["提出課"],
            "A",
            hostile,
            "=1+1",
        )
        for r in read_csv(SAMPLE / "entries_R5.csv")
    ]
    _store_r5(sample_ws, parts)
    files = _published(sample_ws, tmp_path)
    raw = files[".html"].read_text(encoding="utf-8")
    assert "<script" not in raw
    assert "A&amp;B &lt;script&gt;alert(1)&lt;/script&gt; 鐘" in raw
    assert "\x07" not in raw
    assert "<p>①全角１２</p>" in raw  # narrative text is never NFKC-normalised
    assert "A&B <script>alert(1)</script> 鐘" in files[".txt"].read_text(encoding="utf-8-sig")
    with files[".csv"].open(encoding="utf-8-sig", newline="") as fh:
        first = next(csv.DictReader(fh))
    assert first["今後の事業計画・展望"] == "'=1+1"  # Excel must not run it
    assert json.loads(files[".json"].read_text(encoding="utf-8"))["records"][0]["outlook"] == "=1+1"


# --- open data ---------------------------------------------------------------------------------------


def test_csv_and_json_rows_equal_the_store(published: tuple[Workspace, dict[str, Path]]) -> None:
    ws, files = published
    assert files[".csv"].read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    with files[".csv"].open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == [f.heading for f in FIELDS]
        csv_rows = list(reader)
    data = json.loads(files[".json"].read_text(encoding="utf-8"))
    assert data["schema"] == "hyoka.opendata/1"
    assert [f["key"] for f in data["fields"]] == [f.key for f in FIELDS]
    records = data["records"]
    with ws.store() as store:
        now, before = load_year(store, ws.plan, R5), load_year(store, ws.plan, R4)
    assert len(records) == len(csv_rows) == len(ws.plan.rows) == 57
    for row, rec, line in zip(ws.plan.rows, records, csv_rows, strict=True):
        res = now[row.key]
        assert (rec["project_no"], rec["department"]) == row.key
        assert rec["rating"] == res.rating and line["事業評価"] == res.rating
        assert rec["achievement"] == res.achievement
        assert rec["outlook"] == res.outlook
        assert rec["prior_rating"] == (before[row.key].rating if row.key in before else None)
        assert rec["is_new"] is row.is_new and line["新規"] == ("1" if row.is_new else "0")
        assert rec["fiscal_year"] == "令和5年度" and rec["fiscal_year_start"] == 2023
        assert rec["departments"] == list(row.departments)
    joint = next(r for r in records if r["project_no"] == "9")
    assert joint["departments"] == ["介護福祉課", "広報秘書課"]


# --- the same refusal and draft rules as report -------------------------------------------------------


def test_publish_refuses_while_rows_are_missing_and_drafts_are_marked(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    parts = sample_r5_parts(lambda r: r["提出課"] == "公民館")
    _store_r5(sample_ws, parts)
    with pytest.raises(HyokaError) as err:
        _published(sample_ws, tmp_path)
    assert "公民館: 事業No.32" in str(err.value)
    assert not (tmp_path / "pub").exists()
    files = _published(sample_ws, tmp_path, draft=True)
    assert {p.name for p in files.values()} == {
        f"進捗状況及び評価表_R5_案{s}" for s in (".html", ".txt", ".csv", ".json")
    }
    assert "未提出" in files[".html"].read_text(encoding="utf-8")
    assert "（案）" in files[".txt"].read_text(encoding="utf-8-sig").splitlines()[0]


def test_cli_publish(sample_ws_loaded: Workspace, tmp_path: Path, run: Callable[..., Any]) -> None:
    result = run("publish", "--year", "R5", "--no-pdf", "--out", tmp_path / "o", "-w", sample_ws_loaded.root)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"作成しました: {tmp_path / 'o' / name}"
        for name in (
            "進捗状況及び評価表_R5.html",
            "進捗状況及び評価表_R5.txt",
            "進捗状況及び評価表_R5.csv",
            "進捗状況及び評価表_R5.json",
        )
    ]


# --- tagged PDF (LibreOffice) and the page in a real browser ----------------------------------------------


def test_tagged_pdf_with_title_language_and_embedded_fonts(
    sample_ws_loaded: Workspace, tmp_path: Path
) -> None:
    from hyoka.report.pdf import find_soffice

    if find_soffice() is None or shutil.which("pdfinfo") is None:
        pytest.skip(
            "LibreOffice（soffice）または poppler-utils がないため、PDFの検査を省略しました（.ci/run が入れます）"
        )
    result = make_publication(sample_ws_loaded, R5, out_dir=tmp_path / "pub", pack=True)
    pdfs = {p.name: p for p in result.files if p.suffix == ".pdf"}
    assert set(pdfs) == {"資料1_進捗状況及び評価表_R5.pdf", "会議資料一式_R6-1.pdf"}, result.notices
    for pdf_path in pdfs.values():
        info = subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"^Tagged:\s+yes$", info, re.M), pdf_path.name
        fonts = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True, check=True).stdout
        rows = fonts.splitlines()[2:]
        assert rows and all(line.split()[-5] == "yes" for line in rows), fonts  # the emb column
        assert b"/Lang(ja-JP)" in pdf_path.read_bytes()
    info = subprocess.run(
        ["pdfinfo", str(pdfs["資料1_進捗状況及び評価表_R5.pdf"])], capture_output=True, text=True
    ).stdout
    assert re.search(r"^Title:\s+地域福祉計画の進捗状況及び評価表$", info, re.M)


def test_page_passes_axe_and_fits_a_phone(published: tuple[Workspace, dict[str, Path]]) -> None:
    _ws, files = published
    url = files[".html"].as_uri()
    with chromium() as driver:
        driver.get(url)
        violations = axe_violations(driver)
        assert [(v["id"], v["nodes"][0]["html"][:120]) for v in violations] == []
        screenshot(driver, "publish_desktop", full_page=False)
    with chromium(width=500, height=900) as driver:  # Chromium's narrowest window; a phone is narrower still
        driver.get(url + "#t2")
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        assert axe_violations(driver) == []
        screenshot(driver, "publish_phone", full_page=False)


def test_page_prints_as_tables_even_on_narrow_paper(published: tuple[Workspace, dict[str, Path]]) -> None:
    """Print media is not a phone: the evaluation stays a table with its heading row (it was stacked)."""
    _ws, files = published
    with chromium(width=700, height=900) as driver:
        driver.get(files[".html"].as_uri())
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        shown = driver.execute_script(
            "const t = document.querySelector('table.evaluation');"
            "return [getComputedStyle(t).display, getComputedStyle(t.tHead).display];"
        )
        assert shown == ["table", "table-header-group"]
        import base64

        pdf = driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # for a person to look at, beside the screenshots
        (SCREENSHOTS / "publish_print.pdf").write_bytes(base64.b64decode(pdf["data"]))


def test_no_control_character_or_empty_paragraph_reaches_the_published_files(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    parts = [
        Part(r["事業No"], r["担当課"], r["提出課"], "A", "一\x85二\x9b\n\n\n三", "四")
        for r in read_csv(SAMPLE / "entries_R5.csv")
    ]
    _store_r5(sample_ws, parts)
    files = _published(sample_ws, tmp_path)
    for path in files.values():
        text = path.read_text(encoding="utf-8-sig")
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text), path.name
    html = files[".html"].read_text(encoding="utf-8")
    assert "<p>一</p><p>二</p><p>三</p>" in html and "<p></p>" not in html
    assert "\u3000\u3000\u3000一\n\u3000\u3000\u3000二\n\n\u3000\u3000\u3000三\n" in files[".txt"].read_text(
        encoding="utf-8-sig"
    )


# --- acceptance review: drafts, meetings, the output folder, the CSV in a spreadsheet ---------------------


@pytest.fixture
def fake_pdf(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """LibreOffice replaced by a copy that writes a tiny 'PDF' per document; returns what it was given."""
    from hyoka.files import atomic_write_bytes
    from hyoka.report import pdf

    calls: list[list[str]] = []

    def convert(
        files: list[Path], out_dir: Path, *, tagged: bool = False, **_: Any
    ) -> tuple[list[Path], str]:
        assert tagged
        calls.append([f.name for f in files])
        return [atomic_write_bytes(out_dir / f"{f.stem}.pdf", b"%PDF-1.7\n") for f in files], ""

    monkeypatch.setattr(pdf, "find_soffice", lambda: "soffice")
    monkeypatch.setattr(pdf, "convert", convert)
    return calls


def test_a_draft_says_so_once_and_its_json_is_marked(
    sample_ws: Workspace, tmp_path: Path, fake_pdf: list[list[str]]
) -> None:
    _store_r5(sample_ws, sample_r5_parts(lambda r: r["提出課"] == "公民館"))
    result = make_publication(sample_ws, R5, out_dir=tmp_path / "pub", draft=True)
    assert [n for n in result.notices if "「案」" in n] == [
        "「案」として作成しました。未提出の行が 1 行あります。"
    ]
    assert [p.name for p in result.files][-1] == "資料1_進捗状況及び評価表_R5_案.pdf"
    json_path = next(p for p in result.files if p.suffix == ".json")
    assert json.loads(json_path.read_text(encoding="utf-8"))["draft"] is True
    _store_r5(sample_ws, sample_r5_parts())
    final = make_publication(sample_ws, R5, out_dir=tmp_path / "final", to_pdf=False)
    json_path = next(p for p in final.files if p.suffix == ".json")
    assert json.loads(json_path.read_text(encoding="utf-8"))["draft"] is False


def test_the_table_pdf_needs_no_meeting_material_and_the_pack_refuses_before_writing(
    sample_ws_loaded: Workspace, tmp_path: Path, fake_pdf: list[list[str]]
) -> None:
    shutil.rmtree(sample_ws_loaded.root / "materials")
    result = make_publication(sample_ws_loaded, R5, out_dir=tmp_path / "pub")
    assert [p.name for p in result.files] == [
        *(f"進捗状況及び評価表_R5{s}" for s in (".html", ".txt", ".csv", ".json")),
        "資料1_進捗状況及び評価表_R5.pdf",
    ]
    assert fake_pdf == [["資料1_進捗状況及び評価表_R5.docx"]]
    with pytest.raises(HyokaError) as err:
        make_publication(sample_ws_loaded, R5, out_dir=tmp_path / "pack", pack=True)
    assert "会議資料のファイルが見つからない" in str(err.value)
    assert not (tmp_path / "pack").exists()  # 「何も作成しませんでした」 holds


def test_publishing_beside_older_drafts_names_them(sample_ws: Workspace, tmp_path: Path) -> None:
    _store_r5(sample_ws, sample_r5_parts(lambda r: r["提出課"] == "公民館"))
    make_publication(sample_ws, R5, out_dir=tmp_path / "pub", draft=True, to_pdf=False)
    (tmp_path / "pub" / "メモ_案.txt").write_text("a draft of something else", encoding="utf-8")
    _store_r5(sample_ws, sample_r5_parts())
    result = make_publication(sample_ws, R5, out_dir=tmp_path / "pub", to_pdf=False)
    assert result.notices == [
        "出力先に以前の「案」のファイルが残っています。ホームページには載せないでください（不要なら削除してください）: "
        + "、".join(f"進捗状況及び評価表_R5_案{s}" for s in (".csv", ".html", ".json", ".txt"))
    ]
    again = make_publication(sample_ws, R5, out_dir=tmp_path / "pub", to_pdf=False)  # twice: the same files
    assert [p.name for p in again.files] == [p.name for p in result.files]


def test_every_text_of_the_csv_is_safe_in_a_spreadsheet() -> None:
    from hyoka.publish.records import Field, to_csv

    fields = (
        Field("a", "名", "string"),
        Field("b", "課", "list"),
        Field("c", "評価", "code"),
        Field("n", "数", "number"),
    )
    out = to_csv(
        [{"a": "=cmd|' /C calc'!A0", "b": ['=HYPERLINK("http://x")', "課"], "c": "-", "n": -5}], fields
    )
    assert out.splitlines()[1] == '"\'=cmd|\' /C calc\'!A0","\'=HYPERLINK(""http://x"")・課","\'-","-5"'


def test_a_pdf_that_fails_says_nothing_of_word_files_the_clerk_never_gets(
    sample_ws_loaded: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyoka.report import pdf

    monkeypatch.setattr(pdf, "find_soffice", lambda: str(tmp_path / "no-soffice"))
    result = make_publication(sample_ws_loaded, R5, out_dir=tmp_path / "pub")
    assert [p.suffix for p in result.files] == [".html", ".txt", ".csv", ".json"]
    [notice] = [n for n in result.notices if "LibreOffice" in n]
    assert notice.startswith("LibreOffice を起動できませんでした（") and notice.endswith("）。"), notice
    assert ".docx" not in notice  # publish keeps 資料1's Word file in a temporary folder only


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_gives_one_clean_message_and_no_leftovers(
    sample_ws_loaded: Workspace, tmp_path: Path
) -> None:
    import sys

    from tests.test_files import FULL_DISK

    out = tmp_path / "pub"
    args = ["publish", "--year", "R5", "--no-pdf", "--out", str(out), "-w", str(sample_ws_loaded.root)]
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "ディスクの空きが足りない" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() or not any(out.iterdir())  # no half-written file, no temporary one


def test_a_meeting_of_another_year_is_noticed(sample_ws_loaded: Workspace, tmp_path: Path) -> None:
    result = make_publication(sample_ws_loaded, R4, meeting_id="R6-1", out_dir=tmp_path / "pub", to_pdf=False)
    assert result.notices == ["会議 R6-1 は 令和5年度 を報告する会議として設定されています。"]


def test_a_draft_rows_disagreement_is_no_code_in_the_open_data(sample_ws: Workspace, tmp_path: Path) -> None:
    from dataclasses import replace

    parts = [
        replace(p, rating="C") if (p.project_no, p.submitter) == ("9", "広報秘書課") else p
        for p in sample_r5_parts()
    ]
    _store_r5(sample_ws, parts)
    files = _published(sample_ws, tmp_path, draft=True)
    [record] = [
        r for r in json.loads(files[".json"].read_text(encoding="utf-8"))["records"] if r["project_no"] == "9"
    ]
    assert (
        record["rating"] is None
    )  # a rating field holds a code of the scale or null, never 「A／C（不一致）」
    assert "事業評価（令和5年度）：A／C（不一致）" in files[".txt"].read_text(encoding="utf-8-sig")
