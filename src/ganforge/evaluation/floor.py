"""The real-vs-real floor: one definition for every evaluation path.

Next to every number, ``metrics.json`` holds the same metric for a second real sample
under ``real_vs_real``: what a perfect generator -- one that returns fresh samples of its
training data -- scores at this sample size. The second sample

- comes from the training data (the data the generator learns),
- has the same size as the generated sample,
- is drawn independently of the reference sample; for image datasets, which are finite,
  it shares no image with it,
- is scored against the same reference, extractor and settings as the generated samples.

``ganforge evaluate RUN`` and the trainer draw both real samples from the run's dataset
(:mod:`~ganforge.evaluation.lowdim`, :mod:`~ganforge.evaluation.image`). Against a named
dataset split (``--reference fashion-mnist:test``) the second sample is the first N
training images; against the train split itself, the next N (see
:func:`~ganforge.evaluation.image.real_vs_real_floor`).
"""

from __future__ import annotations

from typing import Any

from ganforge.evaluation.registry import metric_values

#: How the floor was obtained, as recorded in ``protocol.real_vs_real``.
REAL_VS_REAL = (
    "a second sample of the training data, of the same size, drawn independently of the "
    "reference (no shared image), scored against the same reference"
)


def add_floor(result: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    """Store ``floor`` -- the same evaluation run on the second real sample -- in
    ``result``: its registered metrics under ``real_vs_real`` and the definition above
    in ``result["protocol"]``."""
    result["real_vs_real"] = metric_values(floor)
    result.setdefault("protocol", {})["real_vs_real"] = REAL_VS_REAL
    return result
