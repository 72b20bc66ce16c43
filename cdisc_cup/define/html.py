"""define.html: the define.xml rendered with the CDISC Define-XML 2.1 stylesheet.

Browsers no longer apply XSLT to local files reliably (Chromium blocks `file://` stylesheets),
so a reviewer gets the rendering as a plain HTML file beside define.xml. The stylesheet is the
CDISC 2019 one by Lex Jansen (MIT, see schemas/PROVENANCE.md), run by libxslt through lxml; it
is XSLT 1.0 and needs no other file, so the transform runs with every file and network access
denied. It is applied to the tree just built, so define.xml is not parsed again for it.

Visual check (done by hand for issue #6; tests/define checks the tables with lxml.html so they
do not depend on a browser being installed):

    apt-get install -y chromium
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
      --disable-component-update --disable-sync --no-first-run --user-data-dir=$(mktemp -d) \
      --screenshot=/tmp/define.png --window-size=1400,2000 file:///ABSOLUTE/PATH/define.html
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

STYLESHEET = Path(__file__).parent / "schemas" / "define2-1.xsl"
HTML_FILE = "define.html"


@cache
def define_transform() -> etree.XSLT:
    """The compiled stylesheet (parsed once per process, with no file or network access)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XSLT(etree.parse(str(STYLESHEET), parser), access_control=etree.XSLTAccessControl.DENY_ALL)


def render_html(document: etree._ElementTree) -> bytes:
    """The HTML text of a define.xml document (raises etree.XSLTApplyError on stylesheet errors)."""
    result = define_transform()(document)
    return etree.tostring(result, method="html", encoding="UTF-8", doctype="<!DOCTYPE html>")


def render_define_html(document: etree._ElementTree, html_path: Path) -> Path:
    """Write define.html for a parsed or freshly built define.xml."""
    html_path = Path(html_path)
    html_path.write_bytes(render_html(document))
    return html_path
