"""A self-contained HTML report: one file, inline CSS, images embedded as data URIs.

The report needs nothing but the file itself: no external stylesheet, font, script or
image is referenced (figures are PNG or GIF files read from disk and embedded as
base64 ``data:`` URIs), and no JavaScript is used. A report is a list of
:class:`Section` s, each a title and a list of blocks:

- :class:`Text` (a paragraph), :class:`Note` (a highlighted paragraph), :class:`Code`
  (preformatted text), :class:`KeyValues` (a two-column table),
- :class:`Table` (headers, rows, optional highlighted rows),
- :class:`Figure` (an image file with a caption), :class:`Row` (blocks side by side).

All text is HTML-escaped. The file is written atomically.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from motionvigil.atomic import write_text_atomic

_MIME = {b"\x89PNG\r\n\x1a\n": "image/png", b"GIF87a": "image/gif", b"GIF89a": "image/gif"}

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #1d2330;
       background: #f6f7f9; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 18px 28px 40px; }
h1 { font-size: 1.65em; margin: 0.4em 0 0.1em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 2px solid #d5d9e0; padding-bottom: 4px; }
.subtitle { color: #5a6372; margin-top: 0; }
section { background: #fff; border: 1px solid #e1e4ea; border-radius: 6px; padding: 4px 18px 14px;
          margin-top: 18px; }
table { border-collapse: collapse; margin: 10px 0; font-size: 0.88em; }
th, td { border: 1px solid #d5d9e0; padding: 3px 8px; text-align: right; white-space: nowrap; }
th { background: #eef1f5; }
td:first-child, th:first-child, td.text { text-align: left; }
tr.hl td { background: #fde8e8; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 4px; }
table.kv td:first-child { font-weight: 600; background: #f6f7f9; }
table.kv td { text-align: left; white-space: normal; }
figure { margin: 10px 0; display: inline-block; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #e1e4ea; }
figcaption { font-size: 0.85em; color: #5a6372; max-width: 640px; }
pre { background: #f3f4f7; padding: 8px 10px; overflow-x: auto; font-size: 0.85em; }
.note { background: #fff7e0; border-left: 4px solid #e0a800; padding: 6px 10px; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.row > * { flex: 0 1 auto; }
nav { font-size: 0.9em; }
nav a { margin-right: 12px; color: #2f5ea8; }
"""


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class KeyValues:
    items: Sequence[tuple[str, object]]
    caption: str = ""


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    caption: str = ""
    highlight: Sequence[bool] | None = None  # per row: draw it highlighted


@dataclass(frozen=True)
class Figure:
    path: Path
    caption: str = ""
    alt: str = ""
    width: int | None = None  # display width in CSS pixels (None: natural size, capped by the page)


@dataclass(frozen=True)
class Row:
    blocks: Sequence["Block"]


Block = Union[Text, Note, Code, KeyValues, Table, Figure, Row]


@dataclass(frozen=True)
class Section:
    title: str
    blocks: Sequence[Block] = field(default_factory=list)


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def data_uri(path: str | Path) -> str:
    """``data:image/...;base64,...`` of a PNG or GIF file (checked by its signature)."""
    data = Path(path).read_bytes()
    for magic, mime in _MIME.items():
        if data.startswith(magic):
            return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    raise ValueError(f"{path}: not a PNG or GIF image")


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


def _table(block: Table) -> str:
    out = ["<table>"]
    if block.caption:
        out.append(f"<caption>{_esc(block.caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in block.headers) + "</tr></thead><tbody>")
    marks = list(block.highlight) if block.highlight is not None else [False] * len(block.rows)
    for row, mark in zip(block.rows, marks):
        cls = ' class="hl"' if mark else ""
        cells = "".join(_cell(c) for c in row)
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cell(value: object) -> str:
    text_cls = ' class="text"' if isinstance(value, str) and not _numeric(value) else ""
    return f"<td{text_cls}>{_esc(value)}</td>"


def _numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d.]+( ± [\d.]+)?( s)?", text.strip()))


def render_block(block: Block) -> str:
    if isinstance(block, Text):
        return f"<p>{_esc(block.text)}</p>"
    if isinstance(block, Note):
        return f'<p class="note">{_esc(block.text)}</p>'
    if isinstance(block, Code):
        return f"<pre>{_esc(block.text)}</pre>"
    if isinstance(block, KeyValues):
        rows = "".join(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>" for k, v in block.items)
        caption = f"<caption>{_esc(block.caption)}</caption>" if block.caption else ""
        return f'<table class="kv">{caption}{rows}</table>'
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        width = f' width="{int(block.width)}"' if block.width else ""
        caption = f"<figcaption>{_esc(block.caption)}</figcaption>" if block.caption else ""
        alt = _esc(block.alt or block.caption or Path(block.path).name)
        return f'<figure><img src="{data_uri(block.path)}" alt="{alt}"{width}>{caption}</figure>'
    if isinstance(block, Row):
        return '<div class="row">' + "".join(f"<div>{render_block(b)}</div>" for b in block.blocks) + "</div>"
    raise TypeError(f"unknown report block {type(block).__name__}")


def render_report(sections: Sequence[Section], title: str, subtitle: str = "") -> str:
    """The whole HTML document as a string."""
    nav = " ".join(f'<a href="#{_anchor(s.title)}">{_esc(s.title)}</a>' for s in sections)
    body = [f"<h1>{_esc(title)}</h1>"]
    if subtitle:
        body.append(f'<p class="subtitle">{_esc(subtitle)}</p>')
    body.append(f"<nav>{nav}</nav>")
    for s in sections:
        inner = "".join(render_block(b) for b in s.blocks)
        body.append(f'<section id="{_anchor(s.title)}"><h2>{_esc(s.title)}</h2>{inner}</section>')
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{_esc(title)}</title>\n"
            f"<style>{CSS}</style>\n</head>\n<body><main>\n" + "\n".join(body) + "\n</main></body>\n</html>\n")


def write_report(path: str | Path, sections: Sequence[Section], title: str = "motionvigil report",
                 subtitle: str = "") -> Path:
    """Write the report to ``path`` (atomically) and return ``path``."""
    path = Path(path)
    write_text_atomic(path, render_report(sections, title, subtitle))
    return path


__all__ = ["Code", "Figure", "KeyValues", "Note", "Row", "Section", "Table", "Text", "data_uri",
           "render_report", "write_report"]
