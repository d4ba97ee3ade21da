"""Article files in every format, written at test time (nothing binary is committed): a two-column
PDF with a running header, footer and page numbers, one-column PDFs, Word documents, an RSS and an
Atom feed, and a JSON Lines and a CSV export, each export with one bad row."""

from __future__ import annotations

import datetime as dt
import io
import json

import docx
import pypdf
from fpdf import FPDF

HEADER = "The Harbour Gazette - Local news"
FOOTER = "harbourgazette.example/local"
# Each page: (left column lines, right column lines). A blank line is extra spacing: a new paragraph.
PAGES = [
    (
        [
            "The council met on Monday to discuss the",
            "new budget for the harbour. Members",
            "argued for hours about the infor-",
            "mation the port authority gave them.",
            "",
            "Councillor Mira Tesk said the figures",
            "did not add up and asked for an audit.",
        ],
        [
            "Meanwhile fishing quotas fell by a third",
            "this spring, the ministry said. Boats",
            "stayed in port for most of the week.",
            "",
            "Skippers blamed the weather and the",
            "price of diesel for the quiet season.",
        ],
    ),
    (
        [
            "The audit will start in June and report",
            "before the autumn session. Until then",
            "no new berths will be dredged.",
        ],
        [
            "Tourism on the waterfront grew by ten",
            "per cent, helped by the new ferry line",
            "to the islands.",
        ],
    ),
]
LEFT_SENTENCE = "The council met on Monday to discuss the new budget for the harbour."
RIGHT_SENTENCE = "Meanwhile fishing quotas fell by a third this spring, the ministry said."


