"""The template language's schema: the block kinds and the keys each may carry, checked (with every placeholder
parsed) when a template is loaded, and the two formatters the documents add to :mod:`services.documents.format`.
The language itself is described in :mod:`services.documents.render`."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reportlab.lib.pagesizes import A4, landscape

from services.documents.format import FORMATTERS, parse, parse_path
from services.documents.selection_list import decimal_vi
from services.errors import TemplateError

_PAGE_SIZES = {"portrait": A4, "landscape": landscape(A4)}

# A Vietnamese decimal (scores, points). It belongs with the others in format.FORMATTERS; registered here
# until it moves there, before any template is parsed (templates are only loaded through the renderer, which imports
# this module).
FORMATTERS.setdefault("decimal", lambda v, a: decimal_vi(v, int(a) if a else 2))


def _pad(value: Any, digits: str | None) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return f"{value:0{int(digits) if digits else 2}d}"


FORMATTERS.setdefault("pad", _pad)

_COMMON = {"kind", "when", "unless", "space_before"}
_KINDS: dict[str, set[str]] = {
    "title": {"lines", "rule", "size"},
    "paragraph": {"text", "align", "indent", "keep_with_next"},
    "list": {"each", "where", "text", "lines", "empty", "align", "indent"},
    "table": {"each", "where", "columns", "empty", "size"},
    "signatures": {"columns"},
    "bases": {"items"},
    "spacer": {"height"},
    "repeat": {"each", "where", "blocks", "empty"},
    "chart": {"each", "where", "label", "series", "orientation", "height", "decimals", "caption", "empty"},
}
_NESTED = {"columns": {"header", "cell", "width", "align", "lines", "below"},
           "lines": {"text", "size", "space", "when", "unless", "signer", "on_behalf"},
           "items": {"text", "each", "where", "when", "unless"}, "series": {"name", "value"}}
_HEADER = {"parent", "body", "number", "place_date", "motto", "motto_sub"}
_PATH_KEYS = {"each", "where", "when", "unless", "signer"}


def _check(name: str, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise TemplateError(f"khóa không hợp lệ {sorted(unknown)} tại {where}", template=name)
    for key, value in table.items():
        try:
            if key in _PATH_KEYS:
                parse_path(value)
            elif isinstance(value, str):
                parse(value)
        except (ValueError, TypeError) as exc:
            raise TemplateError(f"{where}.{key}: {exc}", template=name) from exc
        items = value if isinstance(value, list) and key != "blocks" else []  # blocks: see _check_block
        for i, item in enumerate(items):
            if isinstance(item, dict):
                _check(name, f"{where}.{key}[{i}]", item, _NESTED.get(key, set()))
            elif isinstance(item, str):
                _check(name, f"{where}.{key}[{i}]", {"text": item}, {"text"})


def _validate(name: str, spec: dict[str, Any]) -> None:
    for key in ("version", "title", "header", "body"):
        if key not in spec:
            raise TemplateError(f"thiếu khóa '{key}'", template=name, key=key)
    if spec.get("orientation", "portrait") not in _PAGE_SIZES:
        raise TemplateError(f"orientation không hợp lệ {spec['orientation']!r} (portrait|landscape)",
                            template=name, key="orientation")
    if not isinstance(spec["header"], dict) or not isinstance(spec["body"], list) or not all(
            isinstance(block, dict) for block in spec["body"]):
        raise TemplateError("'header' phải là bảng, 'body' là danh sách bảng ([[body]])", template=name)
    _check(name, "header", spec["header"], _HEADER)
    missing = _HEADER - {"parent"} - set(spec["header"])
    if missing:
        raise TemplateError(f"header thiếu {sorted(missing)}", template=name)
    for i, block in enumerate(spec["body"]):
        _check_block(name, f"body[{i}]", block)
    if not isinstance(spec.get("counts_pages", False), bool):
        raise TemplateError("'counts_pages' phải là true hoặc false", template=name, key="counts_pages")
    labels = spec.get("sign_each_page", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) and label.strip() for label in labels):
        raise TemplateError("'sign_each_page' phải là danh sách nhãn (chuỗi)", template=name, key="sign_each_page")
    for i, label in enumerate(labels):
        _check(name, f"sign_each_page[{i}]", {"text": label}, {"text"})


def _check_block(name: str, where: str, block: Any) -> None:
    kind = block.get("kind") if isinstance(block, dict) else None
    if kind not in _KINDS:
        raise TemplateError(f"{where}: kind không hợp lệ {kind!r}", template=name)
    _check(name, where, block, _COMMON | _KINDS[kind])
    if kind == "repeat":
        blocks = block.get("blocks")
        if "each" not in block or not isinstance(blocks, list) or not blocks:
            raise TemplateError(f"{where}: 'repeat' cần 'each' và 'blocks' ([[...blocks]])", template=name)
        for j, inner in enumerate(blocks):
            _check_block(name, f"{where}.blocks[{j}]", inner)

