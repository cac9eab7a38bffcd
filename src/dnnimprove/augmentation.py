"""Data augmentation: transforms of a training mini-batch, for ``fit(..., augment=...)``.

An augmentation is a callable ``augment(X_batch, source) -> X_batch`` that draws its randomness from the
run's random source (``source.uniform``, ``source.normal``), so a seeded run is reproducible. ``fit``
applies it to every training mini-batch and nowhere else: prediction, evaluation and the dev set never see
it, so it is off at inference by construction. It returns a new array and never changes its input (a
mini-batch may be a view of the training set).

The image transforms (:class:`RandomShift`, :class:`RandomFlip`, :class:`RandomRotation`,
:class:`RandomZoom`, :class:`RandomCrop`) read each row of ``X`` as an image of the declared
``image_shape`` (row-major ``(height, width)`` or ``(height, width, channels)``; scikit-learn's digits are
:data:`DIGITS_SHAPE`, ``(8, 8)``); a batch whose rows do not hold ``prod(image_shape)`` features is a
``ValueError`` naming ``X``, its shape and the declared shape. Rotations, zooms and crops resample the image
bilinearly through :func:`warp`; pixels that come from outside the image take ``fill``.

Each of them (and :class:`GaussianNoise`, :class:`Compose`) is an :class:`Augmentation`: its call is
``apply(X, draw(X.shape, source, X.dtype))``, the random draws first (they depend only on the batch's
shape), then arithmetic that treats every row on its own. So the draws of several mini-batches, made one
batch after another as ``fit`` makes them (:func:`draw_batches`), can be applied to all their rows at once,
with the same result as batch by batch: the compiled engine augments a whole epoch ahead that way.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Sequence

import numpy as np

from ._validation import Boolean, Constraint, Real, check_int, set_params_checked

__all__ = [
    "DIGITS_SHAPE", "Augmentation", "RandomShift", "RandomFlip", "RandomRotation", "RandomZoom", "RandomCrop",
    "GaussianNoise", "Compose", "draw_batches", "warp",
]

DIGITS_SHAPE = (8, 8)
"""How a row of scikit-learn's digits is laid out: an 8x8 image, row by row."""


class Augmentation:
    """A random transform of a mini-batch in two parts: ``draw`` its random numbers, ``apply`` them.

    ``augment(X, source)`` is ``apply(X, draw(X.shape, source, X.dtype))``. ``draw`` makes the source's calls
    (in a fixed order, depending only on ``shape`` and ``dtype``) and returns an array whose first dimension
    is the batch's rows, or a tuple of such arrays; ``apply`` uses row ``i`` of the draws for row ``i`` of
    ``X`` only, so draws joined along the rows (:func:`draw_batches`) transform joined batches exactly as
    batch by batch.
    """

    def draw(self, shape: tuple[int, int], source: Any, dtype: Any) -> Any:
        """The random numbers for a batch of ``shape`` ``(m, n_features)``, drawn from ``source``."""
        raise NotImplementedError

    def apply(self, X: np.ndarray, drawn: Any) -> np.ndarray:
        """``X`` ``(m, n_features)`` transformed with ``drawn`` (from :meth:`draw` for ``m`` rows); a new array."""
        raise NotImplementedError

    def __call__(self, X: np.ndarray, source: Any) -> np.ndarray:
        self.check(X)
        return self.apply(X, self.draw(X.shape, source, X.dtype))

    def check(self, X: np.ndarray) -> None:
        """Raise the ``ValueError`` naming ``X`` when this transform cannot read its rows (before any draw)."""


def draw_batches(augment: Augmentation, shapes: Sequence[tuple[int, int]], source: Any, dtype: Any) -> Any:
    """The draws of consecutive mini-batches of ``shapes``, drawn batch after batch, joined along the rows.

    ``augment.apply(X_all, draw_batches(augment, shapes, source, dtype))`` equals the batches' own
    ``augment(X_batch, source)`` calls stacked, bit for bit, and leaves ``source`` in the same state.
    """
    return _join([augment.draw(shape, source, dtype) for shape in shapes])


def _join(parts: list[Any]) -> Any:
    if isinstance(parts[0], tuple):
        return tuple(_join([part[index] for part in parts]) for index in range(len(parts[0])))
    return np.concatenate(parts)


def _image_shape(image_shape: Any) -> tuple[int, ...]:
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
    if shape is None or len(shape) not in (2, 3):
        raise ValueError(f"image_shape must be (height, width) or (height, width, channels); got {image_shape!r}")
    return tuple(check_int(f"image_shape[{i}]", size, low=1) for i, size in enumerate(shape))


