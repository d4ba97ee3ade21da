"""The folding stage: one story, one source. Hits from an older copy of a story are dropped when its
newest copy is among the hits too.

`rag.ingest` marks copies (the same wire story in two files, or a story and its update, found by
`rag.duplicates`): the newest copy, by the date the article states and then by file time, carries
the others as `also_in`, and each older copy names it as `copy_of`. An older copy's hit survives
only when no hit of the newest copy does, since it may hold a paragraph the update dropped. The
labelled passage of the newest copy shows the others ("also in: …"). It does not merge text.
"""

from __future__ import annotations

from rag.records import Hit
from rag.store import Store


def fold_copies(hits: list[Hit], store: Store) -> list[Hit]:
    present = {h.chunk.source for h in hits}
    return [h for h in hits if (newest := store.copy_of(h.chunk.source)) is None or newest not in present]
