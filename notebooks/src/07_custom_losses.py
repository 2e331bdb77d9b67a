# %% [markdown]
# # 07 · Customise the loss in code
#
# Keras ships the common losses, but sooner or later your problem wants one it does not have: a robust
# loss for noisy targets, a weight per sample, a mix of two terms. This lesson writes one from scratch
# and takes it all the way to a saved model:
#
# 1. write the loss as a plain function over `keras.ops` (it then runs on TensorFlow, JAX and PyTorch);
# 2. let the **loss doctor** check how we call it, and fix the mistake it finds;
# 3. verify its gradient against finite differences and against Keras's built-in Huber loss;
# 4. wrap it as a `keras.losses.Loss` subclass with `get_config`;
# 5. train a tiny model on real blood-cell data with it and with the built-in MSE, and save and load the model.

# %%
import tempfile
from pathlib import Path

import keras
import numpy as np
from keras import ops

import lossviz
from lossviz.autodiff import value_and_grad

# %% [markdown]
# ## The data: blood-cell box sizes
#
# We use the bounding boxes of the **BCCD** dataset (Shenggan, github.com/Shenggan/BCCD_Dataset, MIT
# licence; images and annotations originally from cosmicad/dataset and akshaylamba/all_CELL_data): 364
# blood-smear images of 640 × 480 pixels with boxes around red cells, white cells and platelets.
#
# The task is deliberately tiny: predict a cell's box **height** from its **width** (both in units of
# 100 pixels). Cells are roughly round, so height ≈ width, except for the cells cut by the image border:
# their box loses one side, and they become **outliers** of the width-height relation. About a quarter
# of the boxes touch the border.

# %%
def box_sizes(split):
    """Widths and heights (in 100 px) of every BCCD box in a split, and whether it touches the border."""
    ann = lossviz.datasets.bccd_annotations(split)
    b = np.concatenate([a["boxes"] for a in ann])
    size = np.concatenate([np.tile([a["width"], a["height"]], (len(a["boxes"]), 1)) for a in ann])
    cut = (b[:, 0] <= 1) | (b[:, 1] <= 1) | (b[:, 2] >= size[:, 0] - 1) | (b[:, 3] >= size[:, 1] - 1)
    return ((b[:, 2] - b[:, 0]) / 100).astype("float32"), ((b[:, 3] - b[:, 1]) / 100).astype("float32"), cut

# %%
w, h, cut = box_sizes("train")
w_test, h_test, cut_test = box_sizes("test")
print(f"{len(w)} training boxes, {cut.mean():.0%} cut by the border; {len(w_test)} test boxes")

# %% [markdown]
# ## A robust loss in five lines
#
# The mean squared error squares every error, so the few large errors of the cut cells dominate it.
# The **pseudo-Huber** (Charbonnier) loss behaves like $e^2/2$ for small errors and like
# $\delta |e|$ for large ones, and, unlike Huber, it is smooth everywhere:
#
# $$L_\delta(e) = \delta^2\left(\sqrt{1 + (e/\delta)^2} - 1\right), \qquad e = \hat y - y .$$
#
# A Keras loss function takes `(y_true, y_pred)` and returns **one value per sample**: here the mean
# over the last axis, as Keras's own losses do. Only `keras.ops` is used, so it runs on any backend.

# %%
def pseudo_huber(y_true, y_pred, delta=1.0):
    e = (y_pred - y_true) / delta
    return ops.mean(delta**2 * (ops.sqrt(1.0 + e**2) - 1.0), axis=-1)

# %% [markdown]
# A quick hand check: for an error of 0 the loss is 0, and for $e = \delta = 1$ it is $\sqrt 2 - 1$.

# %%
# NBVAL_CHECK_OUTPUT
values = ops.convert_to_numpy(pseudo_huber(np.zeros((2, 1)), np.array([[0.0], [1.0]])))
print("L(0) = 0:", bool(values[0] == 0.0), "| L(1) = sqrt(2) - 1:", bool(np.isclose(values[1], np.sqrt(2) - 1)))

# %% [markdown]
# ## Check it with the loss doctor
#
# Before training, ask `lossviz.check` whether loss, targets and predictions fit together. We call the
# loss the way `model.fit` would: targets `h` of shape `(N,)`, and the predictions of a `Dense(1)` layer,
# which have shape `(N, 1)`.

# %%
y_true = h[:64]
y_pred = 0.8 * w[:64, None] + 0.15  # what a Dense(1) model might output: shape (64, 1)
report = lossviz.check(pseudo_huber, y_true, y_pred)
report

