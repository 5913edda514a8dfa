#!/usr/bin/python3
"""Writes the hand-made ONNX crash reproducers of regressions/ that this
script names (python3-onnx). Inputs found by libFuzzer are saved as they
came; these are the smallest models showing a bug, written from its cause.

  onnx-add-omitted-output: an Add of two initializers whose output is named
    "" (omitted). Folded at load, its kernel wrote through the null data
    pointer of the output that was never allocated (UBSan "applying zero
    offset to null pointer" at elementwise.c bin_fwd_range; CI's 60-s
    fuzz-onnx run, December 2026).
  onnx-layernorm-omitted-y: LayerNormalization with Y omitted and Mean used
    as the graph output: the same null write at run time (layernorm.c)."""
import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regressions")


def save(name, nodes, inits, opset=13):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(model.SerializeToString())


def main():
    a = numpy_helper.from_array(np.array([1, 2], np.float32), "A")
    b = numpy_helper.from_array(np.array([3, 4], np.float32), "B")
    save("onnx-add-omitted-output",
         [helper.make_node("Add", ["A", "B"], [""]),
          helper.make_node("Relu", ["x"], ["y"])], [a, b])
    save("onnx-layernorm-omitted-y",
         [helper.make_node("LayerNormalization", ["x", "A"], ["", "y"])],
         [a], opset=17)


if __name__ == "__main__":
    main()