def _images(transform: Any, X: np.ndarray) -> np.ndarray:
    """``X`` viewed as ``(m, *image_shape)``; a row length that does not match is a ``ValueError``."""
    n_features = int(np.prod(transform.image_shape))
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[1] != n_features:
        shape = getattr(X, "shape", None)
        raise ValueError(
            f"X must be a 2-D array with rows of {n_features} features (image_shape {transform.image_shape}) for "
            f"{type(transform).__name__}; got X of shape {shape}"
        )
    return X.reshape((X.shape[0],) + transform.image_shape)


def warp(images: np.ndarray, matrices: np.ndarray, offsets: np.ndarray, fill: float = 0.0,
         clamp: bool = False, size: tuple[int, int] | None = None) -> np.ndarray:
    """Resample each image at an affine map of the output grid, bilinearly.

    Output pixel ``p = (row, column)`` of image ``i`` takes the value of image ``i`` at
    ``q = matrices[i] @ p + offsets[i]`` (fractional coordinates, bilinear between the four neighbours;
    a neighbour outside the image counts as ``fill``; with ``clamp`` the coordinates are first clipped to
    the image, so the border pixels repeat instead). The identity map returns the images unchanged.
    The output grid has the images' height and width, or ``size``.

    Parameters
    ----------
    images : ndarray of shape (m, height, width) or (m, height, width, channels)
    matrices : ndarray of shape (m, 2, 2)
    offsets : ndarray of shape (m, 2)
    fill : float
    clamp : bool
    size : (height, width) or None

    Returns
    -------
    ndarray of the images' shape (height and width replaced by ``size``) and dtype.
    """
    m, height, width = images.shape[:3]
    out_shape = (m, *(size or (height, width)), *images.shape[3:])
    rows, columns = np.meshgrid(np.arange(out_shape[1]), np.arange(out_shape[2]), indexing="ij")
    grid = np.stack([rows.ravel(), columns.ravel()]).astype(float)  # (2, height * width)
    # matrices @ grid + offsets, spelled out: NumPy's stacked matmul makes one BLAS call per image
    source = matrices[:, :, :1] * grid[0] + matrices[:, :, 1:] * grid[1] + offsets[:, :, None]  # (m, 2, h * w)
    padded = np.full((m, height + 2, width + 2, *images.shape[3:]), fill, dtype=images.dtype)
    padded[:, 1:-1, 1:-1] = images
    edge = 0.0 if clamp else 1.0  # beyond one pixel outside, every neighbour is fill
    r = np.clip(source[:, 0], -edge, height - 1 + edge)
    c = np.clip(source[:, 1], -edge, width - 1 + edge)
    r0 = np.floor(r)
    c0 = np.floor(c)
    fr = r - r0
    fc = c - c0
    r0 = r0.astype(np.intp) + 1  # index into the padded images
    c0 = c0.astype(np.intp) + 1
    r1 = np.minimum(r0 + 1, height + 1)
    c1 = np.minimum(c0 + 1, width + 1)
    if images.ndim == 4:
        fr = fr[:, :, None]
        fc = fc[:, :, None]
    pixels = padded.reshape(m * (height + 2) * (width + 2), *images.shape[3:])  # one gather per neighbour
    first = (np.arange(m) * ((height + 2) * (width + 2)))[:, None]  # where each image starts in ``pixels``
    at_r0, at_r1 = first + r0 * (width + 2), first + r1 * (width + 2)
    top = pixels[at_r0 + c0] * (1 - fc) + pixels[at_r0 + c1] * fc
    bottom = pixels[at_r1 + c0] * (1 - fc) + pixels[at_r1 + c1] * fc
    out = top * (1 - fr) + bottom * fr
    return out.reshape(out_shape).astype(images.dtype, copy=False)


