"""Thumbnails of the inspectors' photos for the findings review, made with Pillow (reportlab's dependency, pinned in
constraints.txt) and kept in memory by content hash (a blob never changes under its hash).

A file Pillow cannot read as a still image, or one larger than :data:`MAX_PIXELS`, gets no thumbnail: the caller
serves the original and the page's CSS constrains its width.
"""
from __future__ import annotations

import io
import warnings
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageOps

SIZE = 320  # the longest side, in pixels (the page shows them at most 160 CSS px wide: sharp on a 2× screen)
MAX_PIXELS = 60_000_000  # a 60-megapixel photo at most (Pillow's own bomb guard warns at 89 M)


def thumbnail(path: Path, sha256: str) -> bytes | None:
    """A JPEG of at most :data:`SIZE` px a side, or None when the file is not an image Pillow can shrink."""
    return _thumbnail(str(path), sha256)


@lru_cache(maxsize=512)
def _thumbnail(path: str, sha256: str) -> bytes | None:  # sha256: the cache key's part that names the content
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    return None
                image.draft("RGB", (SIZE, SIZE))  # JPEG: decode at a reduced scale (much faster)
                shown = ImageOps.exif_transpose(image).convert("RGB")
        shown.thumbnail((SIZE, SIZE))
        out = io.BytesIO()
        shown.save(out, format="JPEG", quality=80, optimize=True)
        return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        return None
