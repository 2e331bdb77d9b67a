# %% [markdown]
# # 08 · The mountain of a real network: loss landscapes
#
# In lesson 00 a hiker walked downhill on an analytic surface with two parameters, and we could
# draw the whole mountain. A real network has thousands to millions of weights, so its loss is a
# mountain in a space we cannot draw. What we *can* draw is a **slice**: stand at the trained
# weights $w$, pick one or two directions $d_1, d_2$ in weight space and plot
#
# $$f(\alpha, \beta) = L(w + \alpha d_1 + \beta d_2).$$
#
# This lesson follows Li, Xu, Taylor, Studer and Goldstein, *Visualizing the Loss Landscape of
# Neural Nets* (NeurIPS 2018). We train the same small CNN twice on Fashion-MNIST, once with
# cross-entropy and once with a quadratic loss, and look at the two mountains side by side: their
# shape near the minimum, how sharp the valley is, and the path the optimizer took to get there.
#
# **Data.** Fashion-MNIST by Han Xiao, Kashif Rasul and Roland Vollgraf (Zalando Research, 2017,
# arXiv:1708.07747; MIT licence): 28×28 grey images of 10 kinds of clothing.

# %%
import keras
import numpy as np

import lossviz
from lossviz import landscape
from lossviz.models import small_cnn
from lossviz.plots import landscape as plots

# %% [markdown]
# ## Sizes
# Every size comes from `lossviz.pick`: the *smoke* profile runs in seconds on a laptop CPU, the
# *full* profile is the real experiment (a GPU is recommended: a 41×41 grid on 10,000 images is
# 1,681 passes over the data).

# %%
N_TRAIN = lossviz.pick(smoke=4096, full=60000)
EPOCHS = lossviz.pick(smoke=5, full=12)
LEARNING_RATE = lossviz.pick(smoke=3e-3, full=1e-3)
N_LANDSCAPE = lossviz.pick(smoke=256, full=10000)   # images the loss is measured on
STEPS = lossviz.pick(smoke=11, full=41)             # grid points per axis
WIDTH = lossviz.pick(smoke=8, full=16)              # filters in the CNN's first block

# %% [markdown]
# ## The data
# We scale the pixels to $[0, 1]$, add a channel axis and one-hot encode the labels, so that both
# losses see the same targets.

# %%
print(lossviz.datasets.credits("fashion_mnist"))
(x_train, y_train), _ = lossviz.datasets.fashion_mnist()   # uint8 images, labels 0..9
x = x_train[:N_TRAIN, :, :, None].astype("float32") / 255.0
y = keras.ops.convert_to_numpy(keras.ops.one_hot(y_train[:N_TRAIN], 10))
x.shape, y.shape

# %% [markdown]
# The landscape is measured on a fixed subset of the training images: the loss we plot is the
# loss the optimizer was minimising.

# %%
x_land, y_land = x[:N_LANDSCAPE], y[:N_LANDSCAPE]

# %% [markdown]
# ## Two losses, one network
# Both models are the same `small_cnn` with a softmax output, started from the **same initial
# weights** (same seed). One minimises cross-entropy $-\sum_k y_k \log p_k$, the other the
# quadratic loss $\frac{1}{K}\sum_k (y_k - p_k)^2$ on the probabilities.

# %%
LOSSES = {
    "cross-entropy": keras.losses.CategoricalCrossentropy(),
    "quadratic (MSE)": keras.losses.MeanSquaredError(),
}

# %% [markdown]
# A small callback, `landscape.WeightRecorder`, copies the weights at the start and after every
# few batches. It only records; we will use the snapshots to draw the optimizer's path.

# %%
models, recorders = {}, {}
for name, loss in LOSSES.items():
    models[name] = small_cnn(width=WIDTH, activation="softmax", seed=0)
    models[name].compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=loss, metrics=["accuracy"])
    recorders[name] = landscape.WeightRecorder(every_batches=lossviz.pick(smoke=16, full=200))

# %%
for name, model in models.items():
    model.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=0, callbacks=[recorders[name]])
    print(f"{name:16s} training loss {model.evaluate(x_land, y_land, verbose=0)[0]:.4f}")

# %% [markdown]
# ## A first look: the straight line from start to finish
# The simplest slice needs no random direction at all: walk on the straight line from the initial
# weights ($\alpha = 0$) to the trained ones ($\alpha = 1$) and half as far again on both sides
# (Goodfellow, Vinyals and Saxe, 2015).

# %%
lines = {name: landscape.interpolate(model, LOSSES[name], x_land, y_land, recorders[name].snapshots[0],
                                     landscape.model_weights(model), steps=lossviz.pick(smoke=21, full=81))
         for name, model in models.items()}

# %%
plots.line_figure({n: (s.alphas, s.losses) for n, s in lines.items()}, log=True, marks=(0, 1),
                  xaxis_title="α (0 = initial, 1 = trained)", title="Linear interpolation")

