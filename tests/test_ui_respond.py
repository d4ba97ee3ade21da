"""The chat turn (`ui.respond.respond`) on a real index, and the HTML it renders (`ui.render`)."""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.errors import RagError
from rag.records import Answer, Citation, Claim, Passage
from rag.settings import Settings
from ui.render import answer_html, claims_html, highlighted_passage
from ui.respond import GENERIC_ERROR, Shared, message_text, respond

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"
HOSTILE = (
    "Harbour <script>alert('headline')</script> news\n\n"
    "The harbour master of Port Quillan is Ada <b>Vexley</b>, appointed in <script>document.title='x'</script> May.\n"
    '<img src=x onerror="alert(1)"> Boats moor at $5 a night.\n'
)


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    root = tmp_path_factory.mktemp("respond")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    (docs / "harbour.txt").write_text(HOSTILE, encoding="utf-8")
    shared = Shared(Settings.from_env(env={}, docs_dir=docs, index_dir=root / "index"))
    shared.refresh()
    return shared


def final(message: str, pipelines: Shared, history=None, **options) -> tuple[list[list[dict]], str]:
    """Every chat state `respond` yields, and the last assistant message's HTML."""
    states = list(respond(message, history or [], pipelines, **options))
    last = states[-1][-1]
    assert last["role"] == "assistant"
    return states, last["content"]


def test_answer_streams_then_shows_the_cited_sentence(pipelines):
    states, content = final("Who led Russia's delegation?", pipelines)
    assert len(states) >= 2
    assert states[0][-2] == {"role": "user", "content": "Who led Russia's delegation?"}
    assert "Searching the articles" in states[0][-1]["content"]
    assert "Medinsky" in content and "abstained" not in content
    # the trained reader gives the short answer, cited, with its whole sentence quoted in the source
    assert re.search(r'<div class="answer-text short-answer"><span class="claim">[^<]*Medinsky</span><sup', content)
    answer = pipelines.pipeline.ask("Who led Russia's delegation?", pipelines.answerer(None))
    citation = answer.citations[0]
    passage = next(p for p in answer.passages if p.n == citation.n)
    highlighted = re.search(r'<mark class="cited">(.*?)</mark>', content).group(1)
    expected = passage.text[citation.start - passage.start : citation.end - passage.start]
    assert html.unescape(highlighted) == expected == citation.quote
    assert f"<b>[{citation.n}]</b> {html.escape(passage.title)}" in content
    assert html.escape(passage.source) in content


def test_abstention_looks_different(pipelines):
    _, content = final("What is the boiling point of liquid nitrogen?", pipelines)
    assert 'class="abstained"' in content and "could not find" in content
    assert "<mark" not in content


def test_follow_up_is_rewritten_and_shown_in_small_print(pipelines):
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Who led Russia's delegation?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "<div>…Medinsky…</div>"}]},
    ]
    states, content = final("And who led Ukraine's?", pipelines, history)
    assert states[-1][:2] == history
    assert "Searched for: “Who led Ukraine&#x27;s delegation?”" in content
    # retrieval and answering used the standalone question
    expected = pipelines.pipeline.ask("Who led Ukraine's delegation?", pipelines.answerer(None))
    assert claims_html(expected.claims) in content


def test_standalone_question_shows_no_rewrite(pipelines):
    _, content = final("Who led Russia's delegation?", pipelines)
    assert "Searched for" not in content


def test_article_markup_is_escaped(pipelines):
    _, content = final("Who is the harbour master of Port Quillan?", pipelines)
    assert "Vexley" in content
    assert "&lt;script&gt;" in content and "&lt;b&gt;Vexley&lt;/b&gt;" in content
    tags = set(re.findall(r"</?([a-zA-Z0-9]+)", content))
    assert tags <= {"div", "sup", "details", "summary", "b", "span", "mark", "br"}


def test_show_passages_adds_the_uncited_passages(pipelines):
    _, hidden = final("Who led Russia's delegation?", pipelines, k=3, show_passages=False)
    _, shown = final("Who led Russia's delegation?", pipelines, k=3, show_passages=True)
    assert "Also retrieved" not in hidden
    assert "Also retrieved" in shown and shown.count("<details") > hidden.count("<details")


