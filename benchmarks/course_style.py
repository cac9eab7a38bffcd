"""A compact course-style NumPy network, the benchmark's baseline for "how the course writes it".

Column layout as in the course (``X`` is ``(n_x, m)``, ``W_l`` is ``(n_l, n_{l-1})``), parameters, caches,
gradients and optimizer state in per-layer dictionaries (``parameters["W1"]``, ``v["dW1"]``, ...), a fresh
array for every intermediate, mini-batches cut from ``X[:, permutation]`` every epoch. ReLU hidden layers, a
sigmoid (binary) or softmax (multi-class) output, He initialization, gradient descent, momentum or Adam.
It is deliberately the straightforward implementation, not a tuned one.
"""

from __future__ import annotations

import numpy as np


def initialize_he(layer_dims: list[int], seed: int, dtype) -> dict[str, np.ndarray]:
    np.random.seed(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        scale = np.sqrt(2.0 / layer_dims[l - 1])
        parameters["W" + str(l)] = (np.random.randn(layer_dims[l], layer_dims[l - 1]) * scale).astype(dtype)
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1), dtype=dtype)
    return parameters


def random_mini_batches(X, Y, mini_batch_size: int, seed: int):
    np.random.seed(seed)
    m = X.shape[1]
    permutation = np.random.permutation(m)
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation]
    return [
        (shuffled_X[:, k : k + mini_batch_size], shuffled_Y[:, k : k + mini_batch_size])
        for k in range(0, m, mini_batch_size)
    ]


def forward_propagation(X, parameters: dict, L: int, output: str):
    caches = []
    A = X
    for l in range(1, L + 1):
        A_prev = A
        Z = np.dot(parameters["W" + str(l)], A_prev) + parameters["b" + str(l)]
        if l < L:
            A = np.maximum(0, Z)
        elif output == "sigmoid":
            A = 1 / (1 + np.exp(-Z))
        else:
            e = np.exp(Z - np.max(Z, axis=0, keepdims=True))
            A = e / np.sum(e, axis=0, keepdims=True)
        caches.append((A_prev, Z))
    return A, caches


def compute_cost(AL, Y, output: str) -> float:
    m = Y.shape[1]
    if output == "sigmoid":
        logprobs = np.multiply(-np.log(AL), Y) + np.multiply(-np.log(1 - AL), 1 - Y)
    else:
        logprobs = -Y * np.log(AL)
    return float(np.sum(logprobs) / m)


def backward_propagation(AL, Y, caches, parameters: dict, L: int) -> dict:
    grads = {}
    m = Y.shape[1]
    dZ = AL - Y  # sigmoid + cross-entropy, and softmax + categorical cross-entropy
    for l in reversed(range(1, L + 1)):
        A_prev, Z = caches[l - 1]
        grads["dW" + str(l)] = 1.0 / m * np.dot(dZ, A_prev.T)
        grads["db" + str(l)] = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
        if l > 1:
            dA_prev = np.dot(parameters["W" + str(l)].T, dZ)
            dZ = np.array(dA_prev, copy=True)  # the course's relu_backward
            dZ[caches[l - 2][1] <= 0] = 0
    return grads


def initialize_state(parameters: dict, L: int) -> tuple[dict, dict]:
    v, s = {}, {}
    for l in range(1, L + 1):
        for p in ("W", "b"):
            v["d" + p + str(l)] = np.zeros_like(parameters[p + str(l)])
            s["d" + p + str(l)] = np.zeros_like(parameters[p + str(l)])
    return v, s


def update_parameters(parameters, grads, v, s, t, L, optimizer, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8):
    for l in range(1, L + 1):
        for p in ("W", "b"):
            key, dkey = p + str(l), "d" + p + str(l)
            if optimizer == "gd":
                parameters[key] = parameters[key] - learning_rate * grads[dkey]
            elif optimizer == "momentum":
                v[dkey] = beta1 * v[dkey] + (1 - beta1) * grads[dkey]
                parameters[key] = parameters[key] - learning_rate * v[dkey]
            else:
                v[dkey] = beta1 * v[dkey] + (1 - beta1) * grads[dkey]
                v_corrected = v[dkey] / (1 - beta1**t)
                s[dkey] = beta2 * s[dkey] + (1 - beta2) * np.power(grads[dkey], 2)
                s_corrected = s[dkey] / (1 - beta2**t)
                parameters[key] = parameters[key] - learning_rate * v_corrected / (np.sqrt(s_corrected) + epsilon)
    return parameters


def model(X, Y, layer_dims, *, optimizer="adam", learning_rate=0.0007, mini_batch_size=64, num_epochs=5000,
          init_seed=3, shuffle_seed=10, output="sigmoid", dtype=np.float64, record_cost=True):
    """Train; ``X`` is ``(n_x, m)``, ``Y`` is ``(n_y, m)`` (0/1 or one-hot). Returns (parameters, steps).

    Seeded as the course does: ``np.random.seed(init_seed)`` before the weights, ``np.random.seed(shuffle_seed
    + epoch + 1)`` before each epoch's permutation; the cost of every mini-batch is computed, as the course's
    loop does.
    """
    L = len(layer_dims) - 1
    parameters = initialize_he(layer_dims, init_seed, dtype)
    v, s = initialize_state(parameters, L)
    t = 0
    for epoch in range(num_epochs):
        for minibatch_X, minibatch_Y in random_mini_batches(X, Y, mini_batch_size, shuffle_seed + epoch + 1):
            AL, caches = forward_propagation(minibatch_X, parameters, L, output)
            if record_cost:
                compute_cost(AL, minibatch_Y, output)
            grads = backward_propagation(AL, minibatch_Y, caches, parameters, L)
            t += 1
            parameters = update_parameters(parameters, grads, v, s, t, L, optimizer, learning_rate)
    return parameters, t


def predict(X, parameters, L: int, output: str) -> np.ndarray:
    AL, _ = forward_propagation(X, parameters, L, output)
    return (AL > 0.5).astype(int).ravel() if output == "sigmoid" else np.argmax(AL, axis=0)
