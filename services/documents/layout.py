"""One render's state: the template's name, the scope stack its placeholders are resolved in (the context, and
the items of the lists being drawn), the text drawn (what the goldens compare) and the frame's width."""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from services.documents.format import expand, parse_path, resolve
from services.documents.styles import FRAME_WIDTH, _paragraph_of
from services.errors import TemplateError


@dataclass
class _Layout:
    """One render: the template name, the scope stack, the text drawn (what the goldens compare), the frame width."""

    template: str
    scopes: list[Mapping[str, Any]]
    drawn: list[str] = field(default_factory=list)
    width: float = FRAME_WIDTH

    def text(self, source: str) -> str:
        markup, plain = expand(source, self.scopes, template=self.template)
        self.drawn.append(plain)
        return markup

    def para(self, source: str, style: ParagraphStyle) -> Paragraph:
        return _paragraph_of(self.text(source), style)

    def value(self, path: str) -> Any:
        clean, optional = parse_path(path)
        return resolve(self.scopes, clean, optional=optional, template=self.template)

    def shown(self, block: Mapping[str, Any]) -> bool:
        return ("when" not in block or bool(self.value(block["when"]))) and (
            "unless" not in block or not self.value(block["unless"]))

    def items(self, block: Mapping[str, Any]) -> Iterator[None]:
        """Push each item's scope in turn (only the items where ``where`` is truthy)."""
        values = self.value(block["each"])
        if values is None:
            values = []
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
            raise TemplateError(f"'{block['each']}' không phải danh sách", template=self.template,
                                key=block["each"])
        scopes = [self._scope(item, number) for number, item in enumerate(values, start=1)]
        if "where" in block:
            scopes = [scope for scope in scopes if self._where(scope, block["where"])]
        for index, scope in enumerate(scopes, start=1):
            scope["loop"].update(index=index, count=len(scopes))
            with self._pushed(scope):
                yield None

    @staticmethod
    def _scope(item: Any, number: int) -> dict[str, Any]:
        return {**(item if isinstance(item, Mapping) else {}), "item": item, "loop": {"number": number}}

    def _where(self, scope: dict[str, Any], path: str) -> bool:
        with self._pushed(scope):
            return bool(self.value(path))

    @contextmanager
    def _pushed(self, scope: dict[str, Any]) -> Iterator[None]:
        self.scopes.insert(0, scope)
        try:
            yield
        finally:
            self.scopes.pop(0)

