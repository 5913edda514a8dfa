#!/usr/bin/python3
"""Convert the quantized MobileNet V2 TFLite model into a float32 ONNX model.

    tools/tflite2onnx.py [--tflite FILE] [--labels FILE] [--out FILE]
    tools/tflite2onnx.py --check [--tflite FILE] [--out FILE] [IMAGE.png ...]
    tools/tflite2onnx.py --predict [--out FILE] IMAGE ...

Needs Debian's python3-numpy and python3-onnx (1.12); the flatbuffer is
parsed by hand from the public TFLite schema (tensorflow/lite/schema/
schema.fbs): a table starts with an int32 offset back to its vtable, the
vtable lists uint16 field offsets, field i sits at vtable slot 4 + 2*i, and
a union field takes two slots (its type byte, then the table).

What the conversion does (see data/models/README.md):
  * uint8 weights stay uint8, each followed by a DequantizeLinear node
    (w - zero_point) * scale with the TFLite float32 scale, which the
    engine folds into float32 weights at load (a quarter of the file size;
    the same floats as dequantising here); int32 biases -> float32
    b * input_scale * weight_scale (not a float32 scale, so not kept as
    int32);
  * NHWC -> NCHW: conv weights [O,kh,kw,I] -> [O,I,kh,kw], depthwise
    [1,kh,kw,C] -> [C,1,kh,kw] as a Conv with group = C;
  * TF "SAME" padding -> explicit pads, the odd one at bottom/right;
  * fused ReLU6 -> Clip(0, 6) (opset 13, min/max as inputs);
  * the final SOFTMAX is dropped: the graph output "logits" holds the 1001
    logits; the graph input "input" is float [N,3,224,224] holding the real
    values the uint8 input stood for, in_scale * (pixel - in_zero_point);
  * preprocessing and labels travel as metadata_props (src/io/preprocess.h).

--check runs the quantized graph with integer arithmetic as TFLite defines
it (uint8 activations, int32 accumulation, requantisation with the real
multiplier in_scale*w_scale/out_scale, rounding to nearest, clamping to the
fused activation's range) and the converted ONNX graph with a small float
numpy interpreter, on the sample photos, and reports how closely the two
agree.
"""
import argparse
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_TFLITE = os.path.join(ROOT, 'data', 'models', 'source',
                              'mobilenet_v2_1.0_224_quant.tflite')
DEFAULT_OUT = os.path.join(ROOT, 'data', 'models', 'mobilenet_v2.onnx')
DEFAULT_LABELS = os.path.join(ROOT, 'data', 'models',
                              'mobilenet_v2.labels.txt')
SAMPLES = os.path.join(ROOT, 'data', 'samples')

# ------------------------------------------------------------ flatbuffers

TENSOR_TYPES = {0: 'float32', 2: 'int32', 3: 'uint8', 4: 'int64', 9: 'int8'}
BUILTIN_OPS = {0: 'ADD', 1: 'AVERAGE_POOL_2D', 3: 'CONV_2D',
               4: 'DEPTHWISE_CONV_2D', 22: 'RESHAPE', 25: 'SOFTMAX',
               43: 'SQUEEZE'}
ACTIVATIONS = {0: 'NONE', 1: 'RELU', 3: 'RELU6'}


