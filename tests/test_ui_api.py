"""The chat's HTTP API called the way a script, or an attacker, would: `python -m ui` on a free port,
driven with plain HTTP requests and with gradio_client.

Only files that arrived through this page's upload become articles; a path to any other file the
server can read is refused and never copied. The model list cannot be used to learn whether a
server path exists. The date fields pick which articles are searched; a bad date gets one line.
"""

from __future__ import annotations

import json
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest
from ui_server import running_ui

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_681fe9c43916d851.txt"
SECRET = "Vault codes\n\nThe vault code of the Port Quillan bank is 7391.\n"
# Two stories that answer one question differently, a month apart.
DATED = {
    "harbour-may.txt": "Quillan names a harbour master\nPublished 3 May 2025\n\n"
    "The port authority of Quillan appointed Ada Vexley as harbour master on Friday.\n",
    "harbour-june.txt": "Quillan replaces its harbour master\nPublished 12 June 2025\n\n"
    "The port authority of Quillan appointed Brom Telling as harbour master on Thursday.\n",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The app over a copy of the seed article. Its Gradio upload folder is shared with another app
    (as /tmp/gradio is, by default, for every Gradio app of a user), which received secret.txt."""
    root = tmp_path_factory.mktemp("api")
    docs, models, shared = root / "docs", root / "models", root / "shared-gradio"
    for folder in (docs, models, shared / "other-app"):
        folder.mkdir(parents=True)
    shutil.copy(SEED, docs / SEED.name)
    planted = shared / "other-app" / "secret.txt"
    planted.write_text(SECRET)
    (root / "secret.txt").write_text(SECRET)  # a file of the server, outside any upload folder
    args = ["--docs", str(docs), "--index-dir", str(root / "index"), "--models-dir", str(models)]
    with running_ui(root, args, env={"GRADIO_TEMP_DIR": str(shared)}) as url:
        yield {"url": url, "root": root, "docs": docs, "planted": planted}


def call(url: str, endpoint: str, data: list, session: str | None = None) -> str:
    """Calls `endpoint` with a plain HTTP request (in browser session `session`, when given) and
    returns the event stream of its result."""
    request = urllib.request.Request(
        f"{url}gradio_api/call/{endpoint}",
        data=json.dumps({"data": data, "session_hash": session}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/{endpoint}/{event_id}", timeout=300) as response:
        return response.read().decode()


def file_reference(path: Path) -> dict:
    """How a client names a file it has uploaded: its path on the server."""
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}, "orig_name": path.name}


@pytest.mark.parametrize(
    "where",
    [
        "another app's upload in the shared upload folder",
        "a file of the server",
        "the project's own index/README.md",
        "the Python licence",
    ],
)
def test_add_files_refuses_a_file_that_was_not_uploaded_here(server, where: str) -> None:
    path = {
        "another app's upload in the shared upload folder": server["planted"],
        "a file of the server": server["root"] / "secret.txt",
        "the project's own index/README.md": REPO / "index" / "README.md",
        "the Python licence": Path(sys.base_prefix)
        / "lib"
        / f"python{sys.version_info[0]}.{sys.version_info[1]}"
        / "LICENSE.txt",
    }[where]
    assert path.is_file()
    events = call(server["url"], "add_files", [[file_reference(path)], False])
    assert "Added" not in events
    assert path.name not in {p.name for p in server["docs"].iterdir()}
    answer = ask(server["url"], "What is the vault code of the Port Quillan bank?")
    assert "7391" not in answer


def test_a_file_uploaded_through_the_page_is_added(server, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    article = tmp_path / "lighthouse.txt"
    article.write_text("Lighthouse keepers meet\n\nThe keepers of the Orlen lighthouse elected Mira Tesk as chair.\n")
    client = Client(server["url"], verbose=False)
    status, *_ = client.predict([handle_file(str(article))], False, api_name="/add_files")
    assert "Added lighthouse.txt" in status
    assert (server["docs"] / "lighthouse.txt").read_text() == article.read_text()


def ask(url: str, question: str, model: str | None = None, dates: tuple[str, str] | None = None) -> str:
    """The last chat message for `question` (with `model` as the answerer, and the date fields set to
    `dates`, when given), or the error the API returned instead. Without `dates` it calls /chat as
    callers did before the page had date fields."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(url, verbose=False)
    client.predict(question, api_name="/lambda")  # the page moves the question box into its state first
    try:
        chat, _status = client.predict(
            [], 5, "llama.cpp model" if model else "reader", model, False, False, *(dates or ()), api_name="/chat"
        )
    except AppError as err:
        return str(err)
    return str(chat[-1]["content"])


def test_a_question_that_is_not_text_gets_one_line_saying_so(server) -> None:
    # A lone surrogate, which JSON allows ("\\udcd5") and gradio_client would not send.
    call(server["url"], "lambda", ["Who led Russia\udcd5s delegation?"], session="surrogate")
    said = call(server["url"], "chat", [[], 5, "reader", None, False, False, "", ""], session="surrogate")
    assert "event: complete" in said
    assert "The question holds bytes that are not UTF-8 text" in said and "Something went wrong" not in said


@pytest.fixture(scope="module")
def dated_server(tmp_path_factory: pytest.TempPathFactory):
    """The app over the two dated harbour stories."""
    root = tmp_path_factory.mktemp("dated")
    docs = root / "docs"
    docs.mkdir()
    for name, text in DATED.items():
        (docs / name).write_text(text, encoding="utf-8")
    with running_ui(root, ["--docs", str(docs), "--index-dir", str(root / "index")]) as url:
        yield {"url": url, "index": root / "index"}


@pytest.mark.parametrize(
    ("dates", "said", "not_said"),
    [
        (("", "2025-05-31"), ["Vexley", "3 May 2025", "harbour-may.txt"], ["Brom", "harbour-june.txt", "error"]),
        (("2025-06-01", ""), ["Brom", "12 June 2025", "harbour-june.txt"], ["Vexley", "harbour-may.txt", "error"]),
        (
            ("2025-13-01", ""),
            ["⚠ “Articles dated from” must be a date like 2025-05-15, got &#x27;2025-13-01&#x27;."],
            ["harbour", "<br>"],
        ),
        (("2025-07-01", ""), ["⚠ no indexed article states a date from 2025-07-01 to today."], ["harbour", "<br>"]),
    ],
)
def test_the_date_fields_pick_the_articles_searched(dated_server, dates, said, not_said) -> None:
    index = {p: p.stat().st_mtime_ns for p in dated_server["index"].rglob("*")}
    answer = ask(dated_server["url"], "Who was appointed harbour master of Quillan?", dates=dates)
    assert all(text in answer for text in said), answer
    assert not any(text in answer for text in not_said), answer
    assert {p: p.stat().st_mtime_ns for p in dated_server["index"].rglob("*")} == index


def test_the_model_choice_does_not_tell_whether_a_server_path_exists(server) -> None:
    exists, missing = REPO / "README.md", REPO / "no-such-model.gguf"
    said = {path: ask(server["url"], "Who led Russia's delegation?", str(path)) for path in (exists, missing)}
    assert said[exists].replace(str(exists), "PATH") == said[missing].replace(str(missing), "PATH")
    for text in said.values():
        assert "exist" not in text and "GGUF" not in text and "# newsrag" not in text


@pytest.mark.parametrize(
    ("path", "accepted"),
    [
        ("uploads/abc/story.txt", True),
        ("uploads/abc/../abc/story.txt", True),
        ("uploads/abc/../../secret.txt", False),
        ("secret.txt", False),
        ("uploads/abc/link.txt", False),  # a link inside the folder to a file outside it
        ("uploads/abc", False),
        ("uploads/abc/missing.txt", False),
        ("uploads-other/story.txt", False),  # a sibling whose name starts the same
    ],
)
def test_uploaded_file(tmp_path: Path, path: str, accepted: bool) -> None:
    from rag.errors import RagError
    from ui.app import uploaded_file

    for name in ("uploads/abc/story.txt", "secret.txt", "uploads-other/story.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("text")
    (tmp_path / "uploads/abc/link.txt").symlink_to(tmp_path / "secret.txt")
    if accepted:
        assert uploaded_file(tmp_path / path, tmp_path / "uploads") == (tmp_path / "uploads/abc/story.txt").resolve()
        return
    with pytest.raises(RagError) as err:
        uploaded_file(tmp_path / path, tmp_path / "uploads")
    assert (
        str(err.value)
        == f"{Path(path).name} did not arrive through this page's upload; add articles with the upload box."
    )


def test_the_library_status_tells_of_a_repaired_index(docs: Path, tmp_path: Path) -> None:
    from rag.settings import Settings
    from ui.app import _refresh
    from ui.respond import Shared

    pipelines = Shared(Settings.from_env(env={}, docs_dir=docs, index_dir=tmp_path / "index"))
    assert _refresh(pipelines).startswith("Index up to date: 1 article, 10 chunks.")
    live = tmp_path / "index" / (tmp_path / "index" / "CURRENT").read_text().strip()
    (live / "chunks.jsonl").write_text("")
    (docs / "late.txt").write_text("Late news\n\nA ferry ran aground near Split on Sunday.\n")
    status = _refresh(pipelines)
    assert status.startswith("Index up to date: 2 articles, 11 chunks.")
    assert "⚠ the index in" in status and "no earlier generation was intact; rebuilt it." in status
