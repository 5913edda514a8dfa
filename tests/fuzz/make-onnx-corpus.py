#!/usr/bin/python3
"""Writes the small synthetic models of corpus/onnx/ (Debian's python3-onnx).

One model per family of ops the engine supports, on 1x2x5x5 inputs with a
free batch dimension, so the fuzzer starts from every op's attributes and
shape rules at a few hundred bytes per file. Weights follow a formula."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "onnx")


def arr(name, shape, dtype=np.float32):
    n = int(np.prod(shape)) if shape else 1
    v = ((np.arange(n) % 7) - 3) * 0.25
    return numpy_helper.from_array(v.astype(dtype).reshape(shape), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def save(name, nodes, inits, in_shape=("N", 2, 5, 5), opset=13):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    # no onnx.checker: the output has no declared shape (the engine infers it)
    with open(os.path.join(OUT, "op-" + name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())


def node(op, ins, outs, **attrs):
    return helper.make_node(op, ins, outs, **attrs)


def main():
    os.makedirs(OUT, exist_ok=True)
    save("conv-group-pads", [
        node("Conv", ["x", "W", "B"], ["c"], group=2, pads=[1, 0, 1, 2],
             strides=[2, 1], dilations=[1, 2]),
        node("Relu", ["c"], ["y"])], [arr("W", [4, 1, 3, 2]), arr("B", [4])])
    save("conv-bn-fold", [
        node("Conv", ["x", "W"], ["c"], auto_pad="SAME_UPPER", kernel_shape=[3, 3]),
        node("BatchNormalization", ["c", "g", "b", "m", "v"], ["y"])],
        [arr("W", [3, 2, 3, 3]), arr("g", [3]), arr("b", [3]), arr("m", [3]),
         numpy_helper.from_array(np.array([1, 2, 0.5], np.float32), "v")])
    save("pools", [
        node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2],
             pads=[0, 0, 1, 1], ceil_mode=1),
        node("AveragePool", ["p"], ["q"], kernel_shape=[2, 2], pads=[1, 1, 1, 1],
             count_include_pad=0),
        node("GlobalAveragePool", ["q"], ["g"]),
        node("GlobalMaxPool", ["q"], ["h"]),
        node("Add", ["g", "h"], ["y"])], [])
    save("activations", [
        node("LeakyRelu", ["x"], ["a"], alpha=0.1),
        node("PRelu", ["a", "s"], ["b"]),
        node("Clip", ["b", "lo", "hi"], ["c"]),
        node("HardSigmoid", ["c"], ["d"], alpha=0.3, beta=0.4),
        node("HardSwish", ["d"], ["e"]),
        node("Elu", ["e"], ["f"], alpha=0.7),
        node("Tanh", ["f"], ["g"]),
        node("Sigmoid", ["g"], ["y"])],
        [arr("s", [2, 1, 1]), numpy_helper.from_array(np.float32(-1), "lo"),
         numpy_helper.from_array(np.float32(1), "hi")])
    save("arith-broadcast", [
        node("Sub", ["x", "c1"], ["a"]),
        node("Mul", ["a", "c2"], ["b"]),
        node("Div", ["b", "c3"], ["y"])],
        [arr("c1", [5]), arr("c2", [2, 1, 1]),
         numpy_helper.from_array(np.full((1, 5, 1), 2, np.float32), "c3")])
    save("gemm-softmax", [
        node("Flatten", ["x"], ["f"], axis=1),
        node("Gemm", ["f", "W", "B"], ["g"], transB=1, alpha=0.5, beta=2.0),
        node("MatMul", ["g", "M"], ["h"]),
        node("LogSoftmax", ["h"], ["s"], axis=-1),
        node("Softmax", ["s"], ["y"], axis=1)],
        [arr("W", [4, 50]), arr("B", [4]), arr("M", [4, 3])])
    save("shape-ops", [
        node("Shape", ["x"], ["s"]),
        node("Gather", ["s", "i0"], ["n"], axis=0),
        node("Concat", ["n", "tail"], ["ns"], axis=0),
        node("Reshape", ["x", "ns"], ["r"]),
        node("Transpose", ["r"], ["t"], perm=[0, 2, 1]),
        node("Unsqueeze", ["t", "ax"], ["u"]),
        node("Squeeze", ["u", "ax"], ["q"]),
        node("Slice", ["q", "st", "en", "axs", "stp"], ["sl"]),
        node("ReduceMean", ["sl"], ["y"], axes=[2], keepdims=0)],
        [ints("i0", [0]), ints("tail", [10, 5]), ints("ax", [1]),
         ints("st", [1, 0]), ints("en", [9, 5]), ints("axs", [2, 1]),
         ints("stp", [2, 1])])
    save("pad-concat", [
        node("Pad", ["x", "pads", "val"], ["p"], mode="constant"),
        node("Pad", ["x", "pads2"], ["q"]),
        node("Pad", ["q", "pads3"], ["e"]),
        node("Concat", ["q", "e"], ["c"], axis=1),
        node("Concat", ["p", "c"], ["y"], axis=1)],
        [ints("pads", [0, 0, 1, 1, 0, 0, 1, 1]),
         numpy_helper.from_array(np.float32(0.5), "val"),
         ints("pads2", [0, 0, 2, 0, 0, 0, 0, 2]),
         ints("pads3", [0, 0, -1, 1, 0, 0, 1, -1])])
    save("misc", [
        node("Identity", ["x"], ["a"]),
        node("Dropout", ["a"], ["b"]),
        node("Constant", [], ["k"], value=arr("kv", [1])),
        node("Add", ["b", "k"], ["c"]),
        node("ConstantOfShape", ["cs"], ["z"],
             value=numpy_helper.from_array(np.array([1.5], np.float32))),
        node("Cast", ["z"], ["zz"], to=TensorProto.FLOAT),
        node("Mul", ["c", "zz"], ["y"])], [ints("cs", [5])])


if __name__ == "__main__":
    main()
