#!/usr/bin/python3
"""Writes linear.onnx: a model whose pixel importances are known exactly.

input [N,1,4,4] -> Flatten -> Gemm(16->2) -> logits [N,2]; class 0's
weights are w[i] = (i * 7 % 16 + 1) / 8 (all positive, all different, in
a shuffled order), class 1's are 0, biases 0. So softmax(logits)[0] =
sigmoid(sum_i w[i] x[i]), and on an input of ones the true importance of
pixel i is w[i]. Used by tests/attr/test-trust.c (deletion and insertion
curves). Run with Debian's python (numpy, onnx):
    /usr/bin/python3 make-linear-model.py
"""
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

w = np.zeros((2, 16), np.float32)
w[0] = [(i * 7 % 16 + 1) / 8.0 for i in range(16)]
b = np.zeros((2,), np.float32)
nodes = [
    helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1),
    helper.make_node("Gemm", ["flat", "w", "b"], ["logits"], name="fc", transB=1),
]
graph = helper.make_graph(
    nodes, "linear",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 4, 4])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
    [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="heatlens-tests")
onnx.checker.check_model(model)
onnx.save(model, "linear.onnx")
