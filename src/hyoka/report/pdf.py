"""PDF copies through LibreOffice (``soffice --headless``), when it is installed.

LibreOffice runs with a profile folder of its own in a temporary directory: a clerk's open LibreOffice
(or a previous crashed run) would otherwise hold the profile lock and the conversion would silently do
nothing. Files are converted into a temporary folder and moved into place atomically.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hyoka.files import atomic_write_bytes

TIMEOUT_S = 300
HOW_TO_GET = (
    "PDFは作成しませんでした: LibreOffice（soffice）が見つかりません。"
    "https://ja.libreoffice.org/ からインストールするか（Debian/Ubuntu では "
    "`sudo apt-get install libreoffice-writer fonts-morisawa-bizud-mincho fonts-morisawa-bizud-gothic`）、"
    "作成した .docx をWordで開いて「名前を付けて保存」→「PDF」で保存してください。"
)


def find_soffice() -> str | None:
    """soffice on PATH, or where the Windows and macOS installers put it."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    candidates = [
        Path(os.environ.get("PROGRAMFILES", r"C:\Program Files")) / "LibreOffice" / "program" / "soffice.exe",
        Path(os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)"))
        / "LibreOffice"
        / "program"
        / "soffice.exe",
        Path("/Applications/LibreOffice.app/Contents/MacOS/soffice"),
    ]
    return next((str(c) for c in candidates if c.is_file()), None)


# Tagged PDF (a structure tree for screen readers, as JIS X 8341-3 asks of published documents) with
# the document's title shown in the window; fonts are embedded by LibreOffice's PDF export anyway.
TAGGED_FILTER = (
    'pdf:writer_pdf_Export:{"UseTaggedPDF":{"type":"boolean","value":"true"},'
    '"DisplayPDFDocumentTitle":{"type":"boolean","value":"true"},'
    '"ExportBookmarks":{"type":"boolean","value":"true"}}'
)


DOCX_KEPT = ".docx は作成済みです。"


def convert(
    files: Sequence[Path],
    out_dir: Path,
    *,
    soffice: str | None = None,
    tagged: bool = False,
    kept: str = DOCX_KEPT,
) -> tuple[list[Path], str]:
    """Convert ``files`` to PDF in ``out_dir``; returns the PDFs and a notice ('' when all went well).

    ``tagged`` writes tagged PDF for publication (LibreOffice 7.4 or newer reads the filter options).
    ``kept``: what a failure notice adds about the documents (publication keeps none: '').
    """
    exe = soffice or find_soffice()
    if exe is None:
        return [], HOW_TO_GET
    with tempfile.TemporaryDirectory(prefix="hyoka-pdf-") as tmp:
        tmp_dir = Path(tmp)
        profile = (tmp_dir / "profile").as_uri()
        cmd = [
            exe,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            TAGGED_FILTER if tagged else "pdf",
            "--outdir",
            str(tmp_dir / "pdf"),
            *(str(f) for f in files),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            return [], f"PDFの作成が{TIMEOUT_S}秒で終わらなかったため中止しました。{kept}"
        except OSError as exc:
            return [], f"LibreOffice を起動できませんでした（{exc}）。{kept}"
        written: list[Path] = []
        failed: list[str] = []
        for f in files:
            src = tmp_dir / "pdf" / f"{f.stem}.pdf"
            if src.is_file():
                written.append(atomic_write_bytes(out_dir / src.name, src.read_bytes()))
            else:
                failed.append(f.name)
    if failed:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        return written, f"PDFにできなかったファイルがあります: {'、'.join(failed)}（{' '.join(detail)}）"
    return written, ""
