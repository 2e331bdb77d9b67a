# %% [markdown]
# # 01 · Regression losses: same data, different loss, different mountain
#
# Lesson 00 walked a hiker down the cost surface of a line fit under the squared error. But the
# loss is *our* choice, and every choice builds a different mountain from the same data. This
# lesson compares the four classic regression losses of Keras:
#
# | loss | per-example value, error $e = \hat y - y$ | Keras |
# | --- | --- | --- |
# | MSE (L2) | $e^2$ | `keras.losses.MeanSquaredError` |
# | MAE (L1) | $\lvert e \rvert$ | `keras.losses.MeanAbsoluteError` |
# | Huber | $\tfrac12 e^2$ if $\lvert e\rvert \le \delta$, else $\delta \lvert e\rvert - \tfrac12\delta^2$ | `keras.losses.Huber(delta)` |
# | log-cosh | $\log\cosh e$ | `keras.losses.LogCosh` |
#
# and asks one practical question: **what do a few bad labels do to each of them?**
#
# **Data.** The BCCD blood-cell detection dataset (Shenggan, MIT licence; images and boxes from
# cosmicad and akshaylamba). We use the widths and heights of the boxes drawn around the cells.

# %%
import keras
import numpy as np
import plotly.graph_objects as go

import lossviz
from lossviz import losses, optimizers, surfaces
from lossviz.plots import descent as plots

EPOCHS = lossviz.pick(smoke=10, full=60)  # epochs of the Keras-trained line
N_GRID = 161                              # grid points per axis for locating minima (0.005 apart)

# %% [markdown]
# ## Four losses, one error
# First the losses themselves, as functions of the error of one prediction. Keras returns one value
# per example with `reduction=None`; we take the losses from lossviz's catalogue, which hands back
# Keras's own classes.

# %%
CHOICES = {"MSE": losses.get("mse", reduction=None), "MAE": losses.get("mae", reduction=None),
           "Huber δ=1": losses.get("huber", reduction=None), "log-cosh": losses.get("log_cosh", reduction=None)}
e = np.linspace(-3, 3, 121, dtype="float32")[:, None]
curves = {name: keras.ops.convert_to_numpy(loss(np.zeros_like(e), e)) for name, loss in CHOICES.items()}
go.Figure([go.Scatter(x=e[:, 0], y=v, name=n) for n, v in curves.items()],
          layout={"xaxis_title": "error ŷ − y", "yaxis_title": "loss", "height": 350})

# %% [markdown]
# Far from zero the squared error grows like $e^2$: an error 10 times larger costs 100 times more
# and pulls 10 times harder (its gradient is $2e$). MAE grows like $\lvert e\rvert$ and pulls with
# the same force whatever the error. Huber and log-cosh are quadratic near zero and linear far away.

# %%
# NBVAL_CHECK_OUTPUT
at = {float(v): i for i, v in enumerate(e[:, 0].round(2))}
print("MSE(3) / MSE(1) =", round(float(curves["MSE"][at[3.0]] / curves["MSE"][at[1.0]]), 3))
print("MAE(3) / MAE(1) =", round(float(curves["MAE"][at[3.0]] / curves["MAE"][at[1.0]]), 3))

# %% [markdown]
# ## Real outliers: boxes cut by the image border
# Cells are round, so a box's height is close to its width. But a cell at the edge of the picture
# is cut: its box is much narrower or flatter than the cell. `surfaces.bccd_box_sizes` returns the
# boxes that touch no border (*clean*), and with `outliers=True` also the cut boxes whose
# height/width ratio is off by more than 1.5 times, about 5 % of the data. Sizes are in units of
# 100 pixels.

# %%
x_clean, y_clean = surfaces.bccd_box_sizes(outliers=False)
x_all, y_all = surfaces.bccd_box_sizes(outliers=True)
print(f"clean boxes: {len(x_clean)}, with outliers: {len(x_all)} (+{len(x_all) - len(x_clean)})")

# %%
extra = slice(len(x_clean), None)
go.Figure([go.Scatter(x=x_clean, y=y_clean, mode="markers", marker={"size": 3}, name="clean boxes"),
           go.Scatter(x=x_all[extra], y=y_all[extra], mode="markers", marker={"size": 5}, name="cut boxes")],
          layout={"xaxis_title": "width (100 px)", "yaxis_title": "height (100 px)", "height": 400})

