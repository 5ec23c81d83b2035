"""Mail content from Jinja2 templates: `<name>.subject.txt`, `<name>.txt`, `<name>.html`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from application.ports.messaging import EmailMessage

TEMPLATES = Path(__file__).parent / "templates"


class JinjaMailRenderer:
    def __init__(self, folder: Path = TEMPLATES) -> None:
        self._env = Environment(
            loader=FileSystemLoader(folder),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(self, template: str, to: str, context: Mapping[str, Any]) -> EmailMessage:
        try:
            subject = self._env.get_template(f"{template}.subject.txt").render(context)
            text = self._env.get_template(f"{template}.txt").render(context)
        except TemplateNotFound as error:
            raise KeyError(template) from error
        try:
            html: str | None = self._env.get_template(f"{template}.html").render(context)
        except TemplateNotFound:
            html = None
        return EmailMessage(to=to, subject=" ".join(subject.split()), text=text, html=html)