# %% [markdown]
# Read each curve from left to right. Near $\alpha = 0$ the untrained network guesses (cross-entropy
# near $\ln 10 \approx 2.3$); then the loss falls to the trained weights, typically with no bump in
# between: along this line there is no ridge to climb (Goodfellow et al. saw the same for many
# networks). The lowest point can sit slightly past $\alpha = 1$, and beyond it the wall rises again.
# The two curves live on different scales because the two losses measure error differently
# (cross-entropy punishes confident mistakes without bound, the quadratic loss is at most
# 2/K = 0.2 per image).

# %%
# NBVAL_CHECK_OUTPUT
print("trained loss < initial loss:", all(s.losses[np.isclose(s.alphas, 1.0)][0] < s.centre_loss
                                          for s in lines.values()))

# %% [markdown]
# ## Random directions need filter normalisation
# Now the real picture: two random directions through the trained weights. A raw Gaussian
# direction is unfair to layers with small weights (a step that barely touches one layer wrecks
# another), and it makes two networks incomparable. Li et al. therefore rescale each **filter** of
# the direction to the norm of the matching filter of the weights:
#
# $$d_{i,j} \leftarrow \frac{d_{i,j}}{\lVert d_{i,j} \rVert}\, \lVert w_{i,j} \rVert,$$
#
# where $j$ is one output channel of a Conv2D kernel of shape `(kh, kw, in, out)` (or one output
# unit of a Dense kernel). Biases and batch-norm parameters are left out (zero in the direction).
# So $\alpha = 0.5$ moves *every* filter by half its own length.

# %%
w = landscape.model_weights(models["cross-entropy"])
d1, d2 = landscape.random_directions(w, count=2, seed=0)
print([(v.shape, round(float(np.linalg.norm(dv[..., 0]) / np.linalg.norm(v[..., 0])), 4))
       for v, dv in zip(w, d1, strict=True) if v.ndim > 1])

# %% [markdown]
# Every ratio is 1: the first filter of each kernel in the direction is exactly as long as the
# trained filter.
#
# ## The two landscapes
# `landscape.slice_2d` evaluates the loss on a `STEPS × STEPS` grid in $[-1, 1]^2$. It does not call
# `model.evaluate` per point: the images are converted to tensors once and each point runs the
# model's compiled forward pass, so the smoke profile's small grid takes seconds on a CPU (the full
# profile's 41 × 41 grids on 10,000 images take more than an hour there: they are meant for a GPU).
# The model's weights are restored at the end, even if something fails half-way.

# %%
before = {name: model.get_weights() for name, model in models.items()}
planes = {name: landscape.slice_2d(model, LOSSES[name], x_land, y_land, steps=STEPS, seed=0)
          for name, model in models.items()}

# %% [markdown]
# Two sanity checks: the centre of each grid is the model's own training loss (as `evaluate`
# reports it), and the models' weights are untouched afterwards.

# %%
# NBVAL_CHECK_OUTPUT
own = {n: m.evaluate(x_land, y_land, batch_size=1024, verbose=0)[0] for n, m in models.items()}
print("centre equals model.evaluate (to 0.1 %):",
      all(abs(planes[n].centre_loss - own[n]) <= 1e-3 * own[n] for n in models))
print("weights restored:", all(np.array_equal(a, b) for name, model in models.items()
                               for a, b in zip(before[name], model.get_weights(), strict=True)))

# %% [markdown]
# Each landscape in its own loss (so each panel has its own colour bar), on a log scale:

# %%
plots.contour_grid(planes, log=True, shared_scale=False, title="Loss around the trained weights")

# %% [markdown]
# Both are a single basin around the trained weights, and the walls rise steeply: at the edge of
# the grid every filter has been moved by a random vector as long as itself, and the network is
# lost.

# %%
# NBVAL_CHECK_OUTPUT
def border(z):
    return np.concatenate([z[0], z[-1], z[:, 0], z[:, -1]])
print("every border point is higher than the centre:",
      all(border(p.losses).min() > p.centre_loss for p in planes.values()))

# %% [markdown]
# The same mountains in 3-D. Drag to rotate.

# %%
plots.surface_figure(planes, log=True, shared_scale=False, title="Loss surfaces (log10)")

# %% [markdown]
# ## One yardstick for both: the error rate
# Cross-entropy and squared error have different units, so comparing their heights is meaningless.
# To put both landscapes on **one colour scale** we measure both on the same yardstick: the
# classification error, the fraction of misclassified images (a loss too, just not a smooth one).

# %%
def error_rate(y_true, y_pred):
    wrong = keras.ops.argmax(y_true, axis=-1) != keras.ops.argmax(y_pred, axis=-1)
    return keras.ops.cast(wrong, "float32")

# %%
errors = {name: landscape.slice_2d(model, error_rate, x_land, y_land, steps=STEPS, seed=0)
          for name, model in models.items()}