# %% [markdown]
# ## Same data, different mountain
# A line $\hat y = w x + b$ has two parameters, so each loss gives a cost surface we can draw:
# $C(w, b) = \frac1N \sum_i \ell(y_i, w x_i + b)$. MSE gives a smooth bowl; MAE gives a surface
# made of flat facets meeting at creases (a polyhedral cone), because $\lvert e\rvert$ has a kink.

# %%
ZOOM = {"x_range": (0.4, 1.2), "y_range": (-0.3, 0.5)}
mse_surface = surfaces.line_fit(x_all, y_all, "mse", **ZOOM)
mae_surface = surfaces.line_fit(x_all, y_all, "mae", **ZOOM)
plots.descent_figure(mse_surface, [], n=60)

# %%
plots.descent_figure(mae_surface, [], n=60)

# %% [markdown]
# ## Outliers move the MSE minimum and barely move the MAE minimum
# Now the key experiment: the lowest point of each surface, fitted to the clean boxes and to the
# boxes with the cut ones added. For Huber we set $\delta$ in the units of the data: errors above
# 10 pixels ($\delta = 0.1$) count linearly. With the default $\delta = 1$ (100 pixels!) every error
# here would be "small" and Huber would be MSE.

# %%
FITS = {"MSE": "mse", "MAE": "mae", "Huber δ=1": "huber",
        "Huber δ=0.1": losses.get("huber", delta=0.1, reduction=None), "log-cosh": "log_cosh"}
minima = {}
for name, loss in FITS.items():
    clean = surfaces.line_fit(x_clean, y_clean, loss, **ZOOM).grid_minimum(N_GRID)
    dirty = surfaces.line_fit(x_all, y_all, loss, **ZOOM).grid_minimum(N_GRID)
    minima[name] = (np.array(clean[:2]), np.array(dirty[:2]))

# %%
shift = {name: float(np.linalg.norm(d - c)) for name, (c, d) in minima.items()}
for name, (c, d) in minima.items():
    print(f"{name:12s} clean w={c[0]:.3f} b={c[1]:.3f} -> with outliers w={d[0]:.3f} b={d[1]:.3f}"
          f"  moved {shift[name]:.3f}")
lossviz.report(**{f"minimum_shift_{k}": v for k, v in shift.items()})

# %%
# NBVAL_CHECK_OUTPUT
print("outliers move the MSE minimum more than twice as far as the MAE minimum:",
      shift["MSE"] > 2 * shift["MAE"])
print("Huber with delta in data units (0.1) moves less than MSE:", shift["Huber δ=0.1"] < shift["MSE"])
print("Huber with the default delta=1 behaves like MSE here:", abs(shift["Huber δ=1"] - shift["MSE"]) < 0.01)

# %% [markdown]
# Why? At the minimum the gradient is zero: the pulls of all the errors balance. Under MSE each
# point pulls in proportion to its error, so a few far-away cut boxes pull as hard as many
# nearby good ones. Under MAE each point pulls with the same force, only its *direction* counts:
# the minimum is a median line, and 5 % of bad points can shift a median only a little.
# log-cosh switches from quadratic to linear at errors of about 1 (100 pixels), so on this data it
# also behaves like MSE: the scale of the targets matters.
#
# ## Walking down the MAE mountain
# The MAE gradient does not shrink near the minimum, so plain SGD with a fixed learning rate keeps
# jumping across the crease; Adam's steps shrink as its gradient averages cancel.

# %%
team = [optimizers.Optimizer("sgd", learning_rate=0.05), optimizers.Optimizer("adam", learning_rate=0.02)]
walks = optimizers.trajectories(mae_surface, (0.5, 0.4), team, steps=150)
plots.descent_figure(mae_surface, walks, n=60)

# %% [markdown]
# Try it yourself: the explorer accepts any surface, including these data surfaces.

# %%
lossviz.DescentExplorer(mae_surface, optimizers=("sgd", "momentum", "adam"), learning_rate=0.02, steps=150, n=40)

