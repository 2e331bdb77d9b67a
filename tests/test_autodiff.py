import keras
import numpy as np
import pytest

from lossviz.autodiff import value_and_grad


def test_gradient_of_sum_of_squares_matches_hand_computation():
    f = value_and_grad(lambda x: keras.ops.sum(x**2, axis=-1))
    value, grad = f(np.array([[1.0, 2.0], [-3.0, 0.5]], "float32"))
    np.testing.assert_allclose(value, [5.0, 9.25], rtol=1e-6)
    np.testing.assert_allclose(grad, [[2.0, 4.0], [-6.0, 1.0]], rtol=1e-6)


def test_gradient_matches_central_differences_for_a_keras_loss():
    y_true = np.array([[0.0, 1.0, 0.0]], "float32")
    loss = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)
    f = value_and_grad(lambda logits: loss(y_true, logits))
    x = np.array([[0.3, -1.2, 2.0]], "float32")
    _, grad = f(x)
    eps = 1e-3
    numeric = []
    for i in range(3):
        step = np.zeros_like(x)
        step[0, i] = eps
        numeric.append((f(x + step)[0][0] - f(x - step)[0][0]) / (2 * eps))
    np.testing.assert_allclose(grad[0], numeric, atol=2e-3)


def test_graph_mode_matches_eager_for_any_batch_shape():
    fn = lambda x: keras.ops.sum(keras.ops.log(1 + x ** 2) * x, axis=-1)  # noqa: E731
    eager, graph = value_and_grad(fn), value_and_grad(fn, graph=True)
    for k in (1, 3, 7):                 # one trace serves every batch size
        x = np.linspace(-2, 2, 2 * k, dtype="float32").reshape(k, 2)
        for a, b in zip(eager(x), graph(x), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # hand derivative of log(1 + x^2) x: 2x^2 / (1 + x^2) + log(1 + x^2)
    x = np.array([[0.5, -1.5]], "float32")
    np.testing.assert_allclose(graph(x)[1], 2 * x**2 / (1 + x**2) + np.log1p(x**2), rtol=1e-5)


def test_compiled_tensor_gradient_matches_hand_computation():
    from lossviz.autodiff import compile_function, tensor_value_and_grad

    vg = tensor_value_and_grad(lambda x: keras.ops.sum(x**3, axis=-1))
    step = compile_function(lambda x, lr: x - lr * vg(x)[1])       # one gradient step, compiled
    x = keras.ops.convert_to_tensor(np.array([[1.0, -2.0]], "float32"))
    out = keras.ops.convert_to_numpy(step(x, keras.ops.convert_to_tensor(0.1)))
    np.testing.assert_allclose(out, [[1.0 - 0.1 * 3, -2.0 - 0.1 * 12]], rtol=1e-6)   # d/dx x^3 = 3x^2


@pytest.mark.parametrize("compiled", [False, True])
def test_several_outputs_get_one_gradient_each_by_hand(compiled):
    from lossviz.autodiff import compile_function, tensor_values_and_grads

    # outputs sharing work (x^2): d/dx sum(x^2) = 2x, d/dx sum(x^2 + 3x) = 2x + 3, d/dx sum(x^3) = 3x^2
    def fn(x):
        square = x**2
        return keras.ops.sum(square, axis=-1), keras.ops.sum(square + 3 * x, axis=-1), keras.ops.sum(x**3, axis=-1)

    f = tensor_values_and_grads(fn)
    f = compile_function(f, jit_compile=False) if compiled else f
    x = np.array([[1.0, -2.0], [0.5, 3.0]], "float32")
    values, grads = f(keras.ops.convert_to_tensor(x))
    assert len(values) == len(grads) == 3
    np.testing.assert_allclose(keras.ops.convert_to_numpy(values[0]), [5.0, 9.25], rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(values[1]), [2.0, 19.75], rtol=1e-6)
    for got, expected in zip(grads, (2 * x, 2 * x + 3, 3 * x**2), strict=True):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), expected, rtol=1e-6)
