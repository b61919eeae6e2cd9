"""Turn a page's bytes into text when its charset declaration is wrong or missing.

Regional Chinese sites often serve GBK/GB2312/GB18030 or Big5 without a charset, or declare one
that is wrong. A wrong declaration is dangerous because it can decode *without errors*: Big5
bytes decode as GB18030 into plausible-looking nonsense. So a declaration is trusted only if
charset-normalizer (which samples chunks across the whole body, not only the first bytes) finds
the text decoded with it coherent; otherwise its best guess over the whole body wins.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

# Decode with the superset of what was declared or detected: pages labelled GB2312/GBK use
# GB18030-only characters, and Big5 pages use Microsoft's and HKSCS extensions.
_DECODE_AS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs",
              "ascii": "utf-8", "iso8859-1": "cp1252", "latin-1": "cp1252"}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    declared: str | None   # what the HTTP header, BOM or <meta> said (normalised codec name)
    detected: str          # what the text was decoded with (before widening to a superset)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("'\"")).name
    except LookupError:
        return None


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """Charset from the Content-Type header, then a BOM, then <meta> (w3lib's parsers)."""
    enc = http_content_type_encoding(content_type) if content_type else None
    if not enc:
        bom, _ = read_bom(body)
        enc = bom
    if not enc:
        enc = html_body_declared_encoding(body)
    return _codec(enc)


def _plausible(body: bytes, codec: str) -> bool:
    if codec == "utf-8":
        try:
            # final=False: a character cut off at the end (a truncated page) is not an error
            codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
            return True
        except UnicodeDecodeError:
            return False
    return from_bytes(body, cp_isolation=[codec]).best() is not None


def decode_body(body: bytes, content_type: str | None = None, *, truncated: bool = False) -> Decoded:
    declared = declared_encoding(body, content_type)
    chosen: str | None = None
    if declared and _plausible(body, declared):
        chosen = declared
    elif not declared and _plausible(body, "utf-8"):
        chosen = "utf-8"  # fast path: most of the web, and detection would say the same
    else:
        best = from_bytes(body).best()
        chosen = _codec(best.encoding) if best is not None else None
    if chosen is None:  # binary or hopeless: keep what can be kept, never fail
        chosen = declared or "utf-8"
    text = body.decode(_DECODE_AS.get(chosen, chosen), errors="replace")
    if truncated:
        text = text.rstrip("\ufffd")  # the character the size cap cut in half
    return Decoded(text=text.lstrip("\ufeff"), declared=declared, detected=chosen)
