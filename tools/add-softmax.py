#!/usr/bin/python3
"""Append a final Softmax (or LogSoftmax) over the class axis to an ONNX
classifier, for checking that every entry point reports the same
probabilities with and without it (issue: "predict says 78.28 %, explain
--json 0.00218").

Usage: /usr/bin/python3 tools/add-softmax.py IN.onnx OUT.onnx [LogSoftmax]
(python3-onnx). The labels file next to IN is not copied.
"""
import sys

import onnx
from onnx import helper


def main():
    src, dst = sys.argv[1], sys.argv[2]
    op = sys.argv[3] if len(sys.argv) > 3 else "Softmax"
    model = onnx.load(src)
    graph = model.graph
    out = graph.output[0]
    raw = out.name + "_before_" + op.lower()
    for node in graph.node:   # the producer now writes the raw scores
        node.output[:] = [raw if o == out.name else o for o in node.output]
    graph.node.append(helper.make_node(op, [raw], [out.name], axis=1,
                                       name="final_" + op.lower()))
    onnx.checker.check_model(model)
    onnx.save(model, dst)


if __name__ == "__main__":
    main()
