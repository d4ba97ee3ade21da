"""`Answer` → the HTML of one chat message: the answer, the rewritten question, the numbered sources.

Every piece of text that comes from an article, a model or a user is escaped with `html.escape`
before it is placed in markup, so an article holding `<script>` shows that text and runs nothing.
The markup holds no blank lines, so the chat's Markdown renderer passes it through as one HTML
block. It does not fetch anything, and it knows nothing of Gradio (the page's CSS and script are
in `ui.page`).
"""

from __future__ import annotations

import html
import re
from datetime import date

from rag.records import Answer, Citation, Claim, Passage


def answer_html(answer: Answer, rewritten: str | None = None, show_passages: bool = False) -> str:
    """The finished chat message for `answer`. `rewritten` is the standalone question, shown in small
    print when the user's own question was a follow-up; `show_passages` adds the retrieved passages
    that no citation points to."""
    parts = [_rewritten_html(rewritten)]
    if answer.abstained:
        parts.append(f'<div class="abstained">{_text(answer.text)}</div>')
    else:
        short = " short-answer" if answer.short_answer else ""
        parts.append(f'<div class="answer-text{short}">{claims_html(answer.claims)}</div>')
    cited = [p for p in answer.passages if any(c.n == p.n for c in answer.citations)]
    if cited:
        items = "".join(source_html(p, [c for c in answer.citations if c.n == p.n]) for p in cited)
        parts.append(f'<div class="sources"><div class="sources-title">Sources</div>{items}</div>')
    uncited = [p for p in answer.passages if p not in cited]
    if show_passages and uncited:
        items = "".join(source_html(p, []) for p in uncited)
        parts.append(f'<div class="sources retrieved"><div class="sources-title">Also retrieved</div>{items}</div>')
    return _wrap("".join(parts))


def streaming_html(text: str, rewritten: str | None = None) -> str:
    """A message still being written: the text so far and a cursor, or a note while there is none."""
    if not text:
        return _wrap(f'{_rewritten_html(rewritten)}<div class="pending">Searching the articles…</div>')
    return _wrap(f'{_rewritten_html(rewritten)}<div class="answer-text streaming">{_text(text)}▍</div>')


def waiting_html() -> str:
    """A question asked while the app is still loading: it is answered once loading is done."""
    return _wrap('<div class="pending">Loading the articles and models; your question is next…</div>')


def error_html(message: str) -> str:
    """A one-line error in place of an answer."""
    return _wrap(f'<div class="error">⚠ {html.escape(message.splitlines()[0] if message else "Error")}</div>')


def claims_html(claims: tuple[Claim, ...]) -> str:
    """Each claim's text, escaped, followed by one superscript marker per passage it cites ("[1, 3]"
    becomes [1][3]); a claim its cited passages do not support is underlined and its markers flagged.
    A marker's `data-n` names the source it opens when clicked."""
    out = []
    for claim in claims:
        flagged = claim.supported is False
        markers = "".join(_marker(n, flagged) for n in claim.labels)
        cls = "claim unsupported" if flagged else "claim"
        out.append(f'<span class="{cls}">{_text(claim.text)}</span>{markers}')
    return " ".join(out)


def _marker(n: int, unsupported: bool) -> str:
    if unsupported:
        title = "The cited passage does not support this sentence"
        return f'<sup class="cite unsupported" data-n="{n}" title="{title}">[{n}]⚠</sup>'
    return f'<sup class="cite" data-n="{n}" title="Open source {n}">[{n}]</sup>'