def _offsets_about_center(matrices: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """``c - M @ c`` for each ``(2, 2)`` matrix ``M`` of ``matrices`` ``(m, 2, 2)``, ``c`` the images' centre: the
    offsets that make :func:`warp` transform each image about its centre. Shape ``(m, 2)``."""
    center = (np.asarray(image_shape[:2], dtype=float) - 1) / 2
    return center - (matrices[:, :, 0] * center[0] + matrices[:, :, 1] * center[1])  # spelled out: no matmul per image


class RandomShift(Augmentation):
    """Shift each image of the batch by a random whole number of pixels, filling the uncovered border.

    Each example is reshaped to ``image_shape``, moved by ``(dy, dx)`` with ``dy, dx`` drawn independently
    and uniformly from ``{-max_shift, ..., max_shift}`` (down/right positive), and flattened back::

        out[i, r, c] = image[i, r - dy_i, c - dx_i]   where that pixel exists, else ``fill``

    Parameters
    ----------
    image_shape : (height, width) or (height, width, channels)
        How a row of ``X`` is laid out (row-major), e.g. ``(8, 8)`` for scikit-learn's digits.
    max_shift : int >= 0
        Largest shift in pixels (a pixel or two is the usual choice); smaller than the height and width.
    fill : float
        Value of the uncovered pixels (0 is the background of the digits; after standardization the
        background is no longer 0, so shift before standardizing or pass the standardized background).

    Notes
    -----
    Two uniform draws per example, ``source.uniform((m, 2))``; the gather is one fancy-indexing pass over a
    padded copy of the batch.
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"fill": Real()}
    """The legal values of the arguments whose range does not depend on ``image_shape``."""
    fill: float

    def __init__(self, image_shape: Sequence[int], max_shift: int = 1, fill: float = 0.0) -> None:
        self.image_shape = _image_shape(image_shape)
        self.max_shift = check_int("max_shift", max_shift, low=0, high=min(self.image_shape[:2]) - 1)
        set_params_checked(self, fill=fill)
        self.n_features = int(np.prod(self.image_shape))

    def draw_shifts(self, m: int, source: Any, dtype: Any) -> np.ndarray:
        """``(m, 2)`` integer shifts ``(dy, dx)`` in ``[-max_shift, max_shift]``."""
        u = source.uniform((m, 2), dtype)
        return np.minimum(np.floor(u * (2 * self.max_shift + 1)), 2 * self.max_shift).astype(np.intp) - self.max_shift

    def check(self, X: np.ndarray) -> None:
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"RandomShift(image_shape={self.image_shape}) needs rows of {self.n_features} features; "
                f"got X of shape {X.shape}"
            )

    def draw(self, shape: tuple[int, int], source: Any, dtype: Any) -> np.ndarray:
        return self.draw_shifts(shape[0], source, dtype)

    def apply(self, X: np.ndarray, drawn: np.ndarray) -> np.ndarray:
        self.check(X)
        m, k = X.shape[0], self.max_shift
        shifts = drawn
        if k == 0:
            return X.copy()
        height, width = self.image_shape[:2]
        images = X.reshape((m,) + self.image_shape)
        pad = [(0, 0), (k, k), (k, k)] + [(0, 0)] * (len(self.image_shape) - 2)
        padded = np.pad(images, pad, constant_values=self.fill)
        rows = np.arange(height) + k - shifts[:, :1]  # (m, height): padded row read for output row r
        cols = np.arange(width) + k - shifts[:, 1:]  # (m, width)
        shifted = padded[np.arange(m)[:, None, None], rows[:, :, None], cols[:, None, :]]
        return shifted.reshape(m, self.n_features)

    def __repr__(self) -> str:
        return f"RandomShift(image_shape={self.image_shape}, max_shift={self.max_shift}, fill={self.fill})"


class RandomFlip(Augmentation):
    """Mirror each image, left-right (``horizontal``) and/or upside down (``vertical``), with probability ``p``.

    One uniform draw per example and direction, ``source.uniform((m, 2))``: column 0 decides the
    left-right flip (``u < p``), column 1 the upside-down one. A cat mirrored is still a cat; a digit
    mirrored is often another symbol, so digits want rotations, zooms and shifts instead.

    Parameters
    ----------
    image_shape : (height, width) or (height, width, channels)
    horizontal, vertical : bool
        Which flips may happen (default: left-right only).
    p : float in [0, 1]
        Probability of each allowed flip.
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"horizontal": Boolean(), "vertical": Boolean(),
                                                               "p": Real(low=0.0, high=1.0)}
    horizontal: bool
    vertical: bool
    p: float

    def __init__(self, image_shape: Sequence[int], horizontal: bool = True, vertical: bool = False,
                 p: float = 0.5) -> None:
        self.image_shape = _image_shape(image_shape)
        set_params_checked(self, horizontal=horizontal, vertical=vertical, p=p)

    def check(self, X: np.ndarray) -> None:
        _images(self, X)

    def draw(self, shape: tuple[int, int], source: Any, dtype: Any) -> np.ndarray:
        return source.uniform((shape[0], 2), dtype)

    def apply(self, X: np.ndarray, drawn: np.ndarray) -> np.ndarray:
        images = _images(self, X)
        u = drawn
        out = images.copy()
        if self.horizontal:
            chosen = u[:, 0] < self.p
            out[chosen] = out[chosen][:, :, ::-1]
        if self.vertical:
            chosen = u[:, 1] < self.p
            out[chosen] = out[chosen][:, ::-1]
        return out.reshape(X.shape)

    def __repr__(self) -> str:
        return (f"RandomFlip(image_shape={self.image_shape}, horizontal={self.horizontal}, vertical={self.vertical}, "
                f"p={self.p})")