# %% [markdown]
# ## The same fit, trained by Keras
# The surfaces are the whole story for a two-parameter model, and Keras's training finds the same
# minima. A `Dense(1)` layer *is* the line $\hat y = w x + b$; we train it with each loss on the
# training split, with and without the cut boxes, and measure its mean absolute error in pixels on
# the **clean** boxes of the test split. Every run starts from the same initial weights
# (`lossviz.compare_losses`). In `model.compile` the losses keep Keras's default reduction (the mean
# over the batch), so we name them as catalogue entries with their options.

# %%
train = {"clean": surfaces.bccd_box_sizes(outliers=False, split="train"),
         "with outliers": surfaces.bccd_box_sizes(outliers=True, split="train")}
x_test, y_test = surfaces.bccd_box_sizes(outliers=False, split="test")

# %%
TRAIN_LOSSES = {"MSE": "mse", "MAE": "mae", "Huber δ=1": "huber", "Huber δ=0.1": ("huber", {"delta": 0.1}),
                "log-cosh": "log_cosh"}


def line_model() -> keras.Model:
    return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])


# %%
def test_error_px(model: keras.Model) -> dict[str, float]:
    pred = model.predict(x_test[:, None], verbose=0)[:, 0]
    return {"test MAE (px)": float(np.mean(np.abs(pred - y_test)) * surfaces.BOX_UNIT)}


# %%
runs = {name: lossviz.compare_losses(line_model, (x[:, None], y[:, None]), TRAIN_LOSSES, epochs=EPOCHS,
                                     learning_rate=1e-2, evaluate=test_error_px)
        for name, (x, y) in train.items()}

# %%
for loss in TRAIN_LOSSES:
    (w0, b0), (w1, b1) = ([float(v.ravel()[0]) for v in runs[k].models[loss].get_weights()] for k in train)
    c, d = (runs[k].evaluations[loss]["test MAE (px)"] for k in train)
    print(f"{loss:12s} w {w0:.3f} -> {w1:.3f}, b {b0:.3f} -> {b1:.3f};  test MAE {c:5.2f} -> {d:5.2f} px")
lossviz.report(**{f"test_mae_px_{k}_{loss}": r.evaluations[loss]["test MAE (px)"]
                  for k, r in runs.items() for loss in TRAIN_LOSSES})

# %% [markdown]
# Read each line as "trained on clean -> trained with outliers". The trained lines land near the
# minima of the surfaces above, and the cut boxes drag the MSE line (its slope drops) more than the
# MAE line. When we ran the full profile (60 epochs) on a CPU, the MSE line lost about 0.2 px of
# test accuracy to the cut boxes and the MAE and Huber ($\delta = 0.1$) lines lost none. The
# smoke profile trains only a few epochs, so its numbers are a rough sketch.
#
# The effect on the test error is small here because only 5 % of the boxes are bad and the test
# boxes themselves vary by about 11 px; with more or worse outliers (exercise 2) it grows.
#
# ## Summary
# * MSE, MAE, Huber and log-cosh differ in how hard a large error pulls: like $e$ (MSE), a constant
#   (MAE), or quadratic-then-constant (Huber, log-cosh).
# * Same data, different loss, different mountain: a smooth bowl for MSE, a creased cone for MAE.
# * A few outliers (BCCD boxes cut by the image border) drag the MSE minimum; the MAE minimum
#   (a median) barely moves. Huber sits in between, **if** $\delta$ is set in the units of the
#   targets; log-cosh's switch point is fixed near 1.
# * MAE's gradient does not shrink near the minimum: lower the learning rate late, or use Adam.
#
# ## Exercises
# 1. Rescale the data to pixels (multiply `x` and `y` by 100). Which losses' minima change, and
#    which $\delta$ would you now give Huber?
# 2. Add more outliers (all cut boxes, not only the badly shaped ones): at what fraction does the
#    MAE minimum start to move a lot too?
# 3. Draw the log-cosh surface next to the MSE one. Where do they differ?
# 4. Replace the line by a small network (`Dense(16, activation="relu")` then `Dense(1)`): does the
#    MSE model still suffer more from the cut boxes than the MAE model? Run each setting with a few
#    seeds before you conclude: with 5 % outliers, training noise is as large as the effect.
