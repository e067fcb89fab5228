import os
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import seed as seed

_Number = Union[float, str]
_Center = Union[Tuple[_Number, _Number], str, None]

def render(
    width: int = 400,
    height: int = 400,
    max_iter: int = 1000,
    xmin: Optional[float] = None,
    xmax: Optional[float] = None,
    ymin: Optional[float] = None,
    ymax: Optional[float] = None,
    *,
    center: _Center = None,
    zoom: Optional[_Number] = None,
    reference: _Center = None,
    rows: Optional[Tuple[int, int]] = None,
    precision: str = "auto",
    kernel: str = "auto",
    jobs: Optional[int] = None,
    pool: str = "threads",
    shortcuts: bool = True,
) -> npt.NDArray[np.uint32]: ...
def colorize(
    counts: npt.ArrayLike,
    colormap: str = "viridis",
    color: str = "counts",
    *,
    max_iter: Optional[int] = None,
    cycle: Optional[float] = None,
    offset: float = 0.0,
    inside: Optional[str] = None,
) -> npt.NDArray[np.uint8]: ...
def picture(
    width: int = 400,
    height: int = 400,
    max_iter: int = 1000,
    xmin: Optional[float] = None,
    xmax: Optional[float] = None,
    ymin: Optional[float] = None,
    ymax: Optional[float] = None,
    *,
    center: _Center = None,
    zoom: Optional[_Number] = None,
    reference: _Center = None,
    rows: Optional[Tuple[int, int]] = None,
    precision: str = "auto",
    colormap: str = "viridis",
    color: str = "counts",
    cycle: Optional[float] = None,
    offset: float = 0.0,
    inside: Optional[str] = None,
    supersample: int = 1,
    kernel: str = "auto",
    jobs: Optional[int] = None,
    pool: str = "threads",
    shortcuts: bool = True,
) -> npt.NDArray[np.uint8]: ...
def save(
    path: Union[str, os.PathLike[str]],
    width: int = 400,
    height: int = 400,
    max_iter: int = 1000,
    xmin: Optional[float] = None,
    xmax: Optional[float] = None,
    ymin: Optional[float] = None,
    ymax: Optional[float] = None,
    *,
    center: _Center = None,
    zoom: Optional[_Number] = None,
    reference: _Center = None,
    rows: Optional[Tuple[int, int]] = None,
    precision: str = "auto",
    format: Optional[str] = None,
    colormap: str = "viridis",
    color: str = "counts",
    cycle: Optional[float] = None,
    offset: float = 0.0,
    inside: Optional[str] = None,
    supersample: int = 1,
    kernel: str = "auto",
    jobs: Optional[int] = None,
    pool: str = "threads",
    shortcuts: bool = True,
) -> None: ...
def kernels() -> Sequence[str]: ...