def two_column_pdf(metadata: bool = True) -> bytes:
    """A two-page, two-column article whose rows are drawn across both columns at once (so reading
    in drawing order interleaves them), under a headline, with a running header, footer and page number."""

    class Paper(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=9)
            self.set_xy(10, 8)
            self.cell(95, 6, HEADER)
            self.set_xy(105, 8)
            self.cell(95, 6, "Thursday edition", align="R")

        def footer(self) -> None:
            self.set_font("Helvetica", size=9)
            self.set_xy(10, -18)
            self.cell(190, 5, FOOTER, align="C")
            self.set_xy(10, -12)
            self.cell(190, 5, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Paper()
    if metadata:
        pdf.set_title("Harbour budget row deepens")
        pdf.set_author("Jane Doe")
        pdf.set_creation_date(dt.datetime(2025, 5, 15, 9, 30, tzinfo=dt.timezone.utc))
    for number, (left, right) in enumerate(PAGES):
        pdf.add_page()
        y = 24
        if number == 0:
            pdf.set_font("Helvetica", "B", 16)
            pdf.set_xy(10, y)
            pdf.cell(190, 9, "Harbour budget row deepens")
            y += 16
        pdf.set_font("Helvetica", size=11)
        for row in range(max(len(left), len(right))):
            for x, column in ((10, left), (110, right)):
                if row < len(column) and column[row]:
                    pdf.set_xy(x, y + row * 6)
                    pdf.cell(90, 6, column[row])
    return bytes(pdf.output()) if metadata else _without_information(bytes(pdf.output()))


def single_column_pdf(lines: list[str], **options) -> bytes:
    """One page of `lines`, in one column; no document information unless `options` asks for a password."""
    pdf = FPDF()
    if options.get("password"):
        pdf.set_encryption(owner_password="owner", user_password=options["password"])
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for i, line in enumerate(lines):
        pdf.set_xy(10, 20 + i * 6)
        pdf.cell(190, 6, line)
    if options.get("drawing"):
        pdf.rect(20, 20, 120, 160, style="F")
    return bytes(pdf.output()) if options.get("password") else _without_information(bytes(pdf.output()))


def _without_information(data: bytes) -> bytes:
    """The PDF without its document information (fpdf2 always writes a creation date)."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(data))
    writer.metadata = None
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def word_document(properties: bool = True) -> bytes:
    document = docx.Document()
    if properties:
        document.core_properties.title = "Mayor opens the new library"
        document.core_properties.author = "Jane Doe"
        document.core_properties.created = dt.datetime(2025, 3, 2, 10, 0, tzinfo=dt.timezone.utc)
        document.add_paragraph("Library opens")
    else:
        document.add_heading("Ferry service resumes", level=1)
        document.add_paragraph("Published 4 April 2025")
    document.add_paragraph("The mayor cut the ribbon on Saturday morning.")
    document.add_paragraph("")
    document.add_paragraph("Some 2,000 books were\ndonated by residents.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Harbour Gazette</title><link>https://harbour.example/</link>
<item>
  <title>Port strike ends</title>
  <link>https://harbour.example/news/port-strike-ends</link>
  <guid isPermaLink="false">hg-2025-0515-001</guid>
  <pubDate>Thu, 15 May 2025 10:32:00 +0100</pubDate>
  <dc:creator>Jane Doe</dc:creator>
  <description>&lt;p&gt;Dock workers returned to work on &lt;b&gt;Tuesday&lt;/b&gt;.&lt;/p&gt;&lt;p&gt;The union accepted a 5% raise &amp;amp; shorter shifts.&lt;/p&gt;</description>
</item>
<item>
  <title>Ferry timetable changes</title>
  <link>https://harbour.example/news/ferry?id=7&amp;lang=en</link>
  <pubDate>Fri, 16 May 2025 08:00:00 GMT</pubDate>
  <author>desk@harbour.example (John Roe)</author>
  <content:encoded><![CDATA[<p>The island ferry will leave at 7:15 from June.</p><script>x()</script>]]></content:encoded>
</item>
<item>
  <title>Photo of the day</title>
  <link>https://harbour.example/photo</link>
</item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Coast Wire</title>
  <entry>
    <title type="html">Storm &lt;em&gt;closes&lt;/em&gt; coast road</title>
    <link rel="alternate" href="https://coast.example/storm"/>
    <link rel="edit" href="https://coast.example/edit/1"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <published>2025-05-20T06:00:00Z</published>
    <updated>2025-05-21T06:00:00Z</updated>
    <author><name>Ann Poe</name></author>
    <author><name>Carlos Ruiz</name></author>
    <content type="html">&lt;p&gt;The coast road was closed after a landslide.&lt;/p&gt;&lt;p&gt;It reopens on Friday.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Lighthouse keepers elect a chair</title>
    <link href="https://coast.example/keepers"/>
    <id>tag:coast.example,2025:keepers</id>
    <updated>2025-05-22T12:00:00Z</updated>
    <summary>The keepers of the Orlen lighthouse elected Mira Tesk as their chair.</summary>
  </entry>
</feed>
"""

JSONL_ROWS = [
    json.dumps(
        {
            "id": "a-1",
            "headline": "Council backs audit",
            "body": "The council voted for an audit of the harbour budget.\n\nIt reports in autumn.",
            "published": "2025-05-15T09:00:00Z",
            "byline": "Jane Doe",
            "link": "https://harbour.example/audit",
        }
    ),
    json.dumps(
        {
            "Title": "Quotas fall",
            "Text": "Fishing quotas fell by a third.",
            "Date": "16 May 2025",
            "Author": ["Ann Poe", "John Roe"],
            "URL": "https://harbour.example/quotas",
        }
    ),
    '{"title": "Broken", "text": "missing brace"',
    json.dumps({"content": ["First paragraph here.", "Second one."]}),
]

CSV_TEXT = (
    "id,headline,published,byline,url,body\n"
    'c-1,Dredging paused,2025-05-10,Jane Doe,https://harbour.example/dredge,"Dredging stopped.\n\nIt resumes in June."\n'
    "c-2,Too few fields,2025-05-11\n"
    'c-3,Berths sold,"Mon, 12 May 2025 10:00:00 GMT",Ann Poe,,All berths were sold.\n'
)
