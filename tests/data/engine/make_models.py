#!/usr/bin/python3
"""Makes the tiny ONNX files of tests/engine/test-onnx-errors.c.

Run with Debian's python3 (python3-onnx 1.12):  /usr/bin/python3 make_models.py
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(graph, name, opset=13, **kw):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="heatlens-tests")
    model.ir_version = 8
    onnx.save(model, name, **kw)


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])

# an op Heatlens does not implement (Celu), after a supported one
save(helper.make_graph([
    helper.make_node("Relu", ["x"], ["r"], name="/act/Relu"),
    helper.make_node("Celu", ["r"], ["y"], name="/act2/Celu", alpha=1.0),
], "unsupported_op", [x], [y]), "unsupported_op.onnx")

# a weight kept in an external file
w = numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4), "W")
g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="/fc/MatMul")],
                      "external", [x], [y], [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, "external_data.onnx", save_as_external_data=True,
          all_tensors_to_one_file=True, location="external_data.bin", size_threshold=0)

# opset 18 (newer than supported)
save(helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="/act/Relu")],
                       "opset18", [x], [y]), "opset18.onnx", opset=18)

# exported with a fixed batch: Reshape to [1, -1] breaks at batch > 1
x3 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 2])
y3 = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
shape = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape")
save(helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["y"], name="/flat/Reshape")],
                       "fixed_batch", [x3], [y3], [shape]), "fixed_batch.onnx")

# an int64 graph input
xi = helper.make_tensor_value_info("x", TensorProto.INT64, ["N", 4])
save(helper.make_graph([helper.make_node("Identity", ["x"], ["y"], name="id")],
                       "int_input", [xi], [helper.make_tensor_value_info("y", TensorProto.INT64, ["N", 4])]),
     "int64_input.onnx")

# a node reading a value nothing produces
save(helper.make_graph([helper.make_node("Add", ["x", "ghost"], ["y"], name="/add/Add")],
                       "dangling", [x], [y]), "dangling_input.onnx")

# metadata, an unnamed node, Identity and Dropout removed at load
g = helper.make_graph([
    helper.make_node("Relu", ["x"], ["r"]),
    helper.make_node("Identity", ["r"], ["i"], name="/id/Identity"),
    helper.make_node("Dropout", ["i"], ["y"], name="/drop/Dropout"),
], "meta", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
helper.set_model_props(m, {"heatlens.labels": "a,b,c,d", "author": "tests"})
onnx.save(m, "metadata.onnx")

# a supported op with an attribute value Heatlens rejects (MaxPool storage_order=1)
x4 = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])
y4 = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 2, 2])
save(helper.make_graph([helper.make_node("MaxPool", ["x"], ["y"], name="/pool/MaxPool",
                                         kernel_shape=[2, 2], strides=[2, 2], storage_order=1)],
                       "bad_attr", [x4], [y4]), "unsupported_attr.onnx")

# a small CNN without Relu (Conv, Clip, Sigmoid, pooling, Gemm): backward
# rules for Relu must not change its gradients
rng = np.random.default_rng(0)
xi = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])
yo = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
inits = [
    numpy_helper.from_array(rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "W1"),
    numpy_helper.from_array(rng.normal(0, 0.1, (4,)).astype(np.float32), "B1"),
    numpy_helper.from_array(np.array(0.0, dtype=np.float32), "lo"),
    numpy_helper.from_array(np.array(6.0, dtype=np.float32), "hi"),
    numpy_helper.from_array(rng.normal(0, 0.5, (3, 4)).astype(np.float32), "W2"),
    numpy_helper.from_array(rng.normal(0, 0.1, (3,)).astype(np.float32), "B2"),
]
save(helper.make_graph([
    helper.make_node("Conv", ["x", "W1", "B1"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1]),
    helper.make_node("Clip", ["c", "lo", "hi"], ["k"], name="/clip/Clip"),
    helper.make_node("Sigmoid", ["k"], ["s"], name="/sig/Sigmoid"),
    helper.make_node("Mul", ["s", "c"], ["p"], name="/mul/Mul"),
    helper.make_node("GlobalAveragePool", ["p"], ["g"], name="/gap/GlobalAveragePool"),
    helper.make_node("Flatten", ["g"], ["f"], name="/flat/Flatten"),
    helper.make_node("Gemm", ["f", "W2", "B2"], ["y"], name="/fc/Gemm", transB=1),
], "relu_free", [xi], [yo], inits), "relu_free.onnx")
