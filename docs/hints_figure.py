"""Draw docs/hints.png, the README's picture of a hint drawing: ``python docs/hints_figure.py``.

Four panels: the photo and its box, a hint drawing (strokes on a transparent canvas, shown over a checkerboard),
the mask from the box alone, and the mask from the box plus the hints.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from toolkit.io import read_image, resize_max
from toolkit.segment.grabcut import grabcut, hints_from_image
from toolkit.segment.views import overlay

SIZE = 200
OUT = Path(__file__).with_name("hints.png")


def main() -> None:
    image = resize_max(read_image("sample:astronaut"), SIZE)
    box = (8, 4, 180, 196)
    drawing = Image.new("RGBA", image.shape[1::-1], (0, 0, 0, 0))  # transparent: no hint
    pen = ImageDraw.Draw(drawing)
    pen.line([(70, 150), (100, 125), (130, 150)], fill=(255, 255, 255, 255), width=6)  # white: foreground
    pen.line([(140, 175), (175, 192)], fill=(255, 255, 255, 255), width=6)              # ... the helmet too
    pen.line([(150, 20), (160, 70)], fill=(0, 0, 0, 255), width=6)                       # black: background
    pen.line([(20, 140), (35, 180)], fill=(192, 192, 192, 255), width=6)                 # light gray: probable fg
    rgba = np.asarray(drawing, np.float32) / 255
    box_only = grabcut(image, box).mask
    with_hints = grabcut(image, box, hints_from_image(rgba)).mask
    panels = [_with_box(image, box), _on_checkerboard(rgba), overlay(image, box_only), overlay(image, with_hints)]
    titles = ["photo and --box", "--hints drawing", "box alone", "box + hints"]
    h, w = image.shape[:2]
    sheet = Image.new("RGB", (4 * w + 30, h + 18), "white")
    for i, (panel, title) in enumerate(zip(panels, titles)):
        sheet.paste(Image.fromarray((panel * 255 + 0.5).astype(np.uint8)), (i * (w + 10), 18))
        ImageDraw.Draw(sheet).text((i * (w + 10) + 2, 2), title, fill="black", font=ImageFont.load_default(13))
    sheet.quantize(96).save(OUT, optimize=True)  # a palette keeps the file small
    print(f"wrote {OUT}")


def _with_box(image: np.ndarray, box) -> np.ndarray:
    im = Image.fromarray((image * 255 + 0.5).astype(np.uint8))
    x, y, w, h = box
    ImageDraw.Draw(im).rectangle([x, y, x + w - 1, y + h - 1], outline=(255, 40, 40), width=2)
    return np.asarray(im, np.float32) / 255


def _on_checkerboard(rgba: np.ndarray, cell: int = 8) -> np.ndarray:
    """Transparency shown as the usual gray checkerboard."""
    h, w = rgba.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    board = np.where(((yy // cell + xx // cell) % 2 == 0)[..., None], 0.55, 0.45) * np.ones(3, np.float32)
    a = rgba[..., 3:]
    return (a * rgba[..., :3] + (1 - a) * board).astype(np.float32)


if __name__ == "__main__":
    main()
