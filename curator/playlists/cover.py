"""A playlist cover in the two moods' colours: a smooth diagonal blend, as a baseline JPEG.

Spotify takes at most 256 KB of base64 text, so the JPEG is kept well under 190 KB raw.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

SIZE = 640
MAX_BASE64_BYTES = 256 * 1024


def _rgb(colour: str) -> np.ndarray:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return np.array([int(value[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64)


def cover_jpeg(start_colour: str, target_colour: str, size: int = SIZE) -> bytes:
    """JPEG bytes of a `size`² square blending `start_colour` (top left) into `target_colour`."""
    a, b = _rgb(start_colour), _rgb(target_colour)
    y, x = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    t = (x + y) / 2
    t = t * t * (3 - 2 * t)  # smoothstep: the colours hold longer at the corners
    # A soft light ring in the middle, the "arc" from one feeling to the other.
    r = np.hypot(x - 0.5, y - 0.5)
    glow = np.exp(-((r - 0.28) ** 2) / 0.004) * 0.25
    pixels = a * (1 - t)[..., None] + b * t[..., None]
    pixels = pixels + (255 - pixels) * glow[..., None]
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    for quality in (88, 75, 60, 45):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True)
        data = buffer.getvalue()
        if (len(data) + 2) // 3 * 4 <= MAX_BASE64_BYTES:
            return data
    raise ValueError("cover image too large")  # not reachable for a smooth gradient