def source_html(passage: Passage, citations: list[Citation]) -> str:
    """One numbered source: as the summary, what tells it apart (headline, date, byline, where in the
    article, the file and its other copies); as the body, the passage with its cited sentences
    highlighted."""
    bad = any(c.supported is False for c in citations)
    cls = "source unsupported" if bad else "source"
    label = ' <span class="unsupported-label">⚠ not supported by the answer sentence</span>' if bad else ""
    byline = f"by {passage.author}" if passage.author else ""
    where = " · ".join(filter(None, [people_date(passage.published), byline, paragraphs_label(passage.paragraphs)]))
    also = f' <span class="also-in">also in: {_text(", ".join(passage.also_in))}</span>' if passage.also_in else ""
    summary = (
        f"<summary><b>[{passage.n}]</b> {_text(passage.title)} "
        f'<span class="source-where">— {_text(where)}</span> '
        f'<span class="source-file">{_text(passage.source)}</span>{also}{story_link(passage.url)}{label}</summary>'
    )
    body = f'<div class="passage">{highlighted_passage(passage, citations)}</div>'
    return f'<details class="{cls}" data-n="{passage.n}">{summary}{body}</details>'


def story_link(url: str | None) -> str:
    """A link that opens the story's own page in a new tab; "" unless `url` is an http(s) address.
    Nothing is fetched: the reader's browser opens it when clicked."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return ""
    return (
        f' <a class="story-link" href="{html.escape(url, quote=True)}" target="_blank" '
        'rel="noopener noreferrer">open the story ↗</a>'
    )


# Month names of our own: strftime's %B follows the server's locale.
MONTHS = "January February March April May June July August September October November December".split()


def people_date(published: str | None) -> str:
    """An ISO date as people write it ("2025-05-15" → "15 May 2025"); "" for None, and any other
    text as it is."""
    if not published:
        return ""
    try:
        day = date.fromisoformat(published)
    except ValueError:
        return published
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def paragraphs_label(paragraphs: tuple[int, int]) -> str:
    """Where in the article a passage is: "paragraph 2", or "paragraphs 3-5"."""
    first, last = paragraphs
    return f"paragraph {first}" if first == last else f"paragraphs {first}-{last}"


def counted(n: int, noun: str) -> str:
    """ "1 article", "2 articles", "0 articles" (the nouns counted here take an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def highlighted_passage(passage: Passage, citations: list[Citation]) -> str:
    """The passage text, escaped, with each cited span (article offsets) wrapped in <mark>."""
    spans = []
    for c in citations:
        start, end = max(c.start - passage.start, 0), min(c.end - passage.start, len(passage.text))
        if start < end:
            spans.append((start, end, c.supported is False))
    spans.sort()
    out, pos = [], 0
    for start, end, unsupported in spans:
        start = max(start, pos)  # overlapping citations: highlight the rest of the later one
        if start >= end:
            continue
        out.append(_text(passage.text[pos:start]))
        cls = "cited unsupported" if unsupported else "cited"
        out.append(f'<mark class="{cls}">{_text(passage.text[start:end])}</mark>')
        pos = end
    out.append(_text(passage.text[pos:]))
    return "".join(out)


def articles_html(rows: list[tuple[str, str, int]]) -> str:
    """The library table: one row per indexed article (title, file, chunks), under a count."""
    if not rows:
        return '<p class="no-articles">No articles indexed yet.</p>'
    chunks = sum(n for _, _, n in rows)
    body = "".join(
        f'<tr><td>{_text(title)}</td><td class="source-file">{_text(source)}</td><td>{counted(n, "chunk")}</td></tr>'
        for title, source, n in rows
    )
    count = f'<p class="article-count">{counted(len(rows), "article")}, {counted(chunks, "chunk")}</p>'
    return f'{count}<table class="article-list"><tr><th>Title</th><th>File</th><th>Chunks</th></tr>{body}</table>'


def _rewritten_html(rewritten: str | None) -> str:
    if not rewritten:
        return ""
    return f'<div class="rewritten">Searched for: “{_text(rewritten)}”</div>'


def _text(text: str) -> str:
    """Escaped text whose line breaks survive inside one HTML block (no blank lines)."""
    escaped = html.escape(text, quote=True)
    # `$` and `\` are escaped too, so no LaTeX or Markdown escape processing can pick them up.
    escaped = escaped.replace("$", "&#36;").replace("\\", "&#92;")
    return re.sub(r"\n\s*\n", "<br><br>", escaped).replace("\n", "<br>")


def _wrap(inner: str) -> str:
    return f'<div class="rag-answer">{inner}</div>'