class RandomRotation(Augmentation):
    """Rotate each image about its centre by an angle drawn uniformly from ``[-max_degrees, max_degrees]``.

    With ``theta`` the angle and ``c = ((height - 1) / 2, (width - 1) / 2)`` the centre, output pixel ``p``
    reads the input at ``R(theta) (p - c) + c`` (bilinear, ``fill`` outside); one uniform draw per
    example, ``source.uniform((m, 1))``.

    Parameters
    ----------
    image_shape : (height, width) or (height, width, channels)
    max_degrees : float in [0, 180]
        Largest rotation (a few degrees to 15 is the usual "small rotation").
    fill : float
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"max_degrees": Real(low=0.0, high=180.0), "fill": Real()}
    max_degrees: float
    fill: float

    def __init__(self, image_shape: Sequence[int], max_degrees: float = 10.0, fill: float = 0.0) -> None:
        self.image_shape = _image_shape(image_shape)
        set_params_checked(self, max_degrees=max_degrees, fill=fill)

    def check(self, X: np.ndarray) -> None:
        _images(self, X)

    def draw(self, shape: tuple[int, int], source: Any, dtype: Any) -> np.ndarray:
        return source.uniform((shape[0], 1), dtype)

    def apply(self, X: np.ndarray, drawn: np.ndarray) -> np.ndarray:
        images = _images(self, X)
        theta = np.radians((2 * drawn[:, 0].astype(float) - 1) * self.max_degrees)
        cos, sin = np.cos(theta), np.sin(theta)
        matrices = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)  # (m, 2, 2)
        return warp(images, matrices, _offsets_about_center(matrices, self.image_shape), self.fill).reshape(X.shape)

    def __repr__(self) -> str:
        return f"RandomRotation(image_shape={self.image_shape}, max_degrees={self.max_degrees}, fill={self.fill})"


class RandomZoom(Augmentation):
    """Zoom each image about its centre by a factor drawn uniformly from ``[1 - max_zoom, 1 + max_zoom]``.

    With ``s`` the factor (above 1 enlarges) and ``c`` the centre, output pixel ``p`` reads the input at
    ``(p - c) / s + c`` (bilinear, ``fill`` outside); one uniform draw per example,
    ``source.uniform((m, 1))``.

    Parameters
    ----------
    image_shape : (height, width) or (height, width, channels)
    max_zoom : float in [0, 1)
        Largest relative change of size (0.1: between 90 % and 110 %).
    fill : float
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"max_zoom": Real(low=0.0, high=1.0, high_open=True),
                                                               "fill": Real()}
    max_zoom: float
    fill: float

    def __init__(self, image_shape: Sequence[int], max_zoom: float = 0.1, fill: float = 0.0) -> None:
        self.image_shape = _image_shape(image_shape)
        set_params_checked(self, max_zoom=max_zoom, fill=fill)

    def check(self, X: np.ndarray) -> None:
        _images(self, X)

    def draw(self, shape: tuple[int, int], source: Any, dtype: Any) -> np.ndarray:
        return source.uniform((shape[0], 1), dtype)

    def apply(self, X: np.ndarray, drawn: np.ndarray) -> np.ndarray:
        images = _images(self, X)
        scale = 1 + (2 * drawn[:, 0].astype(float) - 1) * self.max_zoom
        matrices = np.eye(2)[None] / scale[:, None, None]
        return warp(images, matrices, _offsets_about_center(matrices, self.image_shape), self.fill).reshape(X.shape)

    def __repr__(self) -> str:
        return f"RandomZoom(image_shape={self.image_shape}, max_zoom={self.max_zoom}, fill={self.fill})"