class Table:
    """One flatbuffer table: reads fields by their index in the schema."""

    def __init__(self, buf, pos):
        self.buf = buf
        self.pos = pos
        self.vtable = pos - struct.unpack_from('<i', buf, pos)[0]
        self.vtable_len = struct.unpack_from('<H', buf, self.vtable)[0]

    def _field(self, index):
        slot = 4 + 2 * index
        if slot >= self.vtable_len:
            return 0
        off = struct.unpack_from('<H', self.buf, self.vtable + slot)[0]
        return self.pos + off if off else 0

    def scalar(self, index, fmt, default=0):
        p = self._field(index)
        return struct.unpack_from('<' + fmt, self.buf, p)[0] if p else default

    def _indirect(self, p):
        return p + struct.unpack_from('<I', self.buf, p)[0]

    def table(self, index):
        p = self._field(index)
        return Table(self.buf, self._indirect(p)) if p else None

    def string(self, index):
        p = self._field(index)
        if not p:
            return ''
        s = self._indirect(p)
        n = struct.unpack_from('<I', self.buf, s)[0]
        return self.buf[s + 4:s + 4 + n].decode('utf-8', 'replace')

    def vector(self, index, dtype):
        """A vector of scalars as a numpy array (empty when absent)."""
        p = self._field(index)
        if not p:
            return np.zeros(0, dtype)
        v = self._indirect(p)
        n = struct.unpack_from('<I', self.buf, v)[0]
        return np.frombuffer(self.buf, dtype=np.dtype(dtype).newbyteorder('<'),
                             count=n, offset=v + 4)

    def tables(self, index):
        p = self._field(index)
        if not p:
            return []
        v = self._indirect(p)
        n = struct.unpack_from('<I', self.buf, v)[0]
        return [Table(self.buf, self._indirect(v + 4 + 4 * k))
                for k in range(n)]


class QTensor:
    def __init__(self, index, name, shape, dtype, data, scale, zero_point):
        self.index = index
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.data = data            # numpy array in NHWC (or None)
        self.scale = scale          # float (per-tensor) or None
        self.zero_point = zero_point


class QOp:
    def __init__(self, kind, inputs, outputs, options):
        self.kind = kind
        self.inputs = inputs
        self.outputs = outputs
        self.options = options


def parse_tflite(path):
    with open(path, 'rb') as f:
        buf = f.read()
    if len(buf) < 8 or buf[4:8] != b'TFL3':
        raise SystemExit('%s: not a TFLite flatbuffer (no TFL3 identifier)'
                         % path)
    model = Table(buf, struct.unpack_from('<I', buf, 0)[0])
    # Model: version 0, operator_codes 1, subgraphs 2, description 3,
    # buffers 4.
    opcodes = []
    for oc in model.tables(1):  # OperatorCode: builtin_code 0 (byte)
        code = oc.scalar(0, 'b')
        if code not in BUILTIN_OPS:
            raise SystemExit('%s: unsupported TFLite builtin op %d'
                             % (path, code))
        opcodes.append(BUILTIN_OPS[code])
    buffers = [b.vector(0, np.uint8) for b in model.tables(4)]
    subgraphs = model.tables(2)
    if len(subgraphs) != 1:
        raise SystemExit('%s: expected one subgraph, found %d'
                         % (path, len(subgraphs)))
    sg = subgraphs[0]
    # SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4.
    tensors = []
    for i, t in enumerate(sg.tables(0)):
        # Tensor: shape 0, type 1, buffer 2, name 3, quantization 4.
        shape = [int(d) for d in t.vector(0, np.int32)]
        ttype = TENSOR_TYPES.get(t.scalar(1, 'b'))
        if ttype is None:
            raise SystemExit('%s: tensor %d has an unsupported type'
                             % (path, i))
        raw = buffers[t.scalar(2, 'I')]
        data = None
        if raw.size:
            data = np.frombuffer(raw.tobytes(),
                                 np.dtype(ttype).newbyteorder('<'))
            data = data.reshape(shape).astype(ttype)
        scale = zero_point = None
        q = t.table(4)
        if q is not None:
            # QuantizationParameters: min 0, max 1, scale 2, zero_point 3.
            s = q.vector(2, np.float32)
            z = q.vector(3, np.int64)
            if s.size > 1:
                raise SystemExit('%s: tensor %s is quantized per channel; '
                                 'only per-tensor is handled' % (path, i))
            if s.size == 1:
                scale = float(s[0])
                zero_point = int(z[0]) if z.size else 0
        tensors.append(QTensor(i, t.string(3), shape, ttype, data, scale,
                               zero_point))
    ops = []
    for o in sg.tables(3):
        # Operator: opcode_index 0, inputs 1, outputs 2,
        # builtin_options_type 3, builtin_options 4.
        kind = opcodes[o.scalar(0, 'I')]
        opt = o.table(4)
        options = {}
        if kind in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
            # Conv2DOptions: padding, stride_w, stride_h, fused_act,
            # dilation_w, dilation_h. DepthwiseConv2DOptions adds
            # depth_multiplier at index 3.
            dw = kind == 'DEPTHWISE_CONV_2D'
            options['padding'] = 'SAME' if opt.scalar(0, 'b') == 0 else 'VALID'
            options['stride'] = (opt.scalar(2, 'i'), opt.scalar(1, 'i'))
            if dw:
                options['depth_multiplier'] = opt.scalar(3, 'i', 1)
            act = opt.scalar(4 if dw else 3, 'b')
            options['dilation'] = (opt.scalar(6 if dw else 5, 'i', 1),
                                   opt.scalar(5 if dw else 4, 'i', 1))
        elif kind == 'AVERAGE_POOL_2D':
            # Pool2DOptions: padding, stride_w, stride_h, filter_width,
            # filter_height, fused_act.
            options['padding'] = 'SAME' if opt.scalar(0, 'b') == 0 else 'VALID'
            options['stride'] = (opt.scalar(2, 'i'), opt.scalar(1, 'i'))
            options['kernel'] = (opt.scalar(4, 'i'), opt.scalar(3, 'i'))
            act = opt.scalar(5, 'b')
        elif kind == 'ADD':
            act = opt.scalar(0, 'b') if opt is not None else 0
        else:
            act = 0
        if act not in ACTIVATIONS:
            raise SystemExit('%s: unsupported fused activation %d'
                             % (path, act))
        if options.get('dilation', (1, 1)) != (1, 1):
            raise SystemExit('%s: dilated convolutions are not handled'
                             % path)
        options['activation'] = ACTIVATIONS[act]
        ops.append(QOp(kind, [int(i) for i in o.vector(1, np.int32)],
                       [int(i) for i in o.vector(2, np.int32)], options))
    graph_in = [int(i) for i in sg.vector(1, np.int32)]
    graph_out = [int(i) for i in sg.vector(2, np.int32)]
    return tensors, ops, graph_in, graph_out


