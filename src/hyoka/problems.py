"""The one catalogue of problems hyoka can report.

Every problem has a stable kebab-case code, a severity, an English title (for the docs), a Japanese
title (for the README's table and the clerk) and a Japanese message template for the clerk that says what is wrong and what to do. Validation never raises for bad
input: it yields :class:`Problem` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    title_ja: str = ""
    # The wording for the department, in the marked-up copy it gets back, where the clerk's message
    # would speak to the secretariat (「記入を依頼してください」); None: the message says it to both.
    for_department: str | None = None


def _types(
    *items: tuple[str, Severity, str, str] | tuple[str, Severity, str, str, str],
) -> dict[str, ProblemType]:
    """The catalogue from its rows: (code, severity, English title, message template[, Japanese title]).

    The Japanese title may also come from :data:`TITLES_JA`, so that a row can be added in the
    four-item form and titled there.
    """
    return {item[0]: ProblemType(*item) for item in items}


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
        "file-not-regular",
        E,
        "Not a regular file",
        "通常のファイルではありません（装置やパイプなど）。調査票のファイルを指定してください。",
    ),
    (
        "file-not-excel",
        E,
        "Not an Excel workbook",
        "表計算のブック（.xlsx・.xls・.ods）として読めません。Excel か LibreOffice で開けるか確かめ、"
        ".xlsx 形式で保存し直したファイルを提出してもらってください。",
    ),
    (
        "file-empty",
        E,
        "Empty file",
        "ファイルが空です（0 バイト）。保存に失敗したか、コピーの途中で切れています。保存し直したファイルを提出してもらってください。",
        "空のファイル",
    ),
    (
        "file-old-xls",
        E,
        "Old .xls format",
        "この .xls ファイルは読み込めません（Excel 95 以前の古い形式か、壊れています）。Excelで開き「名前を付けて保存」で"
        "「Excel ブック (*.xlsx)」を選んで保存し直してください。",
    ),
    (
        "file-strict-ooxml",
        E,
        "Strict Open XML workbook",
        "「Strict Open XML スプレッドシート」形式で保存されたブックは読み込めません。Excelで開き「名前を付けて保存」で"
        "「Excel ブック (*.xlsx)」を選んで保存し直してください。",
    ),
    (
        "file-not-a-form",
        W,
        "File that is not a form skipped",
        "{kind}のため読み飛ばしました。調査票であれば、Excelで「Excel ブック (*.xlsx)」として保存し直して提出してもらってください。",
    ),
    (
        "file-archive",
        W,
        "Archive skipped",
        "{kind}のため読み飛ばしました。中の調査票を取り込むには、ファイルを展開（右クリックの「すべて展開」）し、"
        "展開してできたフォルダを指定してください。",
    ),
    (
        "file-feedback-copy",
        I,
        "Uncorrected feedback copy skipped",
        "hyoka が作った指摘入りの写しで、作ったときから記入内容が変わっていないため読み飛ばしました。"
        "直して返送されたものであれば、直したファイルを保存し直して（記入内容を直して）から取り込んでください。",
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
        "file-duplicate-superseded",
        I,
        "Identical to a return already replaced",
        "同じ内容のファイルを受け付け済みです（{received}）が、その後に受け付けた新しい「{current}」（{current_received} に受付、フォルダ {current_folder}）"
        "が有効なままです。このファイルでは何も変えていません（この版に戻す場合は、このファイルを古い版として"
        "受け付けるよう指定して取り込み直します）。",
    ),
    (
        "file-already-rejected",
        I,
        "Identical to a file already rejected",
        "同じ内容のファイルを {received} に差し戻し済みです。差戻しの記録は増やしていません。",
    ),
    (
        "sheet-not-found",
        E,
        "No sheet with the form headings",
        "見出し（{headings}）のあるシートが見つかりません。配布した様式の見出しをそのまま使ってください。",
    ),
    (
        "sheet-several-forms",
        W,
        "More than one sheet looks like the form",
        "調査票の見出しのあるシートが複数あります（{sheets}）。読み込んだのはシート「{read}」です。"
        "別のシートに記入した場合は、その内容を「{read}」シートに移し、不要なシートを削除して提出してもらってください。",
    ),
    (
        "form-year-mismatch",
        E,
        "Form is for another fiscal year",
        "この調査票は{form_year}のものです。{year}の調査票を提出してもらうか、取り込む年度の指定を確認してください。",
    ),
    (
        "file-older-than-current",
        E,
        "Older than the return in force",
        "受付済みの「{current}」（保存 {that}）より古いファイルです（保存 {this}）。古い版で置き換えないよう取り込みませんでした。"
        "この版に戻す場合は、古い版として受け付けるよう指定して取り込んでください。",
    ),
    (
        "older-file-accepted",
        I,
        "Older file accepted as asked",
        "受付済みの「{current}」（保存 {that}）より古いファイル（保存 {this}）ですが、指定どおりこの版を有効にしました。",
    ),
    (
        "current-dated-in-future",
        I,
        "Return in force dated in the future",
        "受付済みの「{current}」の保存日時（{that}）が受け付けた時点より未来のため、保存日時では比べられません。"
        "受け付けた順に、後から届いたこのファイルを新しい版として扱いました。",
    ),
    (
        "file-dated-in-future",
        W,
        "File dated in the future",
        "このファイルの保存日時（{this}）が未来になっています。提出元のパソコンの時計が狂っている可能性があります。"
        "この課の次のファイルとは、受け付けた順で比べます。",
    ),
    (
        "form-plan-changed",
        W,
        "Form made from another version of the plan",
        "この調査票は現在とは別の版の計画マスタから作られています。行の内容は現在の計画で確認しました。",
    ),
    (
        "form-sheet-changed",
        W,
        "Form made from another sheet definition than its year's",
        "この調査票は、この年度の計画の版とは別の評価表の定義から作られています。"
        "列は見出しで読み取り、この年度の定義で確認しました。",
        "この年度とは別の評価表の定義で作った調査票",
    ),
    (
        "form-name-other-department",
        W,
        "File named for another department",
        "ファイル名は{named}の調査票ですが、中の調査票は{submitter}のものです。{submitter}の提出として扱い、"
        "{submitter}の受付済みの内容はこのファイルで置き換わります。{named}の調査票と取り違えていないか、"
        "提出元に確認してください。",
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
    (
        "year-not-in-forms",
        E,
        "Year not given and not recorded in the forms",
        "年度を調査票から読み取れません（年度の記録がないファイル: {files}）。年度を指定して実行してください。",
    ),
    (
        "form-years-differ",
        E,
        "Forms of several fiscal years",
        "調査票の年度がそろっていません（{years}）。年度を指定して実行するか、年度ごとにフォルダを分けて回収してください。",
    ),
    (
        "feedback-converted",
        I,
        "Feedback copy written as .xlsx",
        "元のファイルは {suffix} 形式のため、指摘を書き込んだ写し「{copy}」は Excel ブック（.xlsx）で作りました"
        "（値だけを写し、書式や入力規則は写していません）。",
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
        "事業評価「{value}」を「{normalized}」として読み取りました（全角・小文字・空白・見えない文字は自動で直します）。",
    ),
    (
        "table-empty",
        E,
        "Table has no rows",
        "見出しの下に行がありません。{columns}を1行に1件ずつ入力してください。",
    ),
    (
        "import-rows-missing",
        W,
        "Rows of the plan not in the imported table",
        "計画の{count}行がこの表にありません（{examples}）。これらの行は、この年度の評価が保存済みならそのまま残り、保存されていなければ評価がないままです。",
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
        "Joint row rated differently within one table",
        "事業No.{no}（{department}）は共同で報告する行ですが、この表の中で{first}は「{first_rating}」、"
        "{second}は「{second_rating}」と評価が異なります。1つの評価に揃えてください。",
    ),
    (
        "joint-rating-differs",
        W,
        "Joint row part differs from another department's part in force",
        "事業No.{no}（{department}）は共同で報告する行ですが、この調査票の{first}は「{first_rating}」、"
        "受付済みの{second}は「{second_rating}」と評価が異なります。受け付けましたが、評価がそろうまで"
        "この行は「不一致」として扱い、評価表は案としてのみ作成できます。担当課間で評価を揃え、"
        "直す側の課に調査票を出し直してもらってください。",
    ),
    (
        "import-joint-part-only",
        W,
        "Import carries one department's part of a joint row",
        "事業No.{no}（{department}）は共同で報告する行ですが、この表には{present}の分しかありません。"
        "取り込むとこの行は表の内容で置き換わり、受付済みの{dropped}の分はなくなります（{dropped}は未提出になります）。"
        "行全体を直す場合は、担当課を「{department}」として1行で入力してください。",
    ),
    (
        "joint-rating-resolved",
        I,
        "Joint row's parts agree again",
        "事業No.{no}（{department}）の評価が担当課の間でそろいました（「{rating}」）。不一致は解消しました。",
    ),
    (
        "text-too-long",
        E,
        "Text too long",
        "{column}が{length:,}文字あります（上限{limit:,}文字）。要点をまとめて短くしてください。",
    ),
    # --- forms out ---------------------------------------------------------------------------------
    (
        "year-far-from-today",
        W,
        "Fiscal year far from the current one",
        "{year}は今年度（{current}）から{distance}年離れています。年度の指定に誤りがないか確認してください"
        "（調査票は{year}のものとして作成しました）。",
        "今年度から離れた年度",
    ),
    (
        "prior-rating-missing",
        W,
        "Rows without a prior-year rating",
        "{prior}の評価が保存されていない行が{count}行あります（{examples}）。これらの行の前年度事業評価は空欄です。"
        "{prior}の回収を済ませてから調査票を作り直すと記入されます。",
        "前年度の評価がまだない行",
    ),
    # --- the workspace's hyoka.toml --------------------------------------------------------------
    (
        "config-syntax",
        E,
        "hyoka.toml is not valid TOML",
        "設定ファイルの書き方に誤りがあります: {detail}。引用符・括弧・= の対応を確かめてください。",
        "設定ファイルの書き方の誤り",
    ),
    (
        "config-date-impossible",
        E,
        "Impossible date in hyoka.toml",
        "{value} は存在しない日付です。カレンダーにある日付（例: 2024-08-19）に直してください。",
        "存在しない日付",
    ),
    (
        "config-key-unknown",
        E,
        "Unknown key or section in hyoka.toml",
        "{key}は{where}では使えません（hyoka の知らない名前です）。{hint}",
        "設定ファイルの知らない名前",
    ),
    (
        "config-wrong-type",
        E,
        "Setting written in the wrong form",
        "{where}の {key} は{expected}で書いてください。",
        "設定の値の書き方の誤り",
    ),
    (
        "config-key-missing",
        E,
        "Required setting missing",
        "{where}に {key} を設定してください。",
        "必要な設定がない",
    ),
    # --- plan versions (adopting a new version of the plan) -----------------------------------------
    (
        "plan-predecessor-unknown",
        E,
        "Declared predecessor not in the version before",
        "旧事業No「{old_no}」・旧担当課「{old_department}」に当たる行が、前の版の計画（{version}）にありません。"
        "前の版の事業Noと担当課名を入力するか、新しい事業なら旧事業No・旧担当課を空欄にしてください。",
    ),
    (
        "plan-rename-unknown",
        E,
        "Department rename names an unknown department",
        "課名の変更「{old}＝{new}」の「{name}」は{where}の計画にない課名です。課名を確認してください。",
    ),
    (
        "plan-rename-suspected",
        W,
        "Looks like an undeclared department rename",
        "「{old}」の行がすべてなくなり、同じ事業の行が「{new}」にあります。課名の変更であれば、"
        "変更（{old}＝{new}）として登録してください。登録しないと、前年度の評価が引き継がれません。",
    ),
    (
        "plan-stored-row-orphaned",
        E,
        "A stored row would lose its place in the plan",
        "{year}に保存済みの事業No.{no}（{department}）の評価が、新しい版の計画のどの行にも引き継がれません。"
        "その行を残すか、旧事業No・旧担当課で引き継ぐ行を指定してください。",
    ),
    (
        "plan-working-copy-changed",
        I,
        "Plan file differs from the latest adopted version",
        "計画マスタ「{plan_file}」は、採用済みの最新の版（{version}）と内容が異なります。"
        "この内容は、新しい版として採用するまでどの年度にも使われません。",
    ),
    (
        "plan-working-copy-older",
        I,
        "Plan file is an earlier version's",
        "計画マスタ「{plan_file}」は前の版（{old}）のものです。最新の版（{version}）はファイル「{source}」から"
        "採用されています。次に計画を改正するときは「{source}」をもとにしてください"
        "（hyoka.toml の [plan] の file をそのファイルにすると、この表示は出なくなります）。",
        "計画マスタが前の版のもの",
    ),
    (
        "sheet-working-copy-changed",
        I,
        "Sheet definition differs from the latest adopted version's",
        "hyoka.toml の評価表の定義（[sheet]・[scale]・[scales]）は、採用済みの最新の版（{version}）の定義と異なります。"
        "この定義は、新しい版として採用するまでどの年度にも使われません。",
        "評価表の定義が採用済みの版と異なる",
    ),
    (
        "plan-version-sheet-recorded",
        I,
        "Sheet definition recorded with versions that had none",
        "計画の版 {versions} には評価表の定義が記録されていなかったため、いまの hyoka.toml の定義を記録しました。"
        "これらの版の年度の調査票・評価表は、以後この定義で作られます（hyoka.toml を変えても変わりません）。",
        "評価表の定義を計画の版に記録",
    ),
    (
        "plan-version-sheet-invalid",
        E,
        "Sheet definition stored with a version cannot be read",
        "計画の版 {version} に記録された評価表の定義を読み取れません（{reason}）。"
        "この版の年度を扱うには、その年度の評価表の定義を hyoka.toml に書き、計画マスタをこの版と同じ年度から"
        "採用し直してください（版が置き換わり、定義も記録し直されます）。",
        "計画の版の評価表の定義を読めない",
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
        "「{column}」の「{value}」を「{normalized}」として読み取りました（全角・小文字・空白・見えない文字は自動で直します）。",
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
    (
        "joint-value-differs",
        W,
        "Joint row part differs from another department's part in force in a column",
        "事業No.{no}（{department}）は共同で報告する行ですが、「{column}」がこの調査票の{first}は"
        "「{first_value}」、受付済みの{second}は「{second_value}」と異なります。受け付けましたが、"
        "値がそろうまで評価表のこの欄は「不一致」と表示されます。担当課間で値を揃え、直す側の課に"
        "調査票を出し直してもらってください。",
    ),
    (
        "diff-column-unknown",
        E,
        "Column that diff and history cannot compare",
        "{column}{reason}。比べられる列: {keys}。",
    ),
    (
        "diff-rating-not-in-scale",
        E,
        "Stored rating outside its year's scale",
        "{year}の事業No.{no}（{department}）の評価「{rating}」は評価基準（{codes}）にありません。"
        "hyoka.toml の [scale] を確認してください。",
        "年度の評価基準にない保存済みの評価",
    ),
    (
        "diff-scale-differs",
        I,
        "Rating scales differ between the years compared",
        "{before}と{after}では「{column}」の評価基準が異なります（{before}は {before_codes}、"
        "{after}は {after_codes}）。{consequence}",
        "比べる年度の間で評価基準が異なる",
    ),
    (
        "diff-unit-differs",
        I,
        "Units differ between the years compared",
        "「{column}」の単位が{before}と{after}で異なる行があります（{rows}）。{consequence}",
        "比べる年度の間で数値の単位が異なる",
    ),
    # --- the secretariat's second stage (issue 11 §13) ----------------------------------------------
    (
        "import-mixed-sources",
        E,
        "Table mixes the departments' and the secretariat's columns",
        "この表には各課が記入する列（{department}）と事務局が記入する列（{secretariat}）の両方があります。"
        "記入する人と履歴が異なるため、1つの表では取り込めません。事業No・担当課と各課の列の表、"
        "事業No・担当課と事務局の列の表の2つに分けて、それぞれ取り込んでください。",
        "各課の列と事務局の列が1つの表にある",
    ),
    (
        "form-is-secretariat-workbook",
        E,
        "The secretariat's workbook given to collect",
        "これは事務局の記入用の表（各課の調査票ではありません）です。事務局の入力は hyoka import で取り込んでください。",
        "事務局の記入用の表を回収に指定",
    ),
    (
        "secretariat-department-cell-changed",
        W,
        "Department's cell changed in the secretariat's workbook",
        "「{column}」は各課が記入する欄で、保存済みの値は「{stored}」ですが、このファイルでは「{value}」になっています。"
        "この欄の変更は取り込みません（保存済みの各課の値のままです）。直すには、その課に調査票を出し直してもらってください。",
        "事務局の表で各課の欄が変更されている",
    ),
    (
        "secretariat-rows-not-entered",
        I,
        "Rows without the secretariat's input",
        "計画の{count}行は{columns}の入力がありません（{examples}）。これらの行に保存済みの事務局の入力があれば、そのまま残ります。",
        "事務局の入力がない行",
    ),
    # --- the committee's opinions and the departments' replies -------------------------------------
    (
        "committee-rating-not-project",
        E,
        "Committee rating for something other than a project",
        "委員会の評価は事業ごとに記入します。この行は事業についての行ではありません。事業Noを記入するか、評価を空欄にしてください。",
        "事業以外の行に委員会の評価",
    ),
    (
        "committee-rating-conflict",
        E,
        "Two committee ratings for one project",
        "事業No.{no} の「{column}」が {first_cell} では「{first}」、ここでは「{second}」です。"
        "委員会で決まった評価を1つにしてください（同じ事業の行が複数あるときは、評価は1行だけに書くか同じにします）。",
        "1つの事業に異なる委員会の評価",
    ),
    (
        "opinion-subject-unknown",
        E,
        "Opinion about something the plan does not have",
        "{heading}「{value}」は計画にありません。計画マスタにある{heading}にしてください"
        "（評価全般についての意見なら、{blank}を空欄にします）。",
        "計画にない事業・階層への意見",
    ),
    (
        "opinion-subject-ambiguous",
        E,
        "Opinion about a level several of its outer level have",
        "{level}「{value}」は複数の{outer}にあります（{policies}）。同じ行の{outer}の欄に、どの{outer}の{level}かを"
        "書いてください。",
        "どの上位の階層のものか分からない意見",
    ),
    (
        "opinion-text-blank",
        E,
        "Opinion text blank",
        "意見が空欄です。意見を記入するか、この行を削除してください。",
        "意見が空欄",
    ),
    (
        "opinion-department-unknown",
        E,
        "Opinion routed to a department that does not answer it",
        "担当課「{department}」は{subject}の担当課ではありません。{expected} から選ぶか、空欄にしてください"
        "（空欄なら対象のすべての担当課に回付します）。",
        "意見の回付先にできない課",
    ),
    (
        "opinion-no-duplicate",
        E,
        "Opinion number used twice",
        "意見No.{no} が{first}と重複しています。意見ごとに別の番号にしてください。",
        "意見Noの重複",
    ),
    (
        "opinion-level-heading-unknown",
        E,
        "Opinion table heading of a level the year's sheet does not have",
        "見出し「{heading}」は、この年度の評価シートの階層にありません。何についての意見かは、階層の列 {columns} と"
        "事業No で書いてください（見出しを直すか、その列を消してください）。",
        "評価シートにない階層の見出し",
    ),
    (
        "opinions-table-empty",
        E,
        "Opinion table without rows",
        "見出しの下に意見の行がありません。1行に1件ずつ意見を入力してください。",
        "意見の表に行がない",
    ),
    (
        "opinion-member-unknown",
        E,
        "Member of an opinion workbook not recorded",
        "どの委員の意見票か分かりません（hyoka が作った意見票の記録がありません）。"
        "hyoka opinions forms で作った意見票に記入してもらってください。",
        "意見票の委員が分からない",
    ),
    (
        "form-meeting-mismatch",
        E,
        "Workbook of another meeting",
        "この様式は会議「{form}」のものです（取り込み先は「{meeting}」）。会議の指定か、ファイルを確認してください。",
        "別の会議の様式",
    ),
    (
        "reply-department-unknown",
        E,
        "Department of a reply workbook not recorded",
        "どの課の回答票か分かりません（hyoka が作った回答票の記録がないか、課が計画にありません）。"
        "hyoka replies forms で作った回答票に記入してもらってください。",
        "回答票の課が分からない",
    ),
    (
        "reply-opinion-unknown",
        E,
        "Reply to an opinion not routed to the department",
        "意見ID「{key}」はこの会議でこの課に回付された意見にありません（行の追加・複写、または古い回答票）。"
        "配布した回答票の行に記入してください。",
        "回付されていない意見への回答",
    ),
    (
        "reply-blank",
        E,
        "Reply blank",
        "対応・市の考え方が空欄です。意見への対応と市の考え方を記入してください。",
        "対応・市の考え方が空欄",
    ),
)

# Japanese titles of the rows above that do not carry one themselves (README table, docs).
TITLES_JA: dict[str, str] = {
    "sheet-key-unknown": "評価シートの定義の知らない名前",
    "sheet-value-missing": "評価シートの定義に必要な項目がない",
    "sheet-value-type": "評価シートの定義の値の書き方の誤り",
    "sheet-value-invalid": "評価シートの定義に使えない値",
    "sheet-levels-count": "階層の数が1～4でない",
    "sheet-duplicate": "評価シートの定義の重複",
    "sheet-column-unknown": "定義にない列の参照",
    "sheet-column-kind": "種類の合わない列の参照",
    "sheet-scale-unknown": "定義にない評価基準",
    "sheet-scale-invalid": "評価基準の定義の誤り",
    "sheet-cycle": "計算する列が互いに参照",
    "sheet-value-not-in-column": "列がとらない値",
    "sheet-bands-overlap": "評価の目安の範囲の重なり",
    "sheet-bands-gap": "評価の目安の範囲のすき間",
    "sheet-range-invalid": "最小値が最大値より大きい",
    "sheet-no-input": "担当課が記入する列がない",
    "sheet-plan-column-missing": "計画マスタに必要な列がない",
    "column-required": "必須の欄が空欄",
    "column-required-when": "条件により必須の欄が空欄",
    "number-not-a-number": "数値でない値",
    "number-normalized": "数値を読み替え",
    "number-out-of-range": "範囲外の数値",
    "number-too-many-decimals": "小数の桁が多すぎる",
    "choice-not-in-list": "選択肢にない値",
    "choice-normalized": "選択肢を読み替え",
    "rating-differs-from-proposal": "目安と異なる評価（理由なし）",
    "computed-not-available": "計算できない値",
    "joint-value-conflict": "共同の行の値が課の間で異なる",
    "diff-column-unknown": "比べられない列",
    "joint-value-differs": "共同の行の値が受付済みの課と異なる",
    "plan-predecessor-unknown": "前の版にない旧事業No・旧担当課",
    "plan-rename-unknown": "課名の変更に知らない課名",
    "plan-rename-suspected": "登録されていない課名の変更",
    "plan-stored-row-orphaned": "保存済みの行が新しい版に引き継がれない",
    "plan-working-copy-changed": "計画マスタが採用済みの版と異なる",
    "joint-rating-differs": "共同の行の評価が課の間で異なる",
    "import-joint-part-only": "共同の行の一部の課だけを取り込み",
    "joint-rating-resolved": "共同の行の評価がそろった",
    "form-name-other-department": "ファイル名と別の課の調査票",
    "year-not-in-forms": "調査票に年度の記録がない",
    "form-years-differ": "調査票の年度がそろわない",
    "plan-heading-missing": "計画マスタの見出しがない",
    "plan-cell-blank": "計画マスタの必須の欄が空欄",
    "plan-project-conflict": "同じ事業Noに別の事業名・施策",
    "plan-measure-conflict": "同じ施策が二つの基本施策に",
    "plan-duplicate-row": "事業No・担当課の重複",
    "value-is-date": "Excelが日付に変えた番号",
    "plan-new-flag-unknown": "「新規」欄の値が不明",
    "plan-empty": "計画マスタに行がない",
    "file-not-found": "ファイルが見つからない",
    "file-not-excel": "Excelのブックではない",
    "file-old-xls": "読めない .xls",
    "file-encrypted": "パスワード付きのブック",
    "file-strict-ooxml": "Strict Open XML 形式のブック",
    "file-not-a-form": "調査票ではないファイル",
    "file-archive": "圧縮ファイル",
    "file-feedback-copy": "直されていない指摘の写し",
    "sheet-several-forms": "調査票のシートが複数",
    "feedback-converted": "指摘の写しを .xlsx で作成",
    "file-corrupt": "壊れたファイル",
    "file-too-large": "大きすぎるファイル",
    "file-lock": "Excelの一時ファイル",
    "file-duplicate": "同じ内容のファイルを受付済み",
    "sheet-not-found": "調査票のシートがない",
    "form-year-mismatch": "別の年度の調査票",
    "file-older-than-current": "受付済みより古いファイル",
    "form-plan-changed": "別の版の計画マスタから作った調査票",
    "form-department-unknown": "提出課を特定できない",
    "file-too-many-rows": "行が多すぎるシート",
    "internal-error": "想定外の問題",
    "feedback-failed": "指摘の写しを作れない",
    "row-without-project": "事業のない行",
    "project-unknown": "計画にない事業No",
    "department-unknown": "事業の担当課ではない課",
    "row-other-department": "他の課の行",
    "row-duplicate": "重複した行",
    "row-missing": "提出課の行がない",
    "rating-normalized": "事業評価を読み替え",
    "table-empty": "表に行がない",
    "import-rows-missing": "取り込む表にない計画の行",
    "rating-blank": "事業評価が空欄",
    "rating-not-in-scale": "評価基準にない事業評価",
    "formula-no-value": "計算結果のない数式",
    "achievement-blank": "事業実績・評価理由が空欄",
    "outlook-blank": "今後の事業計画・展望が空欄",
    "reason-missing": "評価に必要な今後の対応がない",
    "prior-rating-differs": "前年度事業評価が保存済みと違う",
    "prior-rating-on-new": "新規事業に前年度事業評価",
    "rating-jump": "評価が2段階以上変化",
    "joint-rating-conflict": "共同で報告する行の評価の不一致",
    "text-too-long": "長すぎる文章",
    "file-not-regular": "通常のファイルではない",
    "file-duplicate-superseded": "置き換え済みの版と同じ内容",
    "file-already-rejected": "差戻し済みと同じ内容",
    "older-file-accepted": "指定どおり古い版を受付",
    "current-dated-in-future": "受付済みの版の保存日時が未来",
    "file-dated-in-future": "保存日時が未来のファイル",
}
for _code, _title in TITLES_JA.items():
    if _code in CATALOGUE and not CATALOGUE[_code].title_ja:
        CATALOGUE[_code] = replace(CATALOGUE[_code], title_ja=_title)

# Department-facing wording (see ProblemType.for_department); a template may use only the fields
# of the code's message, so that either can be filled from the same values.
FOR_DEPARTMENT: dict[str, str] = {
    "form-year-mismatch": "この調査票は{form_year}のものです。{year}の調査票に記入して提出してください。",
    "file-older-than-current": (
        "この調査票は、すでに受け付けた版より前に保存されたものです（保存 {this}）。"
        "最新の内容にして、Excelで保存し直してから提出してください。"
    ),
    "form-plan-changed": (
        "この調査票は以前の版の様式で作られています。新しい調査票が届いている場合は、そちらに記入してください。"
    ),
    "form-department-unknown": (
        "どの課の調査票か特定できません（複数の課の行が混ざっているか、行がありません）。"
        "自課に配布された調査票に記入して提出してください。"
    ),
    "project-unknown": (
        "事業No.「{no}」は計画にありません。個別事業・取り組みの欄は書き換えず、配布時の内容に戻してください。"
    ),
    "department-unknown": "担当課の欄は書き換えず、配布時の「{expected}」に戻してください。",
    "outlook-blank": "今後の事業計画・展望が空欄です。次年度に向けた課題や検討内容を記入してください。",
    "prior-rating-differs": (
        "前年度事業評価の欄が「{form}」に書き換えられています（前年度の評価は「{stored}」です）。"
        "この欄は変更しないでください。"
    ),
    "rating-jump": (
        "事業評価が前年度の「{before}」から「{after}」へ{steps}段階変わっています。評価と評価理由に誤りがないか確認してください。"
    ),
    "file-corrupt": "ファイルが壊れていて読み込めません。Excelで開けるか確認し、保存し直して提出してください。",
    "joint-rating-differs": (
        "事業No.{no}（{department}）は共同で報告する行ですが、この調査票の{first}は「{first_rating}」、"
        "{second}は「{second_rating}」と評価が異なります。{second}と評価を揃えてください。"
    ),
    "reply-blank": "対応・市の考え方が空欄です。意見への対応と市の考え方を記入してください。",
    "reply-opinion-unknown": (
        "この行は配布した回答票の意見ではありません。行を追加・複写せず、配布した回答票の行に記入してください。"
    ),
    "form-name-other-department": (
        "ファイル名は{named}の調査票ですが、中の調査票は{submitter}のものです。自課の調査票か確認してください。"
    ),
}
for _code, _text in FOR_DEPARTMENT.items():
    CATALOGUE[_code] = replace(CATALOGUE[_code], for_department=_text)


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
    department_message: str | None = field(default=None, compare=False, repr=False)

    @property
    def for_department(self) -> str:
        """The message as the department should read it (the clerk's one where they are the same)."""
        return self.department_message or self.message

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
    for_department = kind.for_department.format(**params) if kind.for_department else None
    return Problem(
        code, kind.severity, kind.template.format(**params), file, sheet, cell, row, for_department
    )


class HyokaError(Exception):
    """A handled failure: the CLI prints the Japanese message and exits 1, without a traceback.

    The message never names a command-line option or a control of the web page. Where the way out
    is one of them, ``hint`` names it (a key of :data:`HINTS`) and each front end adds its own words:
    the CLI its option, the web page its control.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None and hint not in HINTS:
            raise ValueError(f"unknown hint {hint!r}")
        self.hint = hint


HINTS: dict[str, str] = {
    "draft": "make the document as a draft (案) anyway",
    "years": "name the two stored years to compare",
    "member": "name the members the workbooks are for",
    "init-plan": "name the plan master (or the sample) a new workspace starts from",
}
"""What a front end can offer the user beyond the message (its own words for each, see ``hint``)."""