# %% [markdown]
# The doctor found a **rank mismatch**. Keras's built-in losses quietly add the missing axis, but our
# function does not: `(64,)` minus `(64, 1)` broadcasts to a `(64, 64)` matrix, so the "loss" compares
# every target with every prediction. No error is raised; the numbers are simply wrong:

# %%
wrong = float(ops.mean(pseudo_huber(y_true, y_pred)))
right = float(ops.mean(pseudo_huber(y_true[:, None], y_pred)))
print(f"broadcast (wrong): {wrong:.4f}   same shapes (right): {right:.4f}")

# %% [markdown]
# The fix the doctor suggests is to give the targets the predictions' shape. Checked again, the report is
# clean and shows the loss value.

# %%
# NBVAL_CHECK_OUTPUT
fixed = lossviz.check(pseudo_huber, y_true[:, None], y_pred)
print("before:", report.codes, "| after:", fixed.codes, "| ok:", fixed.ok)

# %% [markdown]
# From now on the targets are column vectors, like the predictions.

# %%
y, y_test = h[:, None], h_test[:, None]
x, x_test = w[:, None], w_test[:, None]

# %% [markdown]
# ## Verify the gradient
#
# Training only sees the loss through its gradient, so check it. `lossviz.autodiff.value_and_grad`
# differentiates with the active backend (here the derivative of the loss with respect to the
# prediction); we compare it with **central differences** $\big(L(e + \epsilon) - L(e - \epsilon)\big) / 2\epsilon$
# and with the derivative by hand, $L'(e) = e / \sqrt{1 + (e/\delta)^2}$.

# %%
delta = 1.0
errors = np.linspace(-3, 3, 601, dtype="float32")[:, None]  # one error per sample, steps of 0.01
loss_of = lambda e: pseudo_huber(ops.zeros_like(e), ops.convert_to_tensor(e), delta)
value, grad = value_and_grad(loss_of)(errors)

# %%
eps = 1e-2
central = (ops.convert_to_numpy(loss_of(errors + eps)) - ops.convert_to_numpy(loss_of(errors - eps))) / (2 * eps)
by_hand = errors[:, 0] / np.sqrt(1 + (errors[:, 0] / delta) ** 2)

# %%
# NBVAL_CHECK_OUTPUT
print("gradient matches central differences:", bool(np.allclose(grad[:, 0], central, atol=1e-3)))
print("gradient matches the formula by hand:", bool(np.allclose(grad[:, 0], by_hand, atol=1e-5)))

# %% [markdown]
# Now compare with Keras's built-in **Huber** loss, which is quadratic up to $|e| = \delta$ and linear
# beyond. The two should coincide where both are "pure": for tiny errors (both gradients are $e$) and for
# huge errors (both are $\pm\delta$). In between they differ, most at $|e| = \delta$, where Huber's
# gradient is $\delta$ and pseudo-Huber's is $\delta/\sqrt 2$.

# %%
_, huber_grad = value_and_grad(lambda e: keras.losses.huber(ops.zeros_like(e), e, delta))(errors)
wide = np.array([[-1e3], [-100.0], [-50.0], [50.0], [100.0], [1e3]], dtype="float32")
_, grad_wide = value_and_grad(loss_of)(wide)
_, huber_wide = value_and_grad(lambda e: keras.losses.huber(ops.zeros_like(e), e, delta))(wide)

# %%
# NBVAL_CHECK_OUTPUT
small = np.abs(errors[:, 0]) <= 0.05
gap = np.abs(grad - huber_grad)[:, 0]
print("same gradient as Huber for |e| <= 0.05:", bool(np.allclose(grad[small], huber_grad[small], rtol=2e-3)))
print("same gradient as Huber for |e| >= 50:  ", bool(np.allclose(grad_wide, huber_wide, rtol=2e-3)))
print(f"largest gap {gap.max():.2f} at |e| = {abs(errors[gap.argmax(), 0]):.2f}")

# %% [markdown]
# ## Wrap it as a `keras.losses.Loss`
#
# `model.compile(loss=pseudo_huber)` would already work. A `keras.losses.Loss` subclass adds what a real
# project needs: options such as `delta` stored with the model (`get_config`), a name in the logs, and
# the reduction over the batch. Registering it as serializable lets `keras.saving.load_model` rebuild it.

# %%
@keras.saving.register_keras_serializable(package="lesson07")
class PseudoHuber(keras.losses.Loss):
    def __init__(self, delta=1.0, name="pseudo_huber", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.delta = delta

    def call(self, y_true, y_pred):
        return pseudo_huber(y_true, y_pred, self.delta)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}

