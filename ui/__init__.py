"""The browser chat over the articles: `build_app(settings)` returns the Gradio app; `python -m ui` serves it."""

from __future__ import annotations

from ui.app import build_app

__all__ = ["build_app"]
