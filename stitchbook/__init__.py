__version__ = "0.0.1"

# Backends that register themselves with `stitchbook.models.load_model` on import (the embedded zoo).
from . import zoo as _zoo  # noqa: E402,F401
