"""The images the kernel playground offers: photos, digits, patterns, a file of your own.

Every source gives a (C, H, W) float64 array in [0, 1], C = 1 (grey) or 3 (RGB).
Qt-free, so the sources are tested without a window.
"""

from __future__ import annotations

import os

import numpy as np

from nnviz.core.datasets import sample_image
from nnviz.core.errors import SpecError

PATTERN_SIDE = 64
MAX_FILE_BYTES = 50 * 2 ** 20
MAX_FILE_SIDE = 4096       # larger files are refused
SHOWN_SIDE = 800           # files larger than this are shrunk to keep edits instant

#: (label, key) of the built-in choices, in the chooser's order.
SOURCES = (("China photo (colour)", "china:colour"), ("China photo (grey)", "china:grey"),
           ("Flower photo (colour)", "flower:colour"), ("Flower photo (grey)", "flower:grey"),
           ("Handwritten digit", "digit"), ("Checkerboard", "checkerboard"),
           ("Step edge", "step_edge"), ("Circle", "circle"))


def checkerboard(side: int = PATTERN_SIDE, square: int = 8) -> np.ndarray:
    rows, cols = np.indices((side, side)) // square
    return ((rows + cols) % 2).astype(float)[None]


def step_edge(side: int = PATTERN_SIDE) -> np.ndarray:
    """Dark left half, bright right half: one vertical edge."""
    image = np.zeros((1, side, side))
    image[:, :, side // 2:] = 1.0
    return image


def circle(side: int = PATTERN_SIDE) -> np.ndarray:
    """A bright disc on a dark ground: edges in every direction."""
    y, x = np.indices((side, side)) + 0.5 - side / 2
    return (np.hypot(y, x) <= side * 0.32).astype(float)[None]


PATTERNS = {"checkerboard": checkerboard, "step_edge": step_edge, "circle": circle}


def builtin_image(key: str, digit: int = 0) -> np.ndarray:
    """The image of a SOURCES key; ``digit`` picks the scikit-learn digit."""
    if key in PATTERNS:
        return PATTERNS[key]()
    if key == "digit":
        return sample_image(f"digits:{digit}")
    photo, _, mode = key.partition(":")
    return sample_image(photo, colour=mode == "colour")


def load_image_file(path) -> tuple[np.ndarray, str]:
    """A PNG or JPEG file as (C, H, W) in [0, 1], and a note on what was done to it.

    Grey files stay grey, everything else becomes RGB (transparency is dropped);
    files wider or taller than SHOWN_SIDE are shrunk.  SpecError (field "image file")
    for anything that is not a readable PNG/JPEG of a sane size.
    """
    from PIL import Image, UnidentifiedImageError
    field = "image file"
    name = os.path.basename(os.fspath(path))
    try:
        size = os.path.getsize(path)
    except OSError as error:
        raise SpecError(field, f"cannot read {name}: {error.strerror}", "choose another file") from None
    if size > MAX_FILE_BYTES:
        raise SpecError(field, f"{name} is {size / 2 ** 20:.0f} MB", "choose an image under 50 MB")
    try:
        with Image.open(path) as image:
            if image.format not in ("PNG", "JPEG"):
                raise SpecError(field, f"{name} is a {image.format} file", "choose a PNG or JPEG image")
            w, h = image.size
            if max(w, h) > MAX_FILE_SIDE:
                raise SpecError(field, f"{name} is {w}x{h} pixels",
                                f"choose an image of at most {MAX_FILE_SIDE} pixels a side")
            image.load()
            grey = image.mode in ("1", "L", "LA", "I", "I;16", "F")
            image = image.convert("L" if grey else "RGB")
            note = f"{name}: {w}x{h}"
            if max(w, h) > SHOWN_SIDE:
                image.thumbnail((SHOWN_SIDE, SHOWN_SIDE), Image.Resampling.BOX)
                note += f", shown at {image.size[0]}x{image.size[1]}"
            pixels = np.asarray(image, dtype=np.float64) / 255.0
    except SpecError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise SpecError(field, f"{name} is not an image Pillow can read",
                        "choose a PNG or JPEG image") from None
    return (pixels[None] if pixels.ndim == 2 else np.moveaxis(pixels, -1, 0).copy()), note