@pytest.mark.parametrize(
    "message, options, expected",
    [
        ("   ", {}, "The question is empty"),
        ("x" * 2001, {}, "the limit is 2000"),
        ("Who led Russia's delegation?", {"model_path": "/nonexistent/model.gguf"}, "Choose a model from the list"),
        ("Who led Russia\ud800s delegation?", {}, "not UTF-8 text"),
        # not a user error: a bad k from a broken client; the turn ends with the generic line
        ("Who led Russia's delegation?", {"k": "many"}, GENERIC_ERROR),
    ],
)
def test_a_failing_turn_ends_with_one_error_line_and_the_next_turn_works(pipelines, message, options, expected):
    _, content = final(message, pipelines, **options)
    assert 'class="error"' in content and html.escape(expected, quote=True) in content
    assert "<br>" not in content
    _, after = final("Who led Russia's delegation?", pipelines)
    assert "Medinsky" in after


@pytest.mark.parametrize(
    "since, until, expected",
    [
        ("2025-13-01", "", "“Articles dated from” must be a date like 2025-05-15, got '2025-13-01'."),
        ("", "yesterday", "“to” must be a date like 2025-05-15, got 'yesterday'."),
        ("20250501", "", "“Articles dated from” must be a date like 2025-05-15, got '20250501'."),
        ("2025-06-01", "2025-05-01", "“Articles dated from” (2025-06-01) is after “to” (2025-05-01); swap them."),
        # well-formed, but these articles state no date: one line says so, and nothing is searched
        (" 2025-05-01 ", "", "no indexed article states a date from 2025-05-01 to today."),
        ("", "2025-05-31", "no indexed article states a date from any day to 2025-05-31."),
        ("", "", None),  # both empty: no filter
    ],
)
def test_the_date_fields_are_checked_and_a_bad_one_gets_one_line(pipelines, since, until, expected):
    index = pipelines.settings.index_dir
    before = {p: p.stat().st_mtime_ns for p in index.rglob("*")}
    states, content = final("Who led Russia's delegation?", pipelines, since=since, until=until)
    if expected is None:
        assert "Medinsky" in content and 'class="error"' not in content
    else:
        assert content == f'<div class="rag-answer"><div class="error">⚠ {html.escape(expected)}</div></div>'
        assert "Searching the articles" not in str(states)
    assert {p: p.stat().st_mtime_ns for p in index.rglob("*")} == before


