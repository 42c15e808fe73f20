"""Fold text typed with a Chinese IME into ASCII digits, letters and signs, one char for one.

`crypto.normalize` folds with NFKC, which may turn one character into several (℡ → TEL, ㎡ →
m2): spans found in NFKC text would not point into the text the caller gave. The detector folds
only what changes nothing in length: full-width forms (１３８, ＋, －, ＠, （ ）), the ideographic
space and the dashes people type between digit groups. Values are normalised afterwards, from
the original characters, by the project's normalizers.
"""

from __future__ import annotations

# U+FF01..U+FF5E are the full-width twins of ASCII U+0021..U+007E, at a fixed distance.
_FULL_WIDTH_START, _FULL_WIDTH_END, _FULL_WIDTH_SHIFT = 0xFF01, 0xFF5E, 0xFEE0
_EXTRA = {
    "\u3000": " ",  # ideographic space
    "\u00a0": " ",  # no-break space
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2212": "-",  # minus sign
}
_TABLE = {
    **{c: chr(c - _FULL_WIDTH_SHIFT) for c in range(_FULL_WIDTH_START, _FULL_WIDTH_END + 1)},
    **{ord(k): v for k, v in _EXTRA.items()},
}


def fold(text: str) -> str:
    """Return `text` with full-width forms, odd spaces and dashes folded; same length."""
    folded = text.translate(_TABLE)
    assert len(folded) == len(text)  # every entry maps one character to one
    return folded
