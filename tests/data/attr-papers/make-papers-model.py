#!/usr/bin/python3
"""Writes papers.onnx: the small hand-made graph on which the methods beyond
Captum (tests/attr/test-papers.c) are checked against their papers'
formulas, computed there in float64 from the weights saved here:
input [N,2,8,8] -> Conv(2->4, k3, stride 2, pad 1, bias) 'conv1' -> Relu
'relu1' (the layer, [N,4,4,4]) -> Conv(4->3, k1, bias) 'conv2' -> Relu
'relu2' -> GlobalAveragePool -> Flatten -> Gemm(3->5) 'fc' -> logits [N,5].
The second ReLU makes dS/dA vary from pixel to pixel. Weights from a fixed
seed; also writes papers_{conv1_w,conv1_b,conv2_w,conv2_b,fc_w,fc_b,input}.npy.
Run: /usr/bin/python3 make-papers-model.py  (numpy + onnx 1.12)."""
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

rng = np.random.default_rng(2015)
arrays = {
    'conv1_w': rng.standard_normal((4, 2, 3, 3)) * 0.6,
    'conv1_b': rng.standard_normal(4) * 0.2 + 0.1,
    'conv2_w': rng.standard_normal((3, 4, 1, 1)) * 0.8,
    'conv2_b': rng.standard_normal(3) * 0.2 + 0.2,
    'fc_w': rng.standard_normal((5, 3)) * 1.0,
    'fc_b': rng.standard_normal(5) * 0.1,
    'input': rng.standard_normal((1, 2, 8, 8)),
}
arrays = {k: v.astype(np.float32) for k, v in arrays.items()}
for k, v in arrays.items():
    np.save('papers_%s.npy' % k, v)
inits = [numpy_helper.from_array(arrays[k], k) for k in arrays if k != 'input']
nodes = [
    helper.make_node('Conv', ['input', 'conv1_w', 'conv1_b'], ['c1'], name='conv1',
                     pads=[1, 1, 1, 1], strides=[2, 2]),
    helper.make_node('Relu', ['c1'], ['a1'], name='relu1'),
    helper.make_node('Conv', ['a1', 'conv2_w', 'conv2_b'], ['c2'], name='conv2'),
    helper.make_node('Relu', ['c2'], ['a2'], name='relu2'),
    helper.make_node('GlobalAveragePool', ['a2'], ['gap'], name='gap'),
    helper.make_node('Flatten', ['gap'], ['flat'], name='flatten'),
    helper.make_node('Gemm', ['flat', 'fc_w', 'fc_b'], ['logits'], name='fc', transB=1),
]
graph = helper.make_graph(
    nodes, 'papers',
    [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['N', 2, 8, 8])],
    [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['N', 5])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)],
                          producer_name='heatlens-tests')
onnx.checker.check_model(model)
onnx.save(model, 'papers.onnx')
