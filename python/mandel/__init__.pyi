from typing import Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import seed as seed

def render(
    width: int = 400,
    height: int = 400,
    max_iter: int = 1000,
    xmin: Optional[float] = None,
    xmax: Optional[float] = None,
    ymin: Optional[float] = None,
    ymax: Optional[float] = None,
    *,
    center: Union[Tuple[Union[float, str], Union[float, str]], str, None] = None,
    zoom: Union[float, str, None] = None,
    rows: Optional[Tuple[int, int]] = None,
    kernel: str = "auto",
    jobs: Optional[int] = None,
    pool: str = "threads",
    shortcuts: bool = True,
) -> npt.NDArray[np.uint32]: ...
def kernels() -> Sequence[str]: ...
