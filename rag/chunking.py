"""`Article` → `Chunk`s: windows of whole sentences with overlap, as spans of the article's text.

Each body span of an article is cut into windows of consecutive sentences holding at most
`max_words` words. The next window starts with the trailing sentences of the previous one, up to
`overlap_words` words, so a fact that straddles a boundary is whole in at least one chunk. A
sentence longer than `max_words` words (a line that never ends with a full stop: a table, a list,
a dump) is first cut into pieces of `max_words` words at word boundaries, so no chunk holds more
than `max_words` words. Chunks never cross page furniture (body spans are chunked separately) and
cut a sentence only when it is too long. Each chunk carries its article's date and which body
paragraphs (blank-line separated, counted from 1 over the whole body) it covers, so a source can be
told apart from another of the same article ("paragraphs 3-5"). It does not look at meaning or
headings.
"""

from __future__ import annotations

import bisect
import re

from rag.records import Article, Chunk, content_id
from rag.sentences import count_words, split_sentences, word_spans

_BLANK_LINE = re.compile(r"\n\s*\n")


def chunk_article(article: Article, max_words: int = 160, overlap_words: int = 40) -> list[Chunk]:
    chunks = []
    starts = paragraph_starts(article)
    for body_start, body_end in article.body:
        sentences = cap_words(article.text, split_sentences(article.text, body_start, body_end), max_words)
        for first, last in sentence_windows(
            [count_words(article.text, s, e) for s, e in sentences], max_words, overlap_words
        ):
            start, end = sentences[first][0], sentences[last][1]
            chunks.append(
                Chunk(
                    chunk_id=content_id(article.doc_id, start, end),
                    doc_id=article.doc_id,
                    source=article.source,
                    title=article.title,
                    start=start,
                    end=end,
                    text=article.text[start:end],
                    published=article.published,
                    paragraphs=(bisect.bisect_right(starts, start), bisect.bisect_right(starts, end - 1)),
                )
            )
    return chunks


def paragraph_starts(article: Article) -> list[int]:
    """Where each body paragraph begins, in order: body spans split at blank lines."""
    starts = []
    for body_start, body_end in article.body:
        starts.append(body_start)
        starts.extend(m.end() for m in _BLANK_LINE.finditer(article.text, body_start, body_end))
    return starts


def cap_words(text: str, spans: list[tuple[int, int]], max_words: int) -> list[tuple[int, int]]:
    """`spans` of `text`, each one of more than `max_words` words cut into pieces of `max_words`
    words (the last may hold fewer). A piece runs from its first word to its last; the first piece
    keeps what precedes its first word in the span and the last what follows its last word."""
    capped = []
    for start, end in spans:
        found = word_spans(text, start, end)
        if len(found) <= max_words:
            capped.append((start, end))
            continue
        for first in range(0, len(found), max_words):
            last = min(first + max_words, len(found)) - 1
            capped.append((start if first == 0 else found[first][0], end if last == len(found) - 1 else found[last][1]))
    return capped


def sentence_windows(lengths: list[int], max_words: int, overlap_words: int) -> list[tuple[int, int]]:
    """Inclusive (first, last) sentence indexes of each window, given each sentence's word count.

    Windows cover every sentence, each window after the first starts no later than the previous
    one ended (overlap), and each window starts strictly after the previous one started (progress).
    """
    windows: list[tuple[int, int]] = []
    first = 0
    while first < len(lengths):
        last, words = first, lengths[first]
        while last + 1 < len(lengths) and words + lengths[last + 1] <= max_words:
            last += 1
            words += lengths[last]
        windows.append((first, last))
        if last == len(lengths) - 1:
            break
        # Step back over trailing sentences while they fit in the overlap, never to `first`.
        next_first, carried = last + 1, 0
        while next_first - 1 > first and carried + lengths[next_first - 1] <= overlap_words:
            next_first -= 1
            carried += lengths[next_first]
        first = next_first
    return windows
