"""mkdocs hook: render the Sphinx roles found in asyncpool's docstrings.

Docstrings write cross-references the Sphinx way (``:class:`~asyncpool.Pool```).
mkdocstrings renders those as the literal role followed by a code span; this
hook turns each into an optional autorefs link: a link when the target is
documented on the site, plain code otherwise (never a broken link, so the
``--strict`` build stays clean).
"""

from __future__ import annotations

import html
import re
from typing import Any

_ROLE = re.compile(
    r":(?:py:)?(?:class|meth|func|attr|data|mod|exc|obj|const):<code>(?P<body>[^<]*)</code>"
)
_EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^>]+)>$")


def _replace(match: re.Match[str]) -> str:
    body = html.unescape(match["body"]).strip()
    explicit = _EXPLICIT.match(body)
    if explicit:
        title, target = explicit["title"], explicit["target"]
    else:
        target = body.lstrip("~.")
        title = target.rsplit(".", 1)[-1] if body.startswith("~") else target
    target = target.lstrip("~.")
    return (
        f'<autoref identifier="{html.escape(target)}" optional>'
        f"<code>{html.escape(title)}</code></autoref>"
    )


_LITERAL_MARKER = re.compile(r"::</p>(\s*<div class=\"(?:language-[\w-]+ )?highlight)")


_BARE_MARKER = re.compile(r"<p>:</p>\s*(?=<div class=\"(?:language-[\w-]+ )?highlight)")
_CELL = re.compile(r"<td([^>]*)>(.*?)</td>", re.DOTALL)
_CELL_CODE = re.compile(r"<code>([^<]*)</code>")
_NAME_BREAK = re.compile(r"([_.](?=\w)|\{|,|&amp;)")


def _breakable_names(cell: re.Match[str]) -> str:
    """Let a long name in a table cell wrap after ``_`` ``.`` ``,`` (never mid-word)."""
    body = _CELL_CODE.sub(
        lambda code: "<code>" + _NAME_BREAK.sub(r"\1<wbr>", code[1]) + "</code>", cell[2]
    )
    return f"<td{cell[1]}>{body}</td>"


def on_page_content(html_text: str, **kwargs: Any) -> str:
    """Replace ``:role:<code>target</code>`` with an optional cross-reference.

    Also turn reST's ``text::`` (which introduces a code block) into ``text:``,
    and mark where names in table cells may wrap (see docs/assets/extra.css).
    """
    html_text = _LITERAL_MARKER.sub(r":</p>\1", html_text)
    html_text = _BARE_MARKER.sub("", html_text)  # a lone ``::`` paragraph: nothing to say
    html_text = _CELL.sub(_breakable_names, html_text)
    return _ROLE.sub(_replace, html_text)
