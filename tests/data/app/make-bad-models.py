#!/usr/bin/python3
"""Writes the small ONNX files the window's bad-input tests open:
hardmax.onnx (a classifier ending in Hardmax, an op the engine does not
implement) and not-classifier.onnx (its output is an image [1,3,8,8], not
class scores [N,K]). Run with Debian's python3 (needs the onnx module):
    /usr/bin/python3 tests/data/app/make-bad-models.py tests/data/app
"""
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

out = sys.argv[1] if len(sys.argv) > 1 else "."


def save(graph, name):
    model = helper.make_model(graph, producer_name="heatlens-tests",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, f"{out}/{name}")


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])

# x -> Flatten -> Gemm (192 -> 4) -> Hardmax
rng = np.random.default_rng(1)
w = numpy_helper.from_array(rng.standard_normal((4, 192)).astype(np.float32), "w")
b = numpy_helper.from_array(np.zeros(4, np.float32), "b")
save(helper.make_graph(
    [helper.make_node("Flatten", ["x"], ["flat"], name="flatten"),
     helper.make_node("Gemm", ["flat", "w", "b"], ["logits"], name="fc", transB=1),
     helper.make_node("Hardmax", ["logits"], ["y"], name="hardmax_node")],
    "hardmax", [x],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    [w, b]), "hardmax.onnx")

# x -> Relu: an image in, an image out
save(helper.make_graph(
    [helper.make_node("Relu", ["x"], ["y"], name="relu")],
    "not_classifier", [x],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])]),
    "not-classifier.onnx")
