#!/usr/bin/python3
"""Writes blind.onnx: a tiny CNN that never looks at input channel 2.

input [N,3,8,8] -> Conv(3->4, k3, pad 1; weights of input channel 2 are
zero) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(4->3) -> logits [N,3].
Fixed pseudo-random weights (numpy seed 3). Used by the perturbation attribution
tests (occlusion of an unused channel is 0; brute-force Shapley values on
16 features are cheap on it). Run with Debian's python (numpy, onnx):
    /usr/bin/python3 make-blind-model.py
"""
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

rng = np.random.default_rng(3)
w = rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32)
w[:, 2] = 0.0
b = rng.normal(0, 0.1, (4,)).astype(np.float32)
fc = rng.normal(0, 1.0, (3, 4)).astype(np.float32)
fcb = rng.normal(0, 0.1, (3,)).astype(np.float32)

nodes = [
    helper.make_node("Conv", ["input", "w", "b"], ["conv"], name="conv",
                     kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
    helper.make_node("GlobalAveragePool", ["relu"], ["gap"], name="gap"),
    helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
    helper.make_node("Gemm", ["flat", "fc", "fcb"], ["logits"], name="fc",
                     transB=1),
]
graph = helper.make_graph(
    nodes, "blind",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 8, 8])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
    [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
     numpy_helper.from_array(fc, "fc"), numpy_helper.from_array(fcb, "fcb")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="heatlens-tests")
onnx.checker.check_model(model)
onnx.save(model, "blind.onnx")

x = rng.normal(0, 1, (1, 3, 8, 8)).astype(np.float32)
np.save("blind_input.npy", x)