@pytest.mark.parametrize(
    "message, expected",
    [
        ({"role": "user", "content": "plain"}, "plain"),
        ({"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, "a b"),
        ({"role": "user", "content": [{"type": "file", "file": {"path": "x.png"}}]}, ""),
        ({"role": "user", "content": {"type": "text", "text": "one part"}}, "one part"),
    ],
)
def test_message_text(message, expected):
    assert message_text(message) == expected


# --- rendering --------------------------------------------------------------------------------------


def passage(text: str, start: int = 100) -> Passage:
    return Passage(1, "d", "a.txt", "T", start, start + len(text), text, 0.5)


def citation(start: int, end: int, quote: str = "", supported: bool | None = None, n: int = 1) -> Citation:
    return Citation(n, "d", "a.txt", "T", start, end, quote, supported=supported)


@pytest.mark.parametrize(
    "text, spans, expected",
    [
        ("One. Two. Three.", [(105, 109, None)], 'One. <mark class="cited">Two.</mark> Three.'),
        ("One. Two.", [(100, 104, False)], '<mark class="cited unsupported">One.</mark> Two.'),
        ("A<b>. C.", [(100, 105, None)], '<mark class="cited">A&lt;b&gt;.</mark> C.'),
        # a span reaching past the passage is clipped; one entirely outside is ignored
        ("One. Two.", [(105, 150, None), (300, 310, None)], 'One. <mark class="cited">Two.</mark>'),
        # overlapping spans do not nest
        (
            "abcdef",
            [(100, 104, None), (102, 106, None)],
            '<mark class="cited">abcd</mark><mark class="cited">ef</mark>',
        ),
        ("a\nb", [], "a<br>b"),
    ],
)
def test_highlighted_passage(text, spans, expected):
    cites = [citation(s, e, supported=sup) for s, e, sup in spans]
    assert highlighted_passage(passage(text), cites) == expected


@given(st.text(alphabet=st.characters(exclude_characters="\n\r"), max_size=80), st.data())
def test_highlight_keeps_the_text_and_adds_only_marks(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    out = highlighted_passage(passage(text, start=0), [citation(start, end)])
    assert set(re.findall(r"<(/?[a-z]+)", out)) <= {"mark", "/mark"}
    assert html.unescape(re.sub(r"</?mark[^>]*>", "", out)) == text


def test_unsupported_claims_and_their_citations_are_marked():
    p = passage("Good sentence. Bad sentence.")
    answer = Answer(
        "q",
        (Claim("First claim.", (1,), True), Claim("Second claim.", (2,), False)),
        False,
        (citation(100, 114, "Good sentence.", True), citation(115, 128, "Bad sentence.", False, n=2)),
        (p, Passage(2, "d", "a.txt", "T", 100, 128, p.text, 0.4)),
        "llama.cpp:test",
    )
    out = answer_html(answer)
    assert '<span class="claim">First claim.</span><sup class="cite" data-n="1"' in out
    assert '<span class="claim unsupported">Second claim.</span><sup class="cite unsupported" data-n="2"' in out
    assert "⚠ not supported" in out and '<mark class="cited unsupported">Bad sentence.</mark>' in out


@pytest.mark.parametrize(
    ("claims", "markers"),
    [
        # "[1, 3]", "[1-2]" and "[1][2]" all reach the page as one styled marker per label.
        ((Claim("A.", (1, 3)),), [("1", ""), ("3", "")]),
        ((Claim("A.", (1, 2)),), [("1", ""), ("2", "")]),
        ((Claim("A.", (1,), True), Claim("B.", (1,), False)), [("1", ""), ("1", " unsupported")]),
        ((Claim("No marker."),), []),
    ],
)
def test_claims_become_one_marker_per_label_flagged_per_claim(claims, markers):
    out = claims_html(claims)
    assert re.findall(r'<sup class="cite( unsupported)?" data-n="(\d+)"', out) == [(m[1], m[0]) for m in markers]


def test_markers_parsed_from_model_text_render_per_label():
    from rag.citations import split_claims

    claims = split_claims("Medinsky led it [1, 3]. Umerov led Ukraine's [1-2]. Talks were held [1][2].", 3)
    out = claims_html(tuple(claims))
    assert re.findall(r'data-n="(\d+)"', out) == ["1", "3", "1", "2", "1", "2"]
    assert "[1, 3]" not in out and "[1-2]" not in out


def test_a_model_turn_streams_tokens_and_rewrites_with_the_rule_fallback(pipelines, tmp_path):
    """The real llama.cpp answerer on the tiny random GGUF: tokens stream, the turn ends cleanly, and
    the model's gibberish rewrite is discarded for the rule's."""
    from tiny_gguf import write_tiny_gguf

    model = write_tiny_gguf(tmp_path / "tiny.gguf")
    small = Shared(replace(pipelines.settings, max_tokens=24, models_dir=tmp_path), pipelines.pipeline)
    history = [{"role": "user", "content": "Who led Russia's delegation?"}, {"role": "assistant", "content": "…"}]
    states, content = final("And who led Ukraine's?", small, history, model_path=model)
    streamed = [s[-1]["content"] for s in states if "streaming" in s[-1]["content"]]
    assert streamed  # text showed before the answer was complete
    texts = [re.sub(r"<[^>]+>", "", c).rstrip("▍") for c in streamed]
    assert all(b.startswith(a) for a, b in zip(texts, texts[1:]))  # each update extends the last
    assert 'class="error"' not in content
    assert "Searched for: “Who led Ukraine&#x27;s delegation?”" in content


def test_only_offered_models_can_be_chosen_and_a_refusal_reveals_nothing(pipelines, tmp_path):
    """The .gguf files of the models folder (and the launch model) are offered; any other value is
    refused with the same line, whether the file exists or not."""
    from tiny_gguf import write_tiny_gguf

    models = tmp_path / "models"
    offered = write_tiny_gguf(models / "sub" / "tiny.gguf")
    write_tiny_gguf(models / ".hidden" / "skip.gguf")
    (models / "notes.txt").write_text("not a model")
    launch = write_tiny_gguf(tmp_path / "elsewhere.gguf")
    chooser = Shared(replace(pipelines.settings, models_dir=models, model_path=launch), pipelines.pipeline)
    assert chooser.models() == sorted([offered, launch])
    assert chooser.model_file(str(offered)) == offered and chooser.model_file(launch) == launch
    assert chooser.model_file("") is None and chooser.model_file(None) is None
    refusals = set()
    for value in (
        REPO / "README.md",
        tmp_path / "missing.gguf",
        models / "notes.txt",
        models / ".hidden" / "skip.gguf",
    ):
        with pytest.raises(RagError) as err:
            chooser.model_file(str(value))
        refusals.add(str(err.value))
    assert len(refusals) == 1 and "Choose a model from the list" in refusals.pop()
