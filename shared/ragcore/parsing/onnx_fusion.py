"""Exact simplifications of the PP-OCRv4 and layout graphs before onnxruntime loads them: about half the CPU.

PaddleOCR's PP-LCNetV3 backbone (both the detector and the recognizer rapidocr ships) was exported op by op: every
convolution is followed by a learnable affine (`Mul` by a scalar, `Add` a scalar), a hard-swish spelled as four
element-wise ops (`Add 3`, `Clip 0..6`, `Mul`, `Div 6`), and another affine. onnxruntime fuses none of these, and
on a text line the element-wise passes cost as much as the convolutions. Rewritten here, exactly:

- Conv → Mul(a) → Add(b)                 ⇒ one Conv with weights a·W and bias a·B + b
- Add 3 → Clip 0..6 → Mul x → Div 6      ⇒ x · HardSigmoid(x; 1/6, 1/2)      (opset 6 ops: the model stays at 12)
- Mul(c) → Add(d) → 1×1 Conv (no pad)    ⇒ one Conv with weights c·W and bias B + d·ΣW
- Mul(c) → Add(d) → padded Conv          ⇒ a 1×1 per-channel Conv (weight c, bias d) before it: the padding's
                                           zeros must not see d, and a Conv keeps onnxruntime's blocked layout

The graph is edited with
a minimal ONNX schema of our own over `protobuf` (which onnxruntime already needs); fields it does not name pass
through untouched, so nothing beyond the edited nodes changes and the `onnx` package is not needed at run time.

    simplified, counts = simplify(Path(model).read_bytes())   # bytes for onnxruntime.InferenceSession
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import lru_cache
from typing import Any

FLOAT, INT64 = 1, 7  # TensorProto.DataType
ATTR_FLOAT, ATTR_INT, ATTR_TENSOR, ATTR_INTS = 1, 2, 4, 7  # AttributeProto.AttributeType


@lru_cache(maxsize=1)
def onnx_schema() -> dict[str, Any]:
    """ModelProto and friends, only the fields the rewrites read or write (numbers as in onnx.proto)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    f = descriptor_pb2.FieldDescriptorProto
    opt, rep = f.LABEL_OPTIONAL, f.LABEL_REPEATED
    messages: dict[str, list[tuple[str, int, int, int, str]]] = {
        "TensorProto": [("dims", 1, rep, f.TYPE_INT64, ""), ("data_type", 2, opt, f.TYPE_INT32, ""),
                        ("float_data", 4, rep, f.TYPE_FLOAT, ""), ("name", 8, opt, f.TYPE_STRING, ""),
                        ("raw_data", 9, opt, f.TYPE_BYTES, "")],
        "AttributeProto": [("name", 1, opt, f.TYPE_STRING, ""), ("f", 2, opt, f.TYPE_FLOAT, ""),
                           ("i", 3, opt, f.TYPE_INT64, ""), ("t", 5, opt, f.TYPE_MESSAGE, "TensorProto"),
                           ("ints", 8, rep, f.TYPE_INT64, ""), ("type", 20, opt, f.TYPE_INT32, "")],
        "NodeProto": [("input", 1, rep, f.TYPE_STRING, ""), ("output", 2, rep, f.TYPE_STRING, ""),
                      ("name", 3, opt, f.TYPE_STRING, ""), ("op_type", 4, opt, f.TYPE_STRING, ""),
                      ("attribute", 5, rep, f.TYPE_MESSAGE, "AttributeProto"), ("domain", 7, opt, f.TYPE_STRING, "")],
        "ValueInfoProto": [("name", 1, opt, f.TYPE_STRING, "")],
        "GraphProto": [("node", 1, rep, f.TYPE_MESSAGE, "NodeProto"),
                       ("initializer", 5, rep, f.TYPE_MESSAGE, "TensorProto"),
                       ("output", 12, rep, f.TYPE_MESSAGE, "ValueInfoProto")],
        "ModelProto": [("graph", 7, opt, f.TYPE_MESSAGE, "GraphProto")],
    }
    file = descriptor_pb2.FileDescriptorProto(name="ragcore_onnx_min.proto", package="ragcore_onnx_min",
                                              syntax="proto2")
    for message, fields in messages.items():
        proto = file.message_type.add(name=message)
        for name, number, label, kind, type_name in fields:
            proto.field.add(name=name, number=number, label=label, type=kind,
                            type_name=f".ragcore_onnx_min.{type_name}" if type_name else None)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"ragcore_onnx_min.{name}"))
            for name in messages}


