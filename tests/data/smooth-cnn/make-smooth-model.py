#!/usr/bin/python3
"""Writes smooth.onnx: a small CNN without any Relu (Sigmoid, Tanh, Clip 0..6,
MaxPool, Add), random weights from a fixed seed, dynamic batch, input [N,3,12,12],
output [N,5]. Used by tests/attr/test-attr-axioms.c: guided backprop and
deconvolution must equal the plain gradient on it (they change only Relu).
Run: /usr/bin/python3 make-smooth-model.py  (numpy + onnx 1.12)."""
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

rng = np.random.default_rng(1234)
def w(name, *shape, scale=0.5):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

inits = [w('w1', 4, 3, 3, 3), w('b1', 4, scale=0.1), w('w2', 6, 4, 3, 3), w('b2', 6, scale=0.1),
         w('w3', 6, 4, 1, 1), w('fc_w', 5, 6), w('fc_b', 5, scale=0.1),
         numpy_helper.from_array(np.array(0.0, np.float32), 'clip_lo'),
         numpy_helper.from_array(np.array(6.0, np.float32), 'clip_hi')]
nodes = [
    helper.make_node('Conv', ['input', 'w1', 'b1'], ['c1'], name='conv1', pads=[1, 1, 1, 1]),
    helper.make_node('Sigmoid', ['c1'], ['s1'], name='sig1'),
    helper.make_node('Conv', ['s1', 'w2', 'b2'], ['c2'], name='conv2', pads=[1, 1, 1, 1], strides=[2, 2]),
    helper.make_node('Tanh', ['c2'], ['t2'], name='tanh2'),
    helper.make_node('Conv', ['s1', 'w3'], ['c3'], name='skip', strides=[2, 2]),
    helper.make_node('Add', ['t2', 'c3'], ['a'], name='add'),
    helper.make_node('Clip', ['a', 'clip_lo', 'clip_hi'], ['r6'], name='relu6'),
    helper.make_node('MaxPool', ['r6'], ['mp'], name='pool', kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node('GlobalAveragePool', ['mp'], ['gap'], name='gap'),
    helper.make_node('Flatten', ['gap'], ['flat'], name='flatten'),
    helper.make_node('Gemm', ['flat', 'fc_w', 'fc_b'], ['logits'], name='fc', transB=1),
]
graph = helper.make_graph(
    nodes, 'smooth',
    [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['N', 3, 12, 12])],
    [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['N', 5])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)],
                          producer_name='heatlens-tests')
onnx.checker.check_model(model)
onnx.save(model, 'smooth.onnx')
x = rng.standard_normal((1, 3, 12, 12)).astype(np.float32)
np.save('smooth_input.npy', x)
