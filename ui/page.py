"""What the page adds to Gradio's own: the stylesheet `CSS` and the script `PAGE_JS`.

The script does three things the server cannot: a click on a [n] marker opens source n of the
same answer; opening a source scrolls its passage box to the first highlighted sentence and brings
that sentence into view; and when a turn starts or its answer is finished, the chat scrolls to show
it, also after the user scrolled (Gradio follows new messages only while the chat sits at its
bottom, which opening a source ends). It does not fetch anything. The markup it acts on is made
by `ui.render`; the chat's sanitiser drops `data-` attributes, so the script reads a marker's and a
source's number from their text ("[3]").
"""

from __future__ import annotations

CSS = """
.rag-answer .abstained { color: #7a5b00; background: #fff6d6; border-left: 4px solid #e0b000;
  padding: 6px 10px; border-radius: 4px; font-style: italic; }
.rag-answer .rewritten { font-size: 0.8em; color: #6b7280; margin: 0 0 6px 0; }
.rag-answer .error { color: #991b1b; background: #fee2e2; border-left: 4px solid #dc2626;
  padding: 6px 10px; border-radius: 4px; }
.rag-answer sup.cite { color: #1d4ed8; font-weight: 600; cursor: pointer; margin-left: 1px; }
.rag-answer sup.cite:hover { text-decoration: underline; }
.rag-answer .claim.unsupported { text-decoration: underline dotted #dc2626; }
.rag-answer sup.cite.unsupported, .rag-answer .unsupported-label { color: #b91c1c; }
.rag-answer .short-answer { font-weight: 600; }
.rag-answer .sources { margin-top: 8px; font-size: 0.92em; }
.rag-answer details.source { border: 1px solid #d1d5db; border-radius: 6px; padding: 4px 8px; margin: 4px 0; }
.rag-answer details.source.unsupported { border-color: #dc2626; }
.rag-answer details.source summary { cursor: pointer; }
.rag-answer .source-where, .rag-answer .also-in { color: #4b5563; }
.rag-answer .source-file, .rag-answer .also-in { color: #6b7280; font-family: monospace; font-size: 0.9em; }
.rag-answer .passage { margin: 6px 0 2px 0; line-height: 1.45; max-height: 12em; overflow-y: auto;
  overscroll-behavior: contain; }
.rag-answer mark.cited { background: #fde68a; padding: 0 1px; }
.rag-answer mark.cited.unsupported { background: #fecaca; text-decoration: underline wavy #dc2626; }
.rag-answer .pending { color: #6b7280; font-style: italic; }
table.article-list { width: 100%; font-size: 0.85em; border-collapse: collapse; }
table.article-list td, table.article-list th { border-bottom: 1px solid #e5e7eb; padding: 3px 4px; text-align: left; }
#status { font-size: 0.9em; color: #4b5563; }
#status p { margin: 0; }
#intro h2 { margin: 0 0 2px 0; }
#intro p { margin: 0; }
/* The chat fills the window less the header above and the question box below (about 250 px, more
   where the header wraps), so the question box shows without scrolling the page. */
#chat { height: min(600px, max(240px, calc(100dvh - 250px))) !important; }
@media (max-width: 640px) {
  #chat { height: max(240px, calc(100dvh - 300px)) !important; }
}
"""

#: Page script, run once when the page loads (Gradio's `launch(js=...)`).
PAGE_JS = r"""
() => {
  // Scrolls `box` as little as needed for `el` to show inside it, top first when it does not fit.
  const scrollWithin = (box, el, margin = 8) => {
    const b = box.getBoundingClientRect(), r = el.getBoundingClientRect();
    if (r.top < b.top + margin || r.height > b.height - 2 * margin) {
      box.scrollTop += r.top - b.top - margin;
    } else if (r.bottom > b.bottom - margin) {
      box.scrollTop += r.bottom - b.bottom + margin;
    }
  };
  const scroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const overflow = getComputedStyle(p).overflowY;
      if ((overflow === "auto" || overflow === "scroll") && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  };
  // An opened source: its passage box scrolls to the first highlighted sentence, and the chat and
  // the page scroll as little as needed to show the source and that sentence.
  const showSource = (source) => {
    const passage = source.querySelector(".passage");
    const mark = passage && passage.querySelector("mark.cited");
    if (mark) {
      passage.scrollTop += mark.getBoundingClientRect().top - passage.getBoundingClientRect().top - 8;
    }
    source.scrollIntoView({ block: "nearest" });
    if (mark) mark.scrollIntoView({ block: "nearest" });
  };
  const label = (el) => (/\[(\d+)\]/.exec(el ? el.textContent : "") || [])[1];
  document.addEventListener("click", (event) => {
    const marker = event.target.closest(".rag-answer sup.cite");
    if (!marker) return;
    const answer = marker.closest(".rag-answer");
    const n = label(marker);
    const source = n && [...answer.querySelectorAll("details.source")].find(
      (s) => label(s.querySelector("summary b")) === n);
    if (!source) return;
    if (source.open) showSource(source);
    else source.open = true;  // the toggle listener shows it
  });
  // "toggle" does not bubble: listen in the capture phase.
  document.addEventListener("toggle", (event) => {
    const source = event.target;
    if (source.matches && source.matches(".rag-answer details.source") && source.open) showSource(source);
  }, true);
  // The newest answer is shown when its turn starts and again when it is finished; not on every
  // streamed piece, so a reader can scroll back while an answer is being written.
  let shown = "";
  let queued = false;
  const showNewest = () => {
    queued = false;
    const answers = document.querySelectorAll("#chat .rag-answer");
    if (!answers.length) { shown = ""; return; }
    const newest = answers[answers.length - 1];
    const stage = newest.querySelector(".pending, .streaming") ? "writing" : "done";
    const state = `${answers.length}:${stage}`;
    if (state === shown) return;
    shown = state;
    const box = scroller(newest);
    if (box) scrollWithin(box, newest);
  };
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(showNewest); }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}
"""
