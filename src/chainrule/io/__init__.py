"""Model files and exchange formats.

* :mod:`.models`: ``save``/``load`` of whole models (and optimisers) as one ``.safetensors`` file;
* :mod:`.bundle`: the file format underneath: arrays plus a versioned, checksummed JSON document;
* :mod:`.onnx`: export to ONNX (optional extra ``chainrule[onnx]``), with the exporters of the
  layers (:mod:`.onnx_layers`, :mod:`.onnx_layers_more`, :mod:`.onnx_context`, :mod:`.onnx_activations`),
  of a user's own modules by tracing (:mod:`.onnx_traced`), of the table pipeline in front
  (:mod:`.onnx_table`), and onnxruntime runs (:mod:`.onnx_run`).

No pickle anywhere: a model file is data, validated on load.
"""

from .models import *  # noqa: F401,F403
from .models import __all__  # noqa: F401