plots.contour_grid(errors, shared_scale=True, label="error rate",
                   title="Error rate around the trained weights (one colour scale)")

# %% [markdown]
# ## Sharpness: how fast do the walls rise?
# A common summary of a minimum's shape is how much the loss grows at a fixed distance. Filter
# normalisation gives "distance" the same meaning for both networks: `radius = 0.25` moves each
# filter by a quarter of its length, along several random directions (both signs).

# %%
RADIUS = 0.25
sharp = {name: landscape.sharpness(model, error_rate, x_land, y_land, radius=RADIUS, count=lossviz.pick(smoke=4, full=16))
         for name, model in models.items()}
for name, s in sharp.items():
    print(f"{name:16s} error at centre {s.centre_loss:.3f}, mean rise at r={RADIUS}: {s.mean_increase:+.3f}")

# %% [markdown]
# The rise is measured in the same unit for both (error rate), so you can compare it; which model
# sits in the flatter valley depends on the training run (try more epochs and other seeds in the
# exercises). Li et al. found that flatter minima, measured this way, tend to go with lower
# test error.
#
# ## The optimizer's path
# Where did the optimizer come from? Project the recorded snapshots onto the plane of the two
# random directions ($w_t - w \approx a_t d_1 + b_t d_2$, least squares):

# %%
name = "cross-entropy"
snaps = recorders[name].snapshots
on_random = landscape.project_trajectory(snaps, planes[name].directions, planes[name].centre)
print("share of (snapshot - trained weights) off the plane, smallest:", round(float(on_random.residual[:-1].min()), 3))

# %% [markdown]
# Almost all of the path lies *off* the random plane: in thousands of dimensions two random
# directions are nearly orthogonal to anything in particular, including the path. Li et al.'s fix
# is to take the plane of the path's two **principal directions** (PCA of the snapshots).

# %%
(p1, p2), explained = landscape.pca_directions(snaps)
on_pca = landscape.project_trajectory(snaps, (p1, p2), snaps[-1])
print("variance of the path explained by the two directions:", np.round(explained, 3))

# %%
# NBVAL_CHECK_OUTPUT
print("the PCA plane holds the path better than the random plane:",
      on_pca.residual[:-1].mean() < on_random.residual[:-1].mean())

# %% [markdown]
# Now a grid on the PCA plane that covers the whole path, and the path drawn on it: this is lesson
# 00's hiker again, but on the mountain of a real network.

# %%
alphas, betas = landscape.axes_around(on_pca.coords, steps=STEPS)
pca_plane = landscape.slice_2d(models[name], LOSSES[name], x_land, y_land, directions=(p1, p2),
                               alphas=alphas, betas=betas)
plots.contour_figure(pca_plane, path=on_pca.coords, log=True, title=f"{name}: the optimizer's path",
                     axis_titles=("1st PCA direction", "2nd PCA direction"))

# %% [markdown]
# The path starts far up the mountain and bends as it descends; the steps shrink as the valley
# flattens near the end. Unlike lesson 00, this picture is a *projection*: the hiker also moved in
# directions we cannot see (the explained variance above says how much).

# %%
lossviz.report(
    centre_loss={n: p.centre_loss for n, p in planes.items()},
    sharpness_error_rate={n: s.mean_increase for n, s in sharp.items()},
    pca_explained=explained, grid=STEPS, examples=N_LANDSCAPE,
)

# %% [markdown]
# ## Summary
# - A network's loss can only be seen in slices: $L(w + \alpha d_1 + \beta d_2)$ along one or two
#   directions through the trained weights, or along the line between two solutions.
# - Random directions must be **filter-normalised** (each filter scaled to its weight filter's
#   norm; biases and BN parameters left out) for pictures of different networks to be comparable.
# - Losses have units: compare cross-entropy and quadratic landscapes on a common yardstick (here
#   the error rate) before you compare heights or sharpness.
# - Random planes miss the optimizer's path; the PCA plane of the recorded weights shows it.
# - `lossviz.landscape` computes the slices fast (compiled forward passes on cached batches),
#   restores the weights, and is reproducible from a seed.
#
# ## Exercises
# 1. Train the two models with `batch_norm=True` in `small_cnn`. Do the landscapes become smoother
#    or wider? (Li et al. studied skip connections; BN is a cheaper experiment.)
# 2. Repeat the sharpness measurement with three seeds for the directions and three training
#    seeds. Is the ordering of the two losses stable? What does that tell you about a single
#    picture?
# 3. Slice with `norm="none"` (raw Gaussian directions) and `norm="layer"`. How does the picture
#    change, and why does Li et al.'s argument about scale invariance predict it?
# 4. Interpolate between the cross-entropy model and the quadratic model
#    (`landscape.interpolate(model, loss, x, y, weights_a, weights_b)`). Is there a barrier between
#    the two solutions?
# 5. Use a larger batch size or a larger learning rate and compare the sharpness of the minimum
#    each finds.
