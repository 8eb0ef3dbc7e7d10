"""Render every .docx under a folder to PDF and PNG pages, to look at them (``make preview``).

    python scripts/preview.py out/demo

writes ``out/demo/preview/<same relative path>.pdf`` and ``...-01.png`` … next to it, and lists the
fonts each PDF embeds (BIZ UD明朝 / BIZ UDゴシック should be there, nothing should be missing). Without
LibreOffice it says so and exits 0, so that ``make preview`` never fails on a machine without it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from hyoka.report.pdf import convert, find_soffice

DPI = "60"


def main() -> int:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo").resolve()
    if not folder.is_dir():
        print(f"preview: {folder} does not exist — run `make demo` first")
        return 0
    if find_soffice() is None:
        print(
            "preview: skipped — LibreOffice (soffice) is not installed. On Debian/Ubuntu: "
            "apt-get install libreoffice-writer-nogui fonts-morisawa-bizud-mincho "
            "fonts-morisawa-bizud-gothic poppler-utils"
        )
        return 0
    target = folder / "preview"
    docs = sorted(
        p for p in folder.rglob("*.docx") if target not in p.parents and not p.name.startswith("~$")
    )
    if not docs:
        print(f"preview: no .docx under {folder}")
        return 0
    pdftoppm, pdffonts = shutil.which("pdftoppm"), shutil.which("pdffonts")
    for doc in docs:
        out_dir = target / doc.parent.relative_to(folder)
        written, notice = convert([doc], out_dir)
        if notice:
            print(f"preview: {doc.name}: {notice}")
        for pdf in written:
            for old in out_dir.glob(f"{pdf.stem}-*.png"):
                old.unlink()
            pages = ""
            if pdftoppm:
                subprocess.run([pdftoppm, "-r", DPI, "-png", str(pdf), str(out_dir / pdf.stem)], check=True)
                pages = f", {len(list(out_dir.glob(f'{pdf.stem}-*.png')))} PNG pages"
            print(f"preview: {pdf.relative_to(folder)}{pages}")
            if pdffonts:
                print(_fonts(pdffonts, pdf))
    if not pdftoppm:
        print("preview: pdftoppm (poppler-utils) is not installed, so no PNG pages were made")
    return 0


def _fonts(pdffonts: str, pdf: Path) -> str:
    """One line: the font families embedded, and any that are not."""
    lines = subprocess.run(
        [pdffonts, str(pdf)], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    embedded, missing = set(), set()
    for line in lines[2:]:
        parts = line.split()
        if not parts:
            continue
        name = parts[0].split("+")[-1]
        # columns from the right: emb sub uni object ID (two fields)
        (embedded if parts[-5] == "yes" else missing).add(name)
    text = "    fonts: " + ", ".join(sorted(embedded))
    return text + (f"  NOT EMBEDDED: {', '.join(sorted(missing))}" if missing else "")


if __name__ == "__main__":
    sys.exit(main())
