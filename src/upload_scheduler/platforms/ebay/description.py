"""An item description as eBay may show it: HTML reduced to basic markup, at most eBay's
length, with every element closed.

eBay renders the description as HTML and refuses active content (scripts, forms, plug-ins),
and a buyer must never run anything of ours, so only basic markup survives: paragraphs,
line breaks, emphasis, lists, headings, tables, span and div. Script, style, form-like,
frame and plug-in elements go with their content; any other tag (a link, an image, a font)
goes but keeps its text. Attributes are kept only from a short list, and never an `on*`
handler or a `javascript:` URL. Uses the standard library's tolerant parser: malformed
input gives well-formed output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

KEPT_TAGS = frozenset(
    {"p", "br", "b", "i", "strong", "em", "ul", "ol", "li", "span", "div"}
    | {f"h{n}" for n in range(1, 7)}
    | {"table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col"}
)
# Dropped with everything inside them.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "form", "iframe", "object", "embed", "applet", "frame",
        "frameset", "noscript", "template", "textarea", "select", "button", "head",
        "title", "svg", "math",
    }
)  # fmt: skip
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
KEPT_ATTRIBUTES = frozenset({"align", "valign", "colspan", "rowspan", "class", "style", "dir"})
_SCRIPT_URL = re.compile(r"(java|vb)script:|expression\(", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\s\x00-\x1f]+")
_TAG = re.compile(r"<[A-Za-z!/?]")


@dataclass(frozen=True)
class _Token:
    kind: str  # "start", "end", "void" or "text"
    text: str  # the markup as written out
    tag: str = ""


def clean_html(source: str) -> str:
    """`source` with only basic markup left. A text without any tag is plain text: its
    line breaks become <br>, as it looked where it was written."""
    if not _TAG.search(source):
        lines = source.strip().splitlines()
        return "<br>".join(escape(line, quote=False) for line in lines)
    return "".join(token.text for token in _tokens(source))


def limit_html(cleaned: str, limit: int) -> str:
    """`cleaned` (the output of clean_html) cut to at most `limit` characters at the last
    word boundary that fits, with the elements left open closed."""
    if len(cleaned) <= limit:
        return cleaned
    out: list[str] = []
    open_tags: list[str] = []
    size = 0

    def closing() -> int:
        return sum(len(tag) + 3 for tag in open_tags)

    for token in _tokens(cleaned):
        room = limit - size - closing()
        if token.kind == "end":
            open_tags.pop()  # its length was reserved when it opened
        elif token.kind == "text":
            if len(token.text) > room:
                out.append(_cut_text(token.text, room, whole_words=size > 0))
                break
        else:
            # A start tag needs room for its end tag as well.
            need = len(token.text) + (len(token.tag) + 3 if token.kind == "start" else 0)
            if need > room:
                break
            if token.kind == "start":
                open_tags.append(token.tag)
        out.append(token.text)
        size += len(token.text)
    out.extend(f"</{tag}>" for tag in reversed(open_tags))
    return "".join(out)


def _cut_text(text: str, room: int, *, whole_words: bool) -> str:
    """At most `room` characters of escaped text, ending at a space, and never inside an
    entity such as &amp;. Without a space to end at, nothing of it (`whole_words`) or a
    hard cut (a description that is one long word)."""
    if room <= 0:
        return ""
    head = text[: room + 1]
    cut = head.rfind(" ")
    if cut > 0:
        piece = head[:cut].rstrip()
    else:
        piece = "" if whole_words else text[:room]
    amp = piece.rfind("&")
    if amp != -1 and ";" not in piece[amp:]:
        piece = piece[:amp]
    return piece


def _tokens(source: str) -> list[_Token]:
    parser = _Cleaner()
    parser.feed(source)
    parser.close()
    return parser.finish()


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[_Token] = []
        self.open: list[str] = []  # kept elements open, innermost last
        self.skipping: list[str] = []  # dropped elements being skipped, innermost last

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            if tag in DROPPED_WITH_CONTENT and tag not in VOID_TAGS:
                self.skipping.append(tag)
            return
        if tag in DROPPED_WITH_CONTENT and tag not in VOID_TAGS:
            self.skipping.append(tag)
            return
        if tag not in KEPT_TAGS:
            return
        markup = f"<{tag}{_attributes(attrs)}>"
        if tag in VOID_TAGS:
            self.out.append(_Token("void", markup, tag))
            return
        self.open.append(tag)
        self.out.append(_Token("start", markup, tag))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, or a self-closed <p/>: an empty element either way.
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag in self.skipping:
                while self.skipping.pop() != tag:
                    pass
            return
        if tag not in KEPT_TAGS or tag in VOID_TAGS or tag not in self.open:
            return  # a stray end tag
        while self.open:
            inner = self.open.pop()
            self.out.append(_Token("end", f"</{inner}>", inner))
            if inner == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.skipping and data:
            self.out.append(_Token("text", escape(data, quote=False)))

    def finish(self) -> list[_Token]:
        self.out.extend(_Token("end", f"</{tag}>", tag) for tag in reversed(self.open))
        self.open.clear()
        return self.out


def _attributes(attrs: list[tuple[str, str | None]]) -> str:
    kept = []
    for name, value in attrs:
        if name.startswith("on") or name not in KEPT_ATTRIBUTES:
            continue
        value = value or ""
        if _SCRIPT_URL.search(_INVISIBLE.sub("", value)):
            continue
        kept.append(f' {name}="{escape(value, quote=True)}"')
    return "".join(kept)
