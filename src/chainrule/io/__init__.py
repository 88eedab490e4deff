"""Model files and exchange formats.

* :mod:`.models`: ``save``/``load`` of whole models (and optimisers) as one ``.safetensors`` file;
* :mod:`.bundle`: the file format underneath: arrays plus a versioned, checksummed JSON document;
* :mod:`.onnx`: export to ONNX (optional extra ``chainrule[onnx]``).

No pickle anywhere: a model file is data, validated on load.
"""

from .models import *  # noqa: F401,F403
from .models import __all__  # noqa: F401
