"""`python -m eval.bench_formats`: how fast the format readers read, and in how much memory.

It writes synthetic files into a temporary folder, then times reading them (not embedding):
multi-page, two-column PDF articles with a running header and page numbers (made with fpdf2, the
`dev` extra), and a JSON Lines and a CSV export; then it reads a 100,000-row JSON Lines and CSV
export under tracemalloc and reports the readers' peak memory, which should not grow with the rows.
Figures are printed as one JSON object per line. It does not measure extraction quality
(tests/test_formats.py checks that) or the indexer.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

from rag.articles import read_article
from rag.formats import Skipped, read_items

WORDS = (
    "council harbour budget members argued information port authority fishing quotas fell third spring "
    "ministry boats stayed weather diesel season audit tourism waterfront ferry islands dredging berths "
    "union workers strike mayor library residents storm coast road landslide keepers lighthouse chair"
).split()


PARAGRAPHS_PER_PAGE = 16  # of `paragraph`'s 2-6 sentences, in two 10-point columns of an A4 page


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))


def write_pdf(path: Path, pages: int, rng: random.Random) -> int:
    """A two-column article of about `pages` pages with a running header and page numbers; its page count."""
    from fpdf import FPDF

    class Paper(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, "The Harbour Gazette | Local news", align="L")
            self.ln(8)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"Page {self.page_no()}", align="C")

    pdf = Paper()
    pdf.set_title(sentence(rng)[:60])
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    with pdf.text_columns(ncols=2, text_align="J", gutter=8) as columns:
        for _ in range(PARAGRAPHS_PER_PAGE * pages):  # laid out when the block closes
            columns.write(paragraph(rng) + "\n\n")
    pdf.output(str(path))
    return pdf.pages_count


def export_row(n: int, rng: random.Random) -> dict:
    return {
        "id": f"item-{n}",
        "title": sentence(rng)[:70],
        "date": f"2025-05-{1 + n % 28:02d}",
        "author": "Jane Doe",
        "url": f"https://news.example/{n}",
        "text": "\n\n".join(paragraph(rng) for _ in range(3)),
    }


def write_export(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as file:
        if path.suffix == ".csv":
            import csv

            writer = csv.writer(file)
            writer.writerow(["id", "title", "date", "author", "url", "text"])
            for n in range(rows):
                writer.writerow(export_row(n, rng).values())
        else:
            for n in range(rows):
                file.write(json.dumps(export_row(n, rng)) + "\n")


def read_count(path: Path) -> int:
    return sum(1 for item in read_items(path.name, path) if not isinstance(item, Skipped))


def bench_pdfs(folder: Path, count: int, pages: int) -> dict:
    rng = random.Random(0)
    paths = [folder / f"article{n}.pdf" for n in range(count)]
    total_pages = sum(write_pdf(path, pages, rng) for path in paths)
    data = [p.read_bytes() for p in paths]
    started = time.perf_counter()
    articles = [read_article(p.name, d) for p, d in zip(paths, data)]
    seconds = time.perf_counter() - started
    return {
        "reader": "pdf",
        "articles": len(articles),
        "pages": total_pages,
        "seconds": round(seconds, 3),
        "articles_per_s": round(len(articles) / seconds, 1),
        "pages_per_s": round(total_pages / seconds, 1),
        "mb": round(sum(map(len, data)) / 2**20, 2),
    }


def bench_export(folder: Path, name: str, rows: int) -> dict:
    path = folder / name
    write_export(path, rows, seed=1)
    started = time.perf_counter()
    count = read_count(path)
    seconds = time.perf_counter() - started
    return {
        "reader": path.suffix.lstrip("."),
        "articles": count,
        "seconds": round(seconds, 3),
        "articles_per_s": round(count / seconds),
        "mb": round(path.stat().st_size / 2**20, 1),
    }


def bench_memory(folder: Path, name: str, rows: int) -> dict:
    path = folder / name
    write_export(path, rows, seed=2)
    tracemalloc.start()
    try:
        count = read_count(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {
        "reader": path.suffix.lstrip("."),
        "articles": count,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "peak_traced_mb": round(peak / 2**20, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_formats", description=__doc__.split("\n")[0])
    parser.add_argument("--pdfs", type=int, default=10, help="PDF articles to read (default 10)")
    parser.add_argument("--pages", type=int, default=6, help="pages per PDF article (default 6)")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the timed exports (default 20,000)")
    parser.add_argument("--memory-rows", type=int, default=100_000, help="rows of the traced exports (default 100,000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        figures = [bench_pdfs(folder, args.pdfs, args.pages)]
        figures += [bench_export(folder, f"timed.{kind}", args.rows) for kind in ("jsonl", "csv")]
        figures += [bench_memory(folder, f"traced.{kind}", args.memory_rows) for kind in ("jsonl", "csv")]
    for figure in figures:
        print(json.dumps(figure), flush=True)


if __name__ == "__main__":
    main()
