"""Files that old TensorFlow and Keras versions wrote (fixtures/), with what
they were given and computed, and what reading the hardest of them in Keras 3
takes: shared by test_compatibility.py and test_cheatsheet.py."""

import numpy as np

from support.book import ROOT

FIXTURES = ROOT / "fixtures"


def recorded(path):
    """(the file's path, its inputs, its outputs) for "<folder>/<file>", as
    the writer recorded them in the folder's expected.npz."""
    folder, name = path.split("/", 1)
    expected = np.load(FIXTURES / folder / "expected.npz")
    inputs, outputs = {}, {}
    for key in expected.files:
        file, role, tensor = key.split(":", 2)
        if file == name:
            (outputs if role == "out" else inputs)[tensor] = expected[key]
    return FIXTURES / folder / name, inputs, outputs


def cudnn_lstm_weights(path):
    """What Keras 2.2 stored of its CuDNNLSTM (layer `lstm`) and the Dense
    layer after it (`out`): (kernel, recurrent kernel, bias, [the Dense
    layer's kernel, bias]). The bias holds two halves to be summed."""
    import h5py

    with h5py.File(path, "r") as file:
        weights = file["model_weights"]
        kernel, recurrent, bias = (
            weights[f"lstm/lstm/{name}:0"][()]
            for name in ("kernel", "recurrent_kernel", "bias")
        )
        dense = [
            weights[f"out/out/{name}:0"][()] for name in ("kernel", "bias")
        ]
    return kernel, recurrent, bias, dense


def by_gate(matrix, units):
    """A CuDNNLSTM kernel in the layout of keras.layers.LSTM: each gate's
    block of `units` columns transposed, the gates in the same order."""
    rows = matrix.shape[0]
    return np.concatenate(
        [
            matrix[:, k * units : (k + 1) * units].reshape(units, rows).T
            for k in range(4)
        ],
        axis=1,
    )


def attention_layer():
    """The Attention layer of tf2.10/attention.h5, written for Keras 3: a
    softmax over the steps of one learned projection."""
    import keras
    import tensorflow as tf

    class Attention(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(input_shape[-1], 1))

        def call(self, inputs):
            weights = tf.nn.softmax(tf.matmul(inputs, self.w), axis=1)
            return tf.reduce_sum(weights * inputs, axis=1)

    return Attention
