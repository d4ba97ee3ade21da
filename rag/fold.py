"""One story, one source: copies marked at index time, folded at question time.

`mark_copies` (called by `rag.ingest`) groups the files that hold the same story (the same wire
story in two files, or a story and its update, found by `rag.duplicates` on the article bodies):
the newest copy, by the date the article states and then by file time, carries the others as
`also_in`, and each older copy names it as `copy_of`. `fold_copies`, a stage of the question, drops
an older copy's hits when a hit of the newest copy is there too; alone, an older copy's hit stays,
since it may hold a paragraph the update dropped. The labelled passage of the newest copy shows
the others ("also in: …"). It does not merge text.
"""

from __future__ import annotations

import base64

from rag.duplicates import Signature, copies
from rag.records import Article, Hit
from rag.store import Store


def fold_copies(hits: list[Hit], store: Store) -> list[Hit]:
    present = {h.chunk.source for h in hits}
    return [h for h in hits if (newest := store.copy_of(h.chunk.source)) is None or newest not in present]


def body_text(article: Article) -> str:
    """The article without its headline and page furniture: what copies are compared by."""
    return "\n\n".join(article.text[s:e] for s, e in article.body)


def mark_copies(files: dict[str, dict]) -> None:
    """Finds the files that hold the same story and marks, in their manifest entries, the newest copy
    (by the date the article states, then by file modification time) with `also_in` (the others)
    and each other copy with `copy_of` (the newest). Entries without a signature are left alone."""
    signatures = {s: Signature.from_bytes(base64.b64decode(e["minhash"])) for s, e in files.items() if "minhash" in e}
    for entry in files.values():
        entry.pop("copy_of", None)
        entry.pop("also_in", None)
    for group in copies(signatures):
        newest = max(group, key=lambda s: (files[s].get("published") or "", files[s].get("modified", 0.0), s))
        files[newest]["also_in"] = [s for s in group if s != newest]
        for source in group:
            if source != newest:
                files[source]["copy_of"] = newest