# %% [markdown]
# The doctor accepts the class too, reads its config, and evaluates it once. With `delta = 0.1`
# (10 pixels) errors beyond about 10 pixels count linearly.

# %%
# NBVAL_CHECK_OUTPUT
loss = PseudoHuber(delta=0.1)
report = lossviz.check(loss, y[:64], y_pred)
print("ok:", report.ok, "| findings:", report.codes, "| config:", loss.get_config()["delta"])

# %% [markdown]
# ## Train with it, and with the built-in MSE
#
# `lossviz.compare_losses` trains the same one-neuron model (`height = a · width + b`) from the
# same initial weights and batch order once per loss, so the runs differ only by their loss.

# %%
epochs = lossviz.pick(smoke=40, full=100)
linear = lambda: keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
runs = lossviz.compare_losses(
    linear, (x, y), {"mse": "mse", "pseudo_huber": PseudoHuber(delta=0.1)},
    epochs=epochs, batch_size=64, learning_rate=0.02)

# %% [markdown]
# What should the slope be? Fit the same line by least squares on the cells that are **not** cut by the
# border: that is the relation the outliers hide. The robust loss should land closer to it.

# %%
clean_slope, clean_intercept = np.polyfit(w[~cut], h[~cut], 1)
slopes = {name: float(m.get_weights()[0][0, 0]) for name, m in runs.models.items()}
print(f"border-free slope {clean_slope:.3f};", {k: round(v, 3) for k, v in slopes.items()})

# %%
# NBVAL_CHECK_OUTPUT
closer = abs(slopes["pseudo_huber"] - clean_slope) < abs(slopes["mse"] - clean_slope)
print("pseudo-Huber's slope is closer to the border-free slope than MSE's:", closer)

# %% [markdown]
# On the whole cells of the test split (not cut by the border), the mean absolute error in pixels:

# %%
inside = ~cut_test
test_error = {name: float(np.mean(np.abs(m.predict(x_test[inside], verbose=0) - y_test[inside]))) * 100
              for name, m in runs.models.items()}
lossviz.report(slope=slopes, border_free_slope=float(clean_slope), test_mae_px=test_error)
print({k: f"{v:.2f} px" for k, v in test_error.items()})

# %% [markdown]
# The difference is a few tenths of a pixel: a quarter of the data are outliers, but they scatter on
# both sides of the line, so they bend the MSE fit only a little. The lesson is the workflow, not the
# size of the win.
#
# ## Save and load a model with the custom loss
#
# The compiled loss is saved with the model (its class name and `get_config`); loading rebuilds it
# through the registration above.

# %%
model = runs.models["pseudo_huber"]
path = Path(tempfile.mkdtemp()) / "box_height.keras"
model.save(path)
loaded = keras.saving.load_model(path)

# %%
# NBVAL_CHECK_OUTPUT
same = np.allclose(loaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0))
print("loaded loss:", type(loaded.loss).__name__, "delta =", loaded.loss.delta, "| same predictions:", same)

# %% [markdown]
# ## Summary
#
# - A Keras loss is a function of `(y_true, y_pred)` over `keras.ops` returning one value per sample; a
#   `keras.losses.Loss` subclass with `get_config` makes it configurable and saveable.
# - `lossviz.check` caught a silent bug: targets `(N,)` against predictions `(N, 1)` broadcast to an
#   `(N, N)` matrix in a hand-written loss; Keras's built-ins hide it by reshaping.
# - `lossviz.autodiff.value_and_grad` plus central differences verify a gradient; comparing with a
#   built-in where the two should agree (Huber at very small and very large errors) is a second check.
# - On BCCD box sizes, where the cells cut by the border are outliers, the robust pseudo-Huber fit
#   follows the border-free relation more closely than MSE.
#
# ## Exercises
#
# 1. Make `pseudo_huber` accept a per-sample weight (e.g. 0.2 for cells cut by the border) and check with
#    the doctor that `y_true`, `y_pred` and the weights have matching shapes.
# 2. Try `delta` = 0.02, 0.1 and 1.0: how does the learned slope move? What does `delta` = 1.0 (100 px)
#    turn the loss into for this data?
# 3. Write the Huber loss yourself in `keras.ops` and show that it matches `keras.losses.huber` to
#    `1e-6` for errors in [-3, 3].
# 4. Pass `lossviz.check` probabilities and a `from_logits=True` loss, then integer labels and a
#    categorical cross-entropy: read the fixes it proposes and apply them.
