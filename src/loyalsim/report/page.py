"""The one page template of loyalsim's HTML reports: self-contained, no script, no external file.

Where: the report stage; every ``*_html.py`` renders its body and hands it here with its title,
width and the style rules of its own tables.
"""

from __future__ import annotations


def page(title: str, body: str, *, width: int, style: str) -> str:
    """A whole HTML document: ``title`` and ``body`` as given (already escaped), the shared
    look (system font, centred column of ``width`` pixels) and the report's ``style`` rules."""
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>\n'
        f"<style>body{{font-family:system-ui,sans-serif;max-width:{width}px;margin:2em auto;color:#222}}\n"
        f"{style}</style></head>\n<body>{body}\n</body></html>\n"
    )
