"""Course texts: Markdown rendered on the server, raw HTML escaped, only safe link targets kept.

Lessons and task texts are blocks (`render_markdown`); titles, prompts, hints and summaries are one line
of the same Markdown (`render_inline`: `code`, **bold**, links), without the paragraph around it.
"""

from __future__ import annotations

import markdown as md
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

SAFE_SCHEMES = ("http://", "https://", "#", "/", "mailto:")


class _SafeLinks(Treeprocessor):
    def run(self, root):
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None and not value.strip().lower().startswith(SAFE_SCHEMES):
                    del element.attrib[attribute]
            if element.tag == "a" and element.get("href", "").startswith("http"):
                element.set("rel", "noopener noreferrer")
                element.set("target", "_blank")


class _NoRawHtml(Extension):
    """HTML in the source is text (escaped), never markup."""

    def extendMarkdown(self, markdown):  # noqa: N802 (the Markdown extension API)
        markdown.preprocessors.deregister("html_block")
        markdown.inlinePatterns.deregister("html")
        markdown.treeprocessors.register(_SafeLinks(markdown), "safe_links", 0)


def render_markdown(text: str) -> SafeString:
    """HTML of a lesson text."""
    html = md.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists", _NoRawHtml()])
    return mark_safe(html)  # noqa: S308 (raw HTML was escaped by the parser, see _NoRawHtml)


def render_inline(text: str) -> SafeString:
    """HTML of a short text (a title, prompt or hint): one paragraph is shown without its <p>."""
    html = str(render_markdown(text)).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return mark_safe(html)  # noqa: S308 (rendered by render_markdown)
