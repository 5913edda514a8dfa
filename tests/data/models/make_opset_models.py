#!/usr/bin/python3
"""Relu models declaring a given default-domain opset, for the opset range
checks of tests/engine/test-models.c (Debian python3-onnx 1.12; the onnx
checker is not run since 1.12 does not know the newer opsets).

Usage: /usr/bin/python3 tests/data/models/make_opset_models.py
"""
import os

from onnx import TensorProto, helper, save

HERE = os.path.dirname(os.path.abspath(__file__))

for opset in (22, 23):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 4, 4])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                          "relu", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="heatlens-tests")
    m.ir_version = 8
    save(m, os.path.join(HERE, "opset%d.onnx" % opset))
