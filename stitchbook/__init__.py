__version__ = "0.0.1"

# Backends that register themselves with `stitchbook.models.load_model` on import (the embedded zoo, the reference's convnet).
from . import zoo as _zoo  # noqa: E402,F401
from . import convnet as _convnet  # noqa: E402,F401  (the reference's `convnet`)