def same_pads(in_size, kernel, stride):
    """TF SAME padding: (before, after), the extra one after."""
    out = -(-in_size // stride)
    total = max((out - 1) * stride + kernel - in_size, 0)
    return total // 2, total - total // 2


def conv_pads(op, in_shape, kh, kw):
    if op.options['padding'] == 'VALID':
        return [0, 0, 0, 0]
    sh, sw = op.options['stride']
    top, bottom = same_pads(in_shape[1], kh, sh)
    left, right = same_pads(in_shape[2], kw, sw)
    return [top, left, bottom, right]


# ---------------------------------------------------------------- convert

def convert(tflite_path, labels_path, out_path):
    tensors, ops, graph_in, graph_out = parse_tflite(tflite_path)
    if len(graph_in) != 1 or len(graph_out) != 1:
        raise SystemExit('%s: expected one input and one output'
                         % tflite_path)
    if ops[-1].kind == 'SOFTMAX':
        ops = ops[:-1]  # keep the logits
    out_index = ops[-1].outputs[0]
    in_t = tensors[graph_in[0]]

    names, used = {}, {'input', 'logits'}

    def vname(i):
        # TFLite names join every folded TF op with ';': keep the first.
        if i == graph_in[0]:
            return 'input'
        if i == out_index:
            return 'logits'
        if i not in names:
            base = tensors[i].name.split(';')[0] or 'tensor_%d' % i
            name, k = base, 1
            while name in used:
                k += 1
                name = '%s_%d' % (base, k)
            used.add(name)
            names[i] = name
        return names[i]

    nodes, inits = [], []
    clip_min = numpy_helper.from_array(np.array(0, np.float32), 'relu6_min')
    clip_max = numpy_helper.from_array(np.array(6, np.float32), 'relu6_max')
    inits += [clip_min, clip_max]

    def activation(op, pre, out):
        act = op.options['activation']
        if act == 'NONE':
            return pre
        name = out + '/act'
        if act == 'RELU6':
            nodes.append(helper.make_node('Clip', [pre, 'relu6_min',
                                                   'relu6_max'],
                                          [out], name=name))
        else:
            nodes.append(helper.make_node('Relu', [pre], [out], name=name))
        return out

    for k, op in enumerate(ops):
        out = vname(op.outputs[0])
        pre = out if op.options['activation'] == 'NONE' else out + '_preact'
        node_name = out if out != 'logits' else 'Logits'
        if op.kind in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
            x, w, b = (tensors[i] for i in op.inputs)
            if w.data.dtype != np.uint8:
                raise SystemExit('%s: weights of %s are not uint8'
                                 % (tflite_path, node_name))
            wq = w.data
            if op.kind == 'CONV_2D':
                wq = wq.transpose(0, 3, 1, 2)         # O,kh,kw,I -> O,I,kh,kw
                group = 1
            else:
                if op.options['depth_multiplier'] != 1:
                    raise SystemExit('depth_multiplier != 1 not handled')
                wq = wq.transpose(3, 0, 1, 2)         # 1,kh,kw,C -> C,1,kh,kw
                group = x.shape[3]
            bias_scale = x.scale * w.scale
            bf = b.data.astype(np.float64) * bias_scale
            kh, kw = wq.shape[2], wq.shape[3]
            wname, bname = node_name + '/weights', node_name + '/bias'
            inits.append(numpy_helper.from_array(
                np.ascontiguousarray(wq), wname + '_quantized'))
            inits.append(numpy_helper.from_array(
                np.array(w.scale, np.float32), wname + '_scale'))
            inits.append(numpy_helper.from_array(
                np.array(w.zero_point, np.uint8), wname + '_zero_point'))
            nodes.append(helper.make_node(
                'DequantizeLinear', [wname + '_quantized', wname + '_scale',
                                     wname + '_zero_point'], [wname],
                name=wname))
            inits.append(numpy_helper.from_array(bf.astype(np.float32), bname))
            nodes.append(helper.make_node(
                'Conv', [vname(x.index), wname, bname], [pre],
                name=node_name, kernel_shape=[kh, kw],
                strides=list(op.options['stride']),
                pads=conv_pads(op, x.shape, kh, kw), group=group,
                dilations=[1, 1]))
        elif op.kind == 'AVERAGE_POOL_2D':
            x = tensors[op.inputs[0]]
            kh, kw = op.options['kernel']
            # TF does not count padding in the average.
            nodes.append(helper.make_node(
                'AveragePool', [vname(x.index)], [pre], name=node_name,
                kernel_shape=[kh, kw], strides=list(op.options['stride']),
                pads=conv_pads(op, x.shape, kh, kw), count_include_pad=0))
        elif op.kind == 'ADD':
            a, b2 = (vname(i) for i in op.inputs)
            nodes.append(helper.make_node('Add', [a, b2], [pre],
                                          name=node_name))
        elif op.kind in ('RESHAPE', 'SQUEEZE'):
            x = tensors[op.inputs[0]]
            y = tensors[op.outputs[0]]
            # NHWC -> NCHW changes the element order unless H = W = 1.
            if len(x.shape) == 4 and x.shape[1] * x.shape[2] != 1:
                raise SystemExit('%s of a spatial tensor not handled'
                                 % op.kind)
            shape = [-1] + list(y.shape[1:])
            sname = node_name + '/shape'
            inits.append(numpy_helper.from_array(np.array(shape, np.int64),
                                                 sname))
            nodes.append(helper.make_node('Reshape', [vname(x.index), sname],
                                          [pre], name=node_name))
        else:
            raise SystemExit('unsupported op %s' % op.kind)
        activation(op, pre, out)

    n_classes = tensors[out_index].shape[-1]
    inp = helper.make_tensor_value_info(
        'input', TensorProto.FLOAT, ['N', in_t.shape[3], in_t.shape[1],
                                     in_t.shape[2]])
    outp = helper.make_tensor_value_info('logits', TensorProto.FLOAT,
                                         ['N', n_classes])
    graph = helper.make_graph(nodes, 'mobilenet_v2_1.0_224', [inp], [outp],
                              initializer=inits)
    model = helper.make_model(
        graph, producer_name='heatlens tools/tflite2onnx.py',
        opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 7

    with open(labels_path, encoding='utf-8') as f:
        labels = f.read().splitlines()
    if len(labels) != n_classes:
        raise SystemExit('%s: %d labels for %d classes'
                         % (labels_path, len(labels), n_classes))
    # The uint8 input q stands for in_scale * (q - zp); with pixel p = q:
    # x = (p * scale - mean) / std with scale = in_scale, mean = zp *
    # in_scale, std = 1, exactly (in_scale = 1/128, zp = 128 here).
    meta = {
        'heatlens.input_size': '%d,%d' % (in_t.shape[2], in_t.shape[1]),
        'heatlens.resize': 'crop_fraction:0.875',
        'heatlens.crop': 'center',
        'heatlens.scale': repr(in_t.scale),
        'heatlens.mean': ','.join([repr(in_t.zero_point * in_t.scale)] * 3),
        'heatlens.std': '1,1,1',
        'heatlens.channel_order': 'rgb',
        'heatlens.labels_file': os.path.basename(labels_path),
        'heatlens.labels': '\n'.join(labels),
        'heatlens.model_name': 'MobileNet V2 1.0 224 (ImageNet, 1001 classes,'
                               ' class 0 = background)',
        'heatlens.source': 'google-coral/test_data@104342d2 '
                           'mobilenet_v2_1.0_224_quant.tflite, converted to '
                           'float32 by tools/tflite2onnx.py',
        'heatlens.license': 'Apache-2.0',
    }
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model)
    tmp = out_path + '.tmp'
    onnx.save(model, tmp)
    os.replace(tmp, out_path)
    print('wrote %s: %d nodes, %d initializers, input scale %r zero point %d'
          % (out_path, len(nodes), len(inits), in_t.scale, in_t.zero_point))


# ------------------------------------------------------ quantized reference

def requantize(acc_real, out_t, act):
    """Real value -> uint8 of out_t, clamped to the activation's range."""
    q = np.floor(acc_real / out_t.scale + 0.5) + out_t.zero_point
    lo, hi = 0, 255
    if act in ('RELU', 'RELU6'):
        lo = max(lo, out_t.zero_point)
    if act == 'RELU6':
        hi = min(hi, out_t.zero_point + int(round(6.0 / out_t.scale)))
    return np.clip(q, lo, hi).astype(np.int32)


def run_quantized(tensors, ops, graph_in, q_input):
    """TFLite uint8 semantics; q_input is uint8 [1,H,W,C]. Integer sums are
    computed in float64, which is exact here (|sum| < 2^53)."""
    vals = {graph_in[0]: q_input.astype(np.int32)}
    for op in ops:
        if op.kind == 'SOFTMAX':
            break
        out_t = tensors[op.outputs[0]]
        act = op.options['activation']
        if op.kind in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
            x_t, w_t, b_t = (tensors[i] for i in op.inputs)
            x = vals[x_t.index].astype(np.float64) - x_t.zero_point
            w = w_t.data.astype(np.float64) - w_t.zero_point
            kh, kw = w.shape[1], w.shape[2]
            sh, sw = op.options['stride']
            oh, ow = out_t.shape[1], out_t.shape[2]
            # Padding as TFLite computes it from the stored output size
            # (independently of conv_pads, which the converter uses): the
            # total split with the smaller half at the top/left.
            top = left = bottom = right = 0
            if op.options['padding'] == 'SAME':
                th = max((oh - 1) * sh + kh - x_t.shape[1], 0)
                tw = max((ow - 1) * sw + kw - x_t.shape[2], 0)
                top, left = th // 2, tw // 2
                bottom, right = th - top, tw - left
            # Padding holds the zero point, i.e. 0 after the subtraction.
            xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
            if op.kind == 'CONV_2D':
                acc = np.zeros((oh * ow, w.shape[0]))
                for i in range(kh):
                    for j in range(kw):
                        patch = xp[0, i:i + sh * oh:sh, j:j + sw * ow:sw, :]
                        acc += patch.reshape(oh * ow, -1) @ w[:, i, j, :].T
                acc = acc.reshape(1, oh, ow, -1)
            else:
                acc = np.zeros((1, oh, ow, w.shape[3]))
                for i in range(kh):
                    for j in range(kw):
                        acc += xp[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :] \
                            * w[0, i, j, :]
            acc += b_t.data.astype(np.float64)
            mult = x_t.scale * w_t.scale
            vals[out_t.index] = requantize(acc * mult, out_t, act)
        elif op.kind == 'AVERAGE_POOL_2D':
            x_t = tensors[op.inputs[0]]
            x = vals[x_t.index]
            kh, kw = op.options['kernel']
            if op.options['padding'] != 'VALID' or \
                    (kh, kw) != tuple(x_t.shape[1:3]):
                raise SystemExit('only global average pooling is checked')
            n = kh * kw
            s = x.sum(axis=(1, 2), keepdims=True)
            q = (s + n // 2) // n       # TFLite's rounded integer mean
            if (x_t.scale, x_t.zero_point) != (out_t.scale, out_t.zero_point):
                q = requantize((q - x_t.zero_point) * x_t.scale, out_t, act)
            vals[out_t.index] = q.astype(np.int32)
        elif op.kind == 'ADD':
            a_t, b_t = (tensors[i] for i in op.inputs)
            real = (vals[a_t.index] - a_t.zero_point) * a_t.scale + \
                (vals[b_t.index] - b_t.zero_point) * b_t.scale
            vals[out_t.index] = requantize(real, out_t, act)
        elif op.kind in ('RESHAPE', 'SQUEEZE'):
            x_t = tensors[op.inputs[0]]
            vals[out_t.index] = vals[x_t.index].reshape(out_t.shape)
        else:
            raise SystemExit('unsupported op %s' % op.kind)
    last = [op for op in ops if op.kind != 'SOFTMAX'][-1]
    out_t = tensors[last.outputs[0]]
    q = vals[out_t.index]
    return q, (q.astype(np.float64) - out_t.zero_point) * out_t.scale, out_t


# ------------------------------------------------ float ONNX interpreter

def onnx_run(model, x):
    """Float64 numpy evaluation of the converted graph (only the ops the
    converter emits)."""
    vals = {i.name: numpy_helper.to_array(i).astype(np.float64)
            if i.data_type == TensorProto.FLOAT else numpy_helper.to_array(i)
            for i in model.graph.initializer}
    vals[model.graph.input[0].name] = x.astype(np.float64)
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        ins = [vals[n] for n in node.input]
        if node.op_type == 'DequantizeLinear':
            # the float32 weights the engine folds, as float64
            q, sc, zp = ins
            vals[node.output[0]] = (
                np.float32(sc) * (q.astype(np.float32) - np.float32(zp))
            ).astype(np.float64)
        elif node.op_type == 'Conv':
            xi, w, b = ins
            top, left, bottom, right = attrs['pads']
            sh, sw = attrs['strides']
            g = attrs['group']
            xp = np.pad(xi, ((0, 0), (0, 0), (top, bottom), (left, right)))
            n, c, h, wd = xp.shape
            o, cg, kh, kw = w.shape
            oh = (h - kh) // sh + 1
            ow = (wd - kw) // sw + 1
            y = np.zeros((n, o, oh, ow))
            og = o // g
            for i in range(kh):
                for j in range(kw):
                    patch = xp[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
                    if g == 1:
                        y += np.einsum('nchw,oc->nohw', patch, w[:, :, i, j],
                                       optimize=True)
                    elif cg == 1 and og == 1:
                        y += patch * w[:, 0, i, j][None, :, None, None]
                    else:
                        raise SystemExit('grouped conv layout not handled')
            vals[node.output[0]] = y + b[None, :, None, None]
        elif node.op_type == 'Clip':
            vals[node.output[0]] = np.clip(ins[0], ins[1], ins[2])
        elif node.op_type == 'Relu':
            vals[node.output[0]] = np.maximum(ins[0], 0)
        elif node.op_type == 'Add':
            vals[node.output[0]] = ins[0] + ins[1]
        elif node.op_type == 'AveragePool':
            kh, kw = attrs['kernel_shape']
            xi = ins[0]
            if attrs.get('pads', [0] * 4) != [0] * 4 or \
                    (kh, kw) != xi.shape[2:]:
                raise SystemExit('only global average pooling is handled')
            vals[node.output[0]] = xi.mean(axis=(2, 3), keepdims=True)
        elif node.op_type == 'Reshape':
            vals[node.output[0]] = ins[0].reshape(tuple(ins[1]))
        else:
            raise SystemExit('interpreter: unsupported op %s' % node.op_type)
    return vals[model.graph.output[0].name]


# ------------------------------------------------------------ images

def read_png(path):
    """8-bit RGB/RGBA/grey non-interlaced PNG -> uint8 [H,W,3]."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise SystemExit('%s: not a PNG' % path)
    pos, idat, hdr = 8, b'', None
    while pos < len(data):
        n, = struct.unpack_from('>I', data, pos)
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise SystemExit('%s: only 8-bit non-interlaced PNG is read here'
                         % path)
    raw = np.frombuffer(zlib.decompress(idat), np.uint8)
    stride = w * channels
    raw = raw.reshape(h, stride + 1)
    out = np.zeros((h, stride), np.int32)
    bpp = channels
    for y in range(h):
        ft, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        prev = out[y - 1] if y else np.zeros(stride, np.int32)
        if ft == 0:
            cur = line
        elif ft == 2:
            cur = (line + prev) & 255
        else:
            cur = np.zeros(stride, np.int32)
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                if ft == 1:
                    p = a
                elif ft == 3:
                    p = (a + b) >> 1
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + p) & 255
        out[y] = cur
    img = out.reshape(h, w, channels).astype(np.uint8)
    if channels == 1:
        img = np.repeat(img, 3, axis=2)
    return img[:, :, :3]


def read_image(path):
    """PNG by hand; anything else (JPEG) through ImageMagick's convert."""
    with open(path, 'rb') as f:
        magic = f.read(8)
    if magic == b'\x89PNG\r\n\x1a\n':
        return read_png(path)
    size = subprocess.run(['identify', '-format', '%w %h', path],
                          check=True, capture_output=True).stdout.split()
    w, h = int(size[0]), int(size[1])
    raw = subprocess.run(['convert', path, '-depth', '8', 'rgb:-'],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3)


def resize_axis(img, out_size, start, length, axis):
    """1-D resampling of the window [start, start+length) of an axis to
    out_size samples: area averaging when shrinking, bilinear when
    enlarging (the same rule as src/io/image.c)."""
    n = img.shape[axis]
    scale = length / out_size
    m = np.zeros((out_size, n))
    for o in range(out_size):
        if scale > 1:
            a, b = start + o * scale, start + (o + 1) * scale
            for i in range(int(np.floor(a)), int(np.ceil(b))):
                cover = min(b, i + 1) - max(a, i)
                if cover > 0:
                    m[o, min(max(i, 0), n - 1)] += cover / scale
        else:
            c = start + (o + 0.5) * scale - 0.5
            i0 = int(np.floor(c))
            f = c - i0
            m[o, min(max(i0, 0), n - 1)] += 1 - f
            m[o, min(max(i0 + 1, 0), n - 1)] += f
    return np.moveaxis(np.tensordot(m, np.moveaxis(img, axis, 0), axes=1),
                       0, axis)


def preprocess_pixels(img, size=224, fraction=0.875):
    """Central crop of `fraction` of each side, then resize to size x size;
    returns float pixels 0..255 [H,W,3]."""
    h, w = img.shape[:2]
    ch, cw = h * fraction, w * fraction
    x = resize_axis(img.astype(np.float64), size, (h - ch) / 2, ch, 0)
    return resize_axis(x, size, (w - cw) / 2, cw, 1)


def sample_files(paths):
    if paths:
        return paths
    return sorted(os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES)
                  if f.endswith(('.png', '.jpg')))


def check(tflite_path, onnx_path, images):
    tensors, ops, graph_in, _ = parse_tflite(tflite_path)
    model = onnx.load(onnx_path)
    in_t = tensors[graph_in[0]]
    worst_lsb, ok = 0.0, True
    for path in images:
        pix = preprocess_pixels(read_image(path))
        q_in = np.clip(np.floor(pix + 0.5), 0, 255).astype(np.int32)
        q, deq, out_t = run_quantized(tensors, ops, graph_in, q_in[None])
        x = (q_in.astype(np.float64) - in_t.zero_point) * in_t.scale
        f = onnx_run(model, x.transpose(2, 0, 1)[None])
        deq, f = deq.reshape(-1), f.reshape(-1)
        diff = np.abs(deq - f).max()
        corr = np.corrcoef(deq, f)[0, 1]
        top_q, top_f = int(deq.argmax()), int(f.argmax())
        # Ties among the quantized logits are possible; accept a float top-1
        # that holds the quantized maximum.
        same = top_q == top_f or deq[top_f] == deq[top_q]
        ok = ok and same and corr > 0.99 and diff <= 10 * out_t.scale
        worst_lsb = max(worst_lsb, diff / out_t.scale)
        print('%-28s top-1 int %4d float %4d %s  corr %.5f  max|diff| %.4f'
              ' (%.1f output steps of %.4f)'
              % (os.path.basename(path), top_q, top_f,
                 'same' if same else 'DIFFERENT', corr, diff,
                 diff / out_t.scale, out_t.scale))
    print('check %s on %d images (worst max|diff| %.1f output steps)'
          % ('PASSED' if ok else 'FAILED', len(images), worst_lsb))
    return ok


def predict(onnx_path, images, k=5):
    model = onnx.load(onnx_path)
    meta = {p.key: p.value for p in model.metadata_props}
    labels = meta['heatlens.labels'].split('\n')
    scale = float(meta['heatlens.scale'])
    mean = float(meta['heatlens.mean'].split(',')[0])
    for path in images:
        pix = preprocess_pixels(read_image(path))
        x = (pix * scale - mean).transpose(2, 0, 1)[None]
        logits = onnx_run(model, x).reshape(-1)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        top = np.argsort(-p)[:k]
        print('%s: %s' % (os.path.basename(path), '; '.join(
            '%d %s (%.3f)' % (i, labels[i].split(',')[0], p[i])
            for i in top)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--tflite', default=DEFAULT_TFLITE)
    ap.add_argument('--labels', default=DEFAULT_LABELS)
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--check', action='store_true',
                    help='compare the integer TFLite run with the float ONNX')
    ap.add_argument('--predict', action='store_true',
                    help='print the top-5 of the converted model')
    ap.add_argument('images', nargs='*')
    args = ap.parse_args()
    if args.check:
        sys.exit(0 if check(args.tflite, args.out,
                            sample_files(args.images)) else 1)
    if args.predict:
        predict(args.out, sample_files(args.images))
        return
    convert(args.tflite, args.labels, args.out)


if __name__ == '__main__':
    main()