class RandomCrop(Augmentation):
    """Crop a random ``crop_shape`` window of each image and stretch it back to the full image.

    The window's top-left corner ``(top, left)`` is drawn uniformly over the whole-pixel positions that keep
    it inside the image (two uniform draws per example, ``source.uniform((m, 2))``); output pixel
    ``(r, c)`` reads the input at ``(top + (r + 0.5) h' / h - 0.5, left + (c + 0.5) w' / w - 0.5)``
    (bilinear, clipped to the window) with ``(h', w')`` the window and ``(h, w)`` the image, so the network
    keeps its input size.

    Parameters
    ----------
    image_shape : (height, width) or (height, width, channels)
    crop_shape : (height, width)
        The window, at most the image (``(7, 7)`` on the 8x8 digits); equal to the image: the identity.
    """

    def __init__(self, image_shape: Sequence[int], crop_shape: Sequence[int] = (7, 7)) -> None:
        self.image_shape = _image_shape(image_shape)
        crop = tuple(crop_shape) if isinstance(crop_shape, (tuple, list)) else None
        if crop is None or len(crop) != 2:
            raise ValueError(f"crop_shape must be (height, width); got {crop_shape!r}")
        self.crop_shape = (check_int("crop_shape[0]", crop[0], low=1, high=self.image_shape[0]),
                           check_int("crop_shape[1]", crop[1], low=1, high=self.image_shape[1]))

    def check(self, X: np.ndarray) -> None:
        _images(self, X)

    def draw(self, shape: tuple[int, int], source: Any, dtype: Any) -> np.ndarray:
        return source.uniform((shape[0], 2), dtype)

    def apply(self, X: np.ndarray, drawn: np.ndarray) -> np.ndarray:
        images = _images(self, X)
        m = X.shape[0]
        size = np.asarray(self.image_shape[:2])
        crop = np.asarray(self.crop_shape)
        room = size - crop  # whole-pixel positions: 0 .. room
        u = drawn.astype(float)
        corners = np.minimum(np.floor(u * (room + 1)), room).astype(np.intp)  # (m, 2)
        rows = corners[:, :1] + np.arange(crop[0])  # (m, h')
        columns = corners[:, 1:] + np.arange(crop[1])  # (m, w')
        windows = images[np.arange(m)[:, None, None], rows[:, :, None], columns[:, None, :]]
        ratio = crop / size
        matrices = np.broadcast_to(np.diag(ratio), (m, 2, 2))
        offsets = np.broadcast_to(0.5 * ratio - 0.5, (m, 2))
        return warp(windows, matrices, offsets, clamp=True, size=self.image_shape[:2]).reshape(X.shape)

    def __repr__(self) -> str:
        return f"RandomCrop(image_shape={self.image_shape}, crop_shape={self.crop_shape})"


class GaussianNoise(Augmentation):
    """Add independent Gaussian noise: ``X + std * N(0, 1)``, drawn with ``source.normal(X.shape)``.

    Parameters
    ----------
    std : float >= 0
        Standard deviation of the noise, in the units of ``X`` (e.g. 0.1 for standardized features).
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {"std": Real(low=0.0)}
    std: float

    def __init__(self, std: float = 0.1) -> None:
        set_params_checked(self, std=std)

    def draw(self, shape: tuple[int, int], source: Any, dtype: Any) -> np.ndarray:
        return source.normal(tuple(shape), dtype)

    def apply(self, X: np.ndarray, drawn: np.ndarray) -> np.ndarray:
        noise = drawn * self.std
        noise += X
        return noise

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std})"


class Compose(Augmentation):
    """Apply several augmentations in order: ``Compose(RandomShift((8, 8)), GaussianNoise(0.1))``.

    Made of :class:`Augmentation` s it is one too (draws: a tuple, one entry per part, drawn in order); with
    plain functions ``f(X_batch, source)`` among its parts it calls them in turn and has no ``draw``/``apply``.
    """

    def __init__(self, *augmentations: Callable[[np.ndarray, Any], np.ndarray]) -> None:
        for index, augmentation in enumerate(augmentations):
            if not callable(augmentation):
                raise TypeError(f"augmentations[{index}] must be callable (X_batch, source) -> X_batch; got {augmentation!r}")
        self.augmentations = augmentations

    @property
    def splits(self) -> bool:
        """Whether every part is an :class:`Augmentation` (then ``draw`` and ``apply`` exist)."""
        return all(isinstance(augmentation, Augmentation) and getattr(augmentation, "splits", True)
                   for augmentation in self.augmentations)

    def draw(self, shape: tuple[int, int], source: Any, dtype: Any) -> tuple:
        if not self.splits:
            raise TypeError("Compose of plain functions has no draw(); call it on each mini-batch")
        return tuple(augmentation.draw(shape, source, dtype) for augmentation in self.augmentations)

    def apply(self, X: np.ndarray, drawn: tuple) -> np.ndarray:
        for augmentation, part in zip(self.augmentations, drawn):
            X = augmentation.apply(X, part)
        return X

    def __call__(self, X: np.ndarray, source: Any) -> np.ndarray:
        for augmentation in self.augmentations:
            X = augmentation(X, source)
        return X

    def __repr__(self) -> str:
        return f"Compose({', '.join(map(repr, self.augmentations))})"