def simplify(model: bytes) -> tuple[bytes, Counter[str]]:
    """The model with the rewrites above applied, and how many of each were made."""
    return apply_rewrites(model, OnnxGraph, {"conv_affine": "fold_affine_after_conv", "hard_swish": "hard_swish",
                                             "affine_into_pointwise": "fold_affine_into_pointwise_conv",
                                             "affine_as_channel_conv": "affine_as_channel_conv"})


def apply_rewrites(model: bytes, graph_type: type[OnnxGraph], passes: dict[str, str]) -> tuple[bytes, Counter[str]]:
    """The model after each named rewrite method of graph_type in turn (count name → method), and the counts."""
    schema = onnx_schema()
    proto = schema["ModelProto"]()
    proto.ParseFromString(model)
    graph = graph_type(proto.graph, schema)
    counts: Counter[str] = Counter({name: getattr(graph, method)() for name, method in passes.items()})
    graph.write_back()
    return proto.SerializeToString(), counts


class OnnxGraph:
    """The graph's nodes as a plain list of our own message objects (identity is stable there, unlike on a
    protobuf repeated field); each rewrite pass indexes them once, edits, and drops what it replaced."""

    def __init__(self, graph: Any, schema: dict[str, Any]) -> None:
        self.graph = graph
        self.schema = schema
        node_type = schema["NodeProto"]
        self.nodes: list[Any] = []
        for node in graph.node:
            own = node_type()
            own.CopyFrom(node)
            self.nodes.append(own)
        self.constants: dict[str, Any] = {}
        for node in self.nodes:
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                self.constants[node.output[0]] = node.attribute[0].t
        for tensor in graph.initializer:
            self.constants[tensor.name] = tensor
        self.outputs = {value.name for value in graph.output}
        self._reindex()

    def _reindex(self) -> None:
        self.consumers: dict[str, list[Any]] = defaultdict(list)
        self.producer: dict[str, Any] = {}
        for node in self.nodes:
            for name in node.input:
                self.consumers[name].append(node)
            for name in node.output:
                self.producer[name] = node

    def _commit(self, dropped: set[int], inserted: dict[int, list[Any]]) -> None:
        """Drop the replaced nodes; put new ones where a replaced node was (a valid topological place)."""
        nodes = []
        for node in self.nodes:
            nodes.extend(inserted.get(id(node), []))
            if id(node) not in dropped:
                nodes.append(node)
        self.nodes = nodes
        self._reindex()

    def drop_unused(self) -> int:
        """Nodes whose outputs nothing reads any more (the shape arithmetic of a fused pattern), transitively."""
        before = len(self.nodes)
        while True:
            used = {name for node in self.nodes for name in node.input} | self.outputs
            kept = [n for n in self.nodes if any(o in used for o in n.output)]
            if len(kept) == len(self.nodes):
                break
            self.nodes = kept
        self._reindex()
        return before - len(self.nodes)

    def write_back(self) -> None:
        """The edited nodes into the graph, without the constants nothing reads any more."""
        used = {name for node in self.nodes for name in node.input} | self.outputs
        kept = [n for n in self.nodes if n.op_type != "Constant" or any(o in used for o in n.output)]
        initializers = [t for t in self.graph.initializer if t.name in used]
        del self.graph.node[:]
        self.graph.node.extend(kept)
        del self.graph.initializer[:]
        self.graph.initializer.extend(initializers)

    # ---- reading ----
    def array(self, name: str) -> Any:
        import numpy as np

        tensor = self.constants.get(name)
        if tensor is None or tensor.data_type != FLOAT:
            return None
        data = np.frombuffer(tensor.raw_data, dtype="<f4") if tensor.raw_data else \
            np.asarray(tensor.float_data, dtype=np.float32)
        return data.reshape(tuple(tensor.dims)) if tensor.dims else data.reshape(())

    def scalar(self, name: str) -> float | None:
        value = self.array(name)
        return float(value.reshape(-1)[0]) if value is not None and value.size == 1 else None

    def _only_consumer(self, name: str, op_type: str) -> Any:
        users = self.consumers.get(name, [])
        if len(users) == 1 and users[0].op_type == op_type and name not in self.outputs:
            return users[0]
        return None

    def _scalar_operand(self, node: Any, other: str) -> float | None:
        rest = [name for name in node.input if name != other]
        return self.scalar(rest[0]) if len(rest) == 1 else None

    @staticmethod
    def attributes(node: Any) -> dict[str, Any]:
        return {a.name: (list(a.ints) if a.type == ATTR_INTS else a.i if a.type == ATTR_INT else a.f)
                for a in node.attribute}

    # ---- writing ----
    def add_tensor(self, name: str, values: Any) -> str:
        import numpy as np

        values = np.ascontiguousarray(values, dtype="<f4")
        tensor = self.graph.initializer.add(name=name, data_type=FLOAT, raw_data=values.tobytes())
        tensor.dims.extend(values.shape)
        self.constants[name] = tensor
        return name

    def add_int64(self, name: str, values: list[int]) -> str:
        import numpy as np

        array = np.asarray(values, dtype="<i8")
        tensor = self.graph.initializer.add(name=name, data_type=INT64, raw_data=array.tobytes())
        tensor.dims.extend(array.shape)
        return name

    def _node(self, op_type: str, inputs: list[str], outputs: list[str], name: str) -> Any:
        node = self.schema["NodeProto"](op_type=op_type, name=name)
        node.input.extend(inputs)
        node.output.extend(outputs)
        return node

    # ---- rewrites ----
    def fold_affine_after_conv(self) -> int:
        import numpy as np

        dropped: set[int] = set()
        for conv in [n for n in self.nodes if n.op_type == "Conv"]:
            weights = self.array(conv.input[1])
            mul = self._only_consumer(conv.output[0], "Mul")
            add = mul and self._only_consumer(mul.output[0], "Add")
            if weights is None or not add:
                continue
            a, b = self._scalar_operand(mul, conv.output[0]), self._scalar_operand(add, mul.output[0])
            bias = self.array(conv.input[2]) if len(conv.input) > 2 else np.zeros(weights.shape[0], np.float32)
            if a is None or b is None or bias is None:
                continue
            base = conv.name or conv.output[0]
            inputs = [conv.input[0], self.add_tensor(f"{base}/affine_w", weights * a),
                      self.add_tensor(f"{base}/affine_b", bias * a + b)]
            del conv.input[:]
            conv.input.extend(inputs)
            conv.output[0] = add.output[0]
            dropped |= {id(mul), id(add)}
        self._commit(dropped, {})
        return len(dropped) // 2

    def hard_swish(self) -> int:
        dropped: set[int] = set()
        inserted: dict[int, list[Any]] = {}
        for clip in [n for n in self.nodes if n.op_type == "Clip"]:
            add = self.producer.get(clip.input[0])
            if add is None or add.op_type != "Add" or len(clip.input) != 3:
                continue
            x = [name for name in add.input if self.scalar(name) is None]
            if len(x) != 1 or self._scalar_operand(add, x[0]) != 3.0 \
                    or (self.scalar(clip.input[1]), self.scalar(clip.input[2])) != (0.0, 6.0) \
                    or self._only_consumer(add.output[0], "Clip") is not clip:
                continue
            mul = self._only_consumer(clip.output[0], "Mul")
            div = mul and x[0] in mul.input and self._only_consumer(mul.output[0], "Div")
            if not div or div.input[0] != mul.output[0] or self.scalar(div.input[1]) != 6.0:
                continue
            out = div.output[0]
            gate = self._node("HardSigmoid", [x[0]], [f"{out}/gate"], f"{out}/gate")
            gate.attribute.add(name="alpha", f=1 / 6, type=ATTR_FLOAT)
            gate.attribute.add(name="beta", f=0.5, type=ATTR_FLOAT)
            inserted[id(div)] = [gate, self._node("Mul", [x[0], gate.output[0]], [out], f"{out}/swish")]
            dropped |= {id(add), id(clip), id(mul), id(div)}
        self._commit(dropped, inserted)
        return len(inserted)

    def _scalar_affines(self) -> list[tuple[Any, Any, str, float, float]]:
        """Every Mul(x, c) → Add(d) with scalar c and d, the Mul feeding only the Add: (mul, add, x, c, d)."""
        found = []
        for add in [n for n in self.nodes if n.op_type == "Add"]:
            mul = next((self.producer[name] for name in add.input if name in self.producer
                        and self.producer[name].op_type == "Mul"), None)
            if mul is None or self._only_consumer(mul.output[0], "Add") is not add:
                continue
            x = [name for name in mul.input if self.scalar(name) is None]
            d = self._scalar_operand(add, mul.output[0])
            c = self._scalar_operand(mul, x[0]) if len(x) == 1 else None
            if c is not None and d is not None:
                found.append((mul, add, x[0], c, d))
        return found

    def fold_affine_into_pointwise_conv(self) -> int:
        dropped: set[int] = set()
        for mul, add, x, c, d in self._scalar_affines():
            convs = self.consumers.get(add.output[0], [])
            if not convs or add.output[0] in self.outputs \
                    or not all(self._is_pointwise(conv) and conv.input[0] == add.output[0] for conv in convs):
                continue
            for conv in convs:
                weights = self.array(conv.input[1])
                bias = self.array(conv.input[2]) if len(conv.input) > 2 else weights[:, 0, 0, 0] * 0
                base = conv.name or conv.output[0]
                inputs = [x, self.add_tensor(f"{base}/pre_w", weights * c),
                          self.add_tensor(f"{base}/pre_b", bias + d * weights.sum(axis=(1, 2, 3)))]
                del conv.input[:]
                conv.input.extend(inputs)
            dropped |= {id(mul), id(add)}
        self._commit(dropped, {})
        return len(dropped) // 2

    def affine_as_channel_conv(self) -> int:
        """Mul(c) → Add(d) → a padded Conv (the padding's zeros come after the affine, so it cannot fold there):
        one 1×1 depthwise Conv (weight c, bias d per channel) instead of two passes over the tensor — a Conv stays
        in onnxruntime's blocked layout, where a scalar Mul / Add makes it reorder the tensor twice."""
        import numpy as np

        dropped: set[int] = set()
        inserted: dict[int, list[Any]] = {}
        for mul, add, x, c, d in self._scalar_affines():
            conv = self._only_consumer(add.output[0], "Conv")
            weights = None if conv is None else self.array(conv.input[1])
            if weights is None or weights.ndim != 4:
                continue
            channels = int(weights.shape[1]) * int(self.attributes(conv).get("group", 1))
            base = add.name or add.output[0]
            node = self._node("Conv", [x, self.add_tensor(f"{base}/scale", np.full((channels, 1, 1, 1), c)),
                                       self.add_tensor(f"{base}/shift", np.full(channels, d))], [add.output[0]], base)
            node.attribute.add(name="group", i=channels, type=ATTR_INT)
            node.attribute.add(name="kernel_shape", ints=[1, 1], type=ATTR_INTS)
            inserted[id(add)] = [node]
            dropped |= {id(mul), id(add)}
        self._commit(dropped, inserted)
        return len(inserted)

    def _is_pointwise(self, conv: Any) -> bool:
        if conv.op_type != "Conv" or self.array(conv.input[1]) is None:
            return False
        if len(conv.input) > 2 and self.array(conv.input[2]) is None:
            return False
        attrs = self.attributes(conv)
        return attrs.get("kernel_shape") == [1, 1] and attrs.get("group", 1) == 1 \
            and not any(attrs.get("pads", [])) and "auto_pad" not in attrs
