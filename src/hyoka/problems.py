"""The one catalogue of problems hyoka can report.

Every problem has a stable kebab-case code, a severity, an English title (for the docs) and a Japanese
message template for the clerk that says what is wrong and what to do. Validation never raises for bad
input: it yields :class:`Problem` objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_LABEL = {Severity.ERROR: "エラー", Severity.WARNING: "警告", Severity.INFO: "お知らせ"}
SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class ProblemType:
    code: str
    severity: Severity
    title: str
    template: str


def _types(*items: tuple[str, Severity, str, str]) -> dict[str, ProblemType]:
    return {code: ProblemType(code, sev, title, tpl) for code, sev, title, tpl in items}


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741 - short aliases for the table

CATALOGUE: dict[str, ProblemType] = _types(
    # --- plan master -------------------------------------------------------------------------------
    (
        "plan-heading-missing",
        E,
        "Plan heading missing",
        "見出し {missing} の列がありません。計画マスタは1枚目のシートに置き、1行目に見出し {headings} を入力してください。",
    ),
    (
        "plan-cell-blank",
        E,
        "Required plan cell blank",
        "「{heading}」が空欄です。値を入力してください（セルを結合している場合は結合を解除し、各行に値を入れてください）。",
    ),
    (
        "plan-project-conflict",
        E,
        "Project number reused with another name or 施策",
        "事業No.{no} が{line_first}行目では「{first}」、この行では「{second}」になっています。"
        "同じ事業Noには同じ{what}を入力してください。",
    ),
    (
        "plan-measure-conflict",
        E,
        "Same 施策 under two 基本施策",
        "施策「{measure}」が基本施策「{first}」（{line_first}行目）と「{second}」の両方にあります。"
        "どちらか一方に揃えてください。",
    ),
    (
        "plan-duplicate-row",
        E,
        "Duplicate project and department",
        "事業No.{no}・担当課「{department}」の行が{line_first}行目と重複しています。一方を削除してください。",
    ),
    (
        "value-is-date",
        E,
        "Number turned into a date by Excel",
        "{heading}の「{value}」はExcelが日付に変えてしまった値です。セルの表示形式を「文字列」にしてから、"
        "番号（例: 3-2）を入力し直してください。",
    ),
    (
        "plan-new-flag-unknown",
        E,
        "Unknown 新規 value",
        "「新規」欄の「{value}」は使えません。新規の事業は「新規」または「○」、それ以外は空欄にしてください。",
    ),
    ("plan-empty", E, "Plan has no rows", "計画マスタに事業の行がありません。"),
    # --- files -------------------------------------------------------------------------------------
    ("file-not-found", E, "File not found", "ファイルが見つかりません。パスを確認してください。"),
    (
        "file-not-excel",
        E,
        "Not an Excel workbook",
        "Excelのブック（.xlsx）ではありません。.xlsx 形式のファイルを指定してください。",
    ),
    (
        "file-old-xls",
        E,
        "Old .xls format",
        "古い形式（.xls）のファイルです。Excelで開き「名前を付けて保存」で「Excel ブック (*.xlsx)」を選んで保存し直してください。",
    ),
    (
        "file-encrypted",
        E,
        "Password-protected workbook",
        "パスワードで保護（暗号化）されたブックは読み込めません。Excelで開き「ファイル」→「情報」→"
        "「ブックの保護」→「パスワードを使用して暗号化」でパスワードを消してから保存し直してください。",
    ),
    (
        "file-corrupt",
        E,
        "Corrupt workbook",
        "ファイルが壊れていて読み込めません（{reason}）。提出元に再送を依頼してください。",
    ),
    (
        "file-too-large",
        E,
        "File too large or zip bomb",
        "ファイルが大きすぎます（{reason}）。調査票以外のデータが含まれていないか確認してください。",
    ),
    (
        "file-lock",
        I,
        "Excel lock file skipped",
        "Excelの一時ファイル（~$で始まるファイル）のため読み飛ばしました。対応は不要です。",
    ),
    (
        "file-duplicate",
        I,
        "Identical file already collected",
        "同じ内容のファイルを受け付け済みです（{received}）。変更はありません。",
    ),
    (
        "sheet-not-found",
        E,
        "No sheet with the form headings",
        "見出し（{headings}）のあるシートが見つかりません。配布した様式の見出しをそのまま使ってください。",
    ),
    (
        "form-year-mismatch",
        E,
        "Form is for another fiscal year",
        "この調査票は{form_year}のものです。{year}の調査票を提出してもらうか、--year を確認してください。",
    ),
    (
        "file-older-than-current",
        E,
        "Older than the return in force",
        "受付済みの「{current}」（保存 {that}）より古いファイルです（保存 {this}）。古い版で置き換えないよう取り込みませんでした。"
        "この版に戻す場合は、Excelで開いて保存し直してから取り込んでください。",
    ),
    (
        "form-plan-changed",
        W,
        "Form made from another version of the plan",
        "この調査票は現在とは別の版の計画マスタから作られています。行の内容は現在の計画で確認しました。",
    ),
    (
        "form-department-unknown",
        E,
        "Department cannot be identified",
        "どの課の調査票か特定できません（複数の課の行が混ざっているか、行がありません）。課ごとに配布した調査票で提出してもらってください。",
    ),
    (
        "file-too-many-rows",
        E,
        "Sheet has too many rows",
        "このシートに{limit:,}行を超えるデータがあります。調査票の行以外を削除してください。",
    ),
    (
        "internal-error",
        E,
        "Unexpected error while processing a file",
        "処理中に想定外の問題が発生しました（{reason}）。このファイルは保存していません。"
        "他のファイルの処理は続けました。この表示を開発者に伝えてください。",
    ),
    (
        "feedback-failed",
        W,
        "Marked-up copy could not be written",
        "指摘を書き込んだ写しを作れませんでした（{reason}）。このファイルの指摘は上の一覧で伝えてください。",
    ),
    # --- rows --------------------------------------------------------------------------------------
    (
        "row-without-project",
        E,
        "Row without a project",
        "事業の欄が空の行に「{text}」と書かれています。表の下や行の間に書いたメモは削除してください"
        "（事業の行なら、配布した調査票の行に記入してください）。",
    ),
    (
        "project-unknown",
        E,
        "Unknown project number",
        "事業No.「{no}」は計画にありません。計画マスタにある事業Noにしてください（調査票では事業の欄を書き換えないでください）。",
    ),
    (
        "department-unknown",
        E,
        "Unknown department",
        "担当課「{department}」は事業No.{no}の担当課にありません。計画マスタの担当課名（{expected}）にしてください。",
    ),
    (
        "row-other-department",
        E,
        "Row belongs to another department",
        "事業No.{no}（{department}）は{submitter}の担当ではありません。この行を削除してください。",
    ),
    (
        "row-duplicate",
        E,
        "Duplicate row",
        "事業No.{no}（{department}）の行が{first_cell}と重複しています。一方を削除してください。",
    ),
    (
        "row-missing",
        E,
        "Row of the department missing",
        "事業No.{no}（{department}）の行がありません。配布した調査票の行を削除せずに記入してください。",
    ),
    (
        "rating-normalized",
        I,
        "Rating read after normalisation",
        "事業評価「{value}」を「{normalized}」として読み取りました（全角・小文字・空白は自動で直します）。",
    ),
    (
        "table-empty",
        E,
        "Table has no rows",
        "見出しの下に行がありません。事業No・担当課・事業評価を1行に1件ずつ入力してください。",
    ),
    (
        "import-rows-missing",
        W,
        "Rows of the plan not in the imported table",
        "計画の{count}行がこの表にありません（{examples}）。これらの行はこの年度の評価がないままです。",
    ),
    ("rating-blank", E, "Rating blank", "事業評価が空欄です。{codes} のいずれかを選んでください。"),
    (
        "rating-not-in-scale",
        E,
        "Rating not in the scale",
        "事業評価「{value}」は評価基準にありません。{codes} のいずれかを選んでください。",
    ),
    (
        "formula-no-value",
        E,
        "Formula without a cached value",
        "数式「{formula}」の計算結果が保存されていません。Excelで開いて保存し直すか、値を直接入力してください。",
    ),
    (
        "achievement-blank",
        E,
        "事業実績・評価理由 blank",
        "事業実績・評価理由が空欄です。今年度の実績と評価の理由を記入してください。",
    ),
    (
        "outlook-blank",
        W,
        "今後の事業計画・展望 blank",
        "今後の事業計画・展望が空欄です。次年度に向けた課題や検討内容の記入を依頼してください。",
    ),
    (
        "reason-missing",
        E,
        "Reason required by the rating missing",
        "評価「{rating}」の場合は「今後の事業計画・展望」に課題と今後の対応を必ず記入してください。",
    ),
    (
        "prior-rating-differs",
        W,
        "Prior rating on the form differs from the store",
        "前年度事業評価が「{form}」になっていますが、保存済みの前年度評価は「{stored}」です。保存済みの値を使います。",
    ),
    (
        "prior-rating-on-new",
        W,
        "Prior rating on a new project",
        "新規事業ですが前年度事業評価に「{form}」と入力されています。前年度の評価がない場合は空欄にしてください。",
    ),
    (
        "rating-jump",
        I,
        "Rating moved two or more steps",
        "事業評価が前年度の「{before}」から「{after}」へ{steps}段階変わりました。内容を確認してください。",
    ),
    (
        "joint-rating-conflict",
        E,
        "Joint row rated differently",
        "事業No.{no}（{department}）は共同で報告する行ですが、{first}は「{first_rating}」、{second}は「{second_rating}」"
        "と評価が異なります。担当課間で評価を揃えてください。",
    ),
    (
        "text-too-long",
        E,
        "Text too long",
        "{column}が{length:,}文字あります（上限{limit:,}文字）。要点をまとめて短くしてください。",
    ),
    # --- the sheet definition ([sheet] / [scales] in hyoka.toml; hyoka.sheet) ------------------------
    (
        "sheet-key-unknown",
        E,
        "Unknown key in the sheet definition",
        "{where} の「{key}」は使えない項目です。{hint}",
    ),
    (
        "sheet-value-missing",
        E,
        "Required key of the sheet definition missing",
        "{where} に {key} を設定してください（{expected}）。",
    ),
    (
        "sheet-value-type",
        E,
        "Sheet definition value of the wrong type",
        "{where} の {key} は{expected}で書いてください。",
    ),
    (
        "sheet-value-invalid",
        E,
        "Sheet definition value not allowed",
        "{where} の {key} に「{value}」は使えません。{hint}",
    ),
    (
        "sheet-levels-count",
        E,
        "Too few or too many plan levels",
        "[[sheet.levels]] が{count}段あります。事業より上の階層は1段から4段までで定義してください。",
    ),
    (
        "sheet-duplicate",
        E,
        "Name used twice in the sheet definition",
        "{where} の {key}「{value}」が{first}と重複しています。別の名前にしてください。",
    ),
    (
        "sheet-column-unknown",
        E,
        "Sheet definition refers to an unknown column",
        "{where} の {key} に指定した列「{value}」は [[sheet.columns]] にありません。{hint}",
    ),
    (
        "sheet-column-kind",
        E,
        "Sheet definition refers to a column of the wrong kind",
        "{where} の {key} に指定した列「{value}」は{actual}の列です。{expected}の列を指定してください。",
    ),
    (
        "sheet-scale-unknown",
        E,
        "Rating column names an unknown scale",
        "{where} の scale「{value}」は定義されていません。{hint}",
    ),
    (
        "sheet-scale-invalid",
        E,
        "Scale definition invalid",
        "評価基準 {where} に誤りがあります: {reason}",
    ),
    (
        "sheet-cycle",
        E,
        "Computed columns depend on each other in a cycle",
        "計算する列が互いを参照しています（{cycle}）。どこかで実績値や計画の値を参照するように直してください。",
    ),
    (
        "sheet-value-not-in-column",
        E,
        "Condition value the column cannot take",
        "{where} の {key} の「{value}」は列「{column}」の値にありません。{choices} のいずれかにしてください。",
    ),
    (
        "sheet-bands-overlap",
        E,
        "Proposal bands overlap",
        "{where} の提案の区分「{first}」と「{second}」の範囲が重なっています。"
        "一方の below を他方の at_least と同じ値にしてください。",
    ),
    (
        "sheet-bands-gap",
        E,
        "Proposal bands leave a gap",
        "{where} の提案の区分が{range}を覆っていません。どの値もちょうど1つの区分に入るように at_least と below を揃えてください。",
    ),
    (
        "sheet-range-invalid",
        E,
        "Number column with min above max",
        "{where} の min（{min}）が max（{max}）より大きくなっています。",
    ),
    (
        "sheet-no-input",
        E,
        "Sheet has no column the departments fill in",
        '[[sheet.columns]] に source = "department" の列がありません。各課が記入する列を1つ以上定義してください。',
    ),
    (
        "sheet-plan-column-missing",
        E,
        "Plan master lacks a column the sheet reads",
        "評価表の列「{column}」は計画マスタの見出し「{heading}」の値を使いますが、計画マスタにその見出しの列がありません。"
        "計画マスタに列を追加してください{hint}。",
    ),
    # --- values of a sheet's columns (collect / import / plan values) -------------------------------
    (
        "column-required",
        E,
        "Required column blank",
        "「{column}」が空欄です。{hint}",
    ),
    (
        "column-required-when",
        E,
        "Column required by another column's value blank",
        "「{column}」が空欄です。「{condition_column}」が「{value}」の場合は必ず記入してください。",
    ),
    (
        "number-not-a-number",
        E,
        "Not a number",
        "「{column}」の「{value}」は数値として読み取れません。{example}のように数値だけを入力してください"
        "（「約」「程度」などの補足や説明は文章の欄に書いてください）。",
    ),
    (
        "number-normalized",
        I,
        "Number read after normalisation",
        "「{column}」の「{value}」を {number} として読み取りました（全角・桁区切り・単位は自動で直します）。",
    ),
    (
        "number-out-of-range",
        E,
        "Number out of range",
        "「{column}」の {number} は入力できる範囲外です。{range}の数値を入力してください。",
    ),
    (
        "number-too-many-decimals",
        E,
        "Number with too many decimals",
        "「{column}」の {number} は小数点以下の桁が多すぎます。{hint}",
    ),
    (
        "choice-not-in-list",
        E,
        "Value not in the column's list",
        "「{column}」の「{value}」は選べる値にありません。{choices} のいずれかを選んでください。",
    ),
    (
        "choice-normalized",
        I,
        "Choice read after normalisation",
        "「{column}」の「{value}」を「{normalized}」として読み取りました（全角・小文字・空白は自動で直します）。",
    ),
    (
        "rating-differs-from-proposal",
        W,
        "Rating differs from the proposal without a reason",
        "「{column}」は「{rating}」ですが、{basis}からの提案は「{proposal}」です。"
        "提案と異なる評価にする理由を「{reason}」に記入するか、評価を見直してください。",
    ),
    (
        "computed-not-available",
        I,
        "Computed column cannot be computed",
        "「{column}」を計算できません（{reason}）。提案される評価はありません。",
    ),
    (
        "joint-value-conflict",
        E,
        "Joint row with different values",
        "共同で報告する行ですが、「{column}」が{first}は「{first_value}」、{second}は「{second_value}」と異なります。"
        "担当課間で値を揃えてください。",
    ),
)


@dataclass(frozen=True)
class Problem:
    """One finding, with where it is and what to do."""

    code: str
    severity: Severity
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None

    @property
    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"シート「{self.sheet}」")
        if self.cell:
            parts.append(f"セル {self.cell}")
        elif self.row is not None:
            parts.append(f"{self.row}行目")
        return " ".join(parts)

    def render(self) -> str:
        where = self.location
        head = f"[{SEVERITY_LABEL[self.severity]}] {self.code}"
        return f"{head}: {where}: {self.message}" if where else f"{head}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "row": self.row,
        }


def problem(
    code: str,
    *,
    file: str | None = None,
    sheet: str | None = None,
    cell: str | None = None,
    row: int | None = None,
    **params: Any,
) -> Problem:
    """Build a problem of a catalogued type, filling its message template with ``params``."""
    kind = CATALOGUE[code]
    return Problem(code, kind.severity, kind.template.format(**params), file, sheet, cell, row)


class HyokaError(Exception):
    """A handled failure: the CLI prints the Japanese message and exits 1, without a traceback."""
