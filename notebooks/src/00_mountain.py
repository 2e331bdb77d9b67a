# %% [markdown]
# # 00 · The mountain: what a loss is and how gradient descent walks down it
#
# Picture a hiker high on a mountain in thick fog. She wants to reach the valley floor but can see
# only a few metres around her. What she *can* do is feel the slope under her feet, take a step
# downhill, feel again, step again. That is all gradient descent does:
#
# * the **mountain** is the loss surface: for every setting of the model's parameters (her position)
#   it gives one number, how wrong the model is (her altitude);
# * the **slope** under her feet is the gradient of the loss;
# * the **length of her stride** is the learning rate;
# * the **fog** is why she needs the gradient at all: a real model has millions of parameters, and
#   nobody can look at the whole mountain.
#
# In this lesson every mountain has only two parameters, so we can draw it whole and watch the hiker.
#
# **Data.** The BCCD blood-cell detection dataset (Shenggan, MIT licence; images and boxes from
# cosmicad and akshaylamba): 364 blood-smear images with boxes around red cells, white cells and
# platelets. We use only the boxes' sizes.

# %%
import keras
import numpy as np

import lossviz
from lossviz import optimizers, surfaces
from lossviz.optimizers import Optimizer
from lossviz.plots import descent as plots

N_GRID = lossviz.pick(smoke=50, full=100)  # grid points per axis of the drawn surfaces

# %% [markdown]
# ## Loss and cost
# A blood cell is round, so the height of its box is close to its width. Let us predict the height
# $y$ from the width $x$ (both in units of 100 pixels) with a straight line $\hat y = w x + b$.

# %%
x, y = surfaces.bccd_box_sizes()
print(f"{len(x)} boxes; widths from {x.min():.2f} to {x.max():.2f} (x 100 px)")

# %% [markdown]
# The **loss** measures how wrong the model is on *one* example; the squared error is
# $\ell_i = (y_i - \hat y_i)^2$. Keras computes one loss per example when we ask for no reduction.

# %%
w, b = 0.8, 0.1
y_hat = w * x + b
per_example = keras.losses.MeanSquaredError(reduction=None)(y[:, None], y_hat[:, None])
keras.ops.convert_to_numpy(per_example)[:5]

# %% [markdown]
# The **cost** is the average loss over the whole data set, $C(w, b) = \frac{1}{N}\sum_i \ell_i$:
# one number per parameter setting, the altitude of the hiker. It is what Keras's default
# `reduction="sum_over_batch_size"` returns and what training minimises.

# %%
# NBVAL_CHECK_OUTPUT
cost = keras.losses.MeanSquaredError()(y[:, None], y_hat[:, None])
print("cost == mean of the per-example losses:", bool(np.isclose(float(cost), float(keras.ops.mean(per_example)))))

# %% [markdown]
# ## The mountain of the line fit
# Every pair $(w, b)$ is a point on a map, and its cost is the altitude there. `surfaces.line_fit`
# evaluates $C$ on a whole grid of $(w, b)$ pairs at once with the same Keras loss.

# %%
line = surfaces.line_fit(x, y, "mse")
w_best, b_best, c_best = line.grid_minimum(N_GRID)
print(f"lowest point of the grid: w = {w_best:.2f}, b = {b_best:.2f}, cost {c_best:.4f}")

# %%
plots.descent_figure(line, [], n=N_GRID)

# %% [markdown]
# A smooth bowl, stretched along one direction. The gradient $\nabla C = (\partial C/\partial w,
# \partial C/\partial b)$ points uphill, so the hiker steps against it:
#
# $$ (w, b) \leftarrow (w, b) - \eta\, \nabla C(w, b), $$
#
# where $\eta$ is the learning rate. The gradient here comes from Keras's backend (automatic
# differentiation of the same loss).

# %%
hike = optimizers.trajectory(line, start=(-0.5, 1.5), optimizer=Optimizer("sgd", learning_rate=0.3), steps=100)
plots.descent_figure(line, [hike], n=N_GRID)

# %%
# NBVAL_CHECK_OUTPUT
print("every step went downhill:", bool(np.all(np.diff(hike.losses) <= 1e-6)))
print("ended near the lowest point:", bool(np.linalg.norm(hike.path[-1] - [w_best, b_best]) < 0.1))

# %% [markdown]
# ## The learning rate: too small, right, too large
# On the simplest mountain, the bowl $L = x^2 + y^2$, the gradient is $2p$ and one step multiplies
# the position by $(1 - 2\eta)$. So $\eta = 0.01$ crawls, $\eta = 0.1$ is quick, and any $\eta > 1$
# overshoots more every step: the hiker is thrown off the mountain.

# %%
bowl = surfaces.bowl()
rates = {"too small": 0.01, "right": 0.1, "too large": 1.1}
hikes = {name: optimizers.trajectory(bowl, bowl.start, Optimizer("sgd", learning_rate=lr), steps=40)
         for name, lr in rates.items()}
for name, h in hikes.items():
    print(f"{name:9s} final loss {h.losses[-1]:10.4g}  diverged: {h.diverged}")

# %%
# NBVAL_CHECK_OUTPUT
small, right, large = hikes.values()
print("right ends lower than too small:", bool(right.losses[-1] < small.losses[-1]))
print("too large diverged:", large.diverged)

# %%
plots.descent_figure(bowl, [large], n=N_GRID)

# %% [markdown]
# The diverging path is cut where it leaves the map and labelled "diverged": each step lands
# further up the opposite wall.
#
# ## A ravine: where plain SGD zig-zags
# Real cost surfaces are rarely round. In the **ravine** $L = \tfrac12(x^2 + 40 y^2)$ the walls are
# 40 times steeper than the floor. A learning rate small enough not to be thrown off the walls
# ($\eta < 2/40$) makes tiny progress along the floor. **Momentum** remembers the previous steps
# (a heavy ball rolling down): the zig-zags cancel and the steps along the floor add up.
# **Nesterov** looks ahead before correcting; **RMSprop** and **Adam** divide each coordinate's step
# by the recent size of its gradient, so steep and flat directions get similar strides.

# %%
ravine = surfaces.ravine()
team = [Optimizer("sgd", learning_rate=0.045), Optimizer("momentum", learning_rate=0.01, momentum=0.9),
        Optimizer("nesterov", learning_rate=0.01, momentum=0.9), Optimizer("rmsprop", learning_rate=0.05),
        Optimizer("adam", learning_rate=0.2)]
walks = optimizers.trajectories(ravine, ravine.start, team, steps=60)
{t.optimizer.label: round(float(t.losses[-1]), 4) for t in walks}

# %%
plots.descent_figure(ravine, walks, n=N_GRID)

# %%
# NBVAL_CHECK_OUTPUT
final = {t.optimizer.kind: t.losses[-1] for t in walks}
print("momentum ends lower than plain SGD after 60 steps:", bool(final["momentum"] < final["sgd"]))

# %% [markdown]
# ## Rosenbrock's banana valley
# $L = (1 - x)^2 + 100 (y - x^2)^2$ has a long, curved, nearly flat valley floor. Reaching the floor
# is easy; walking along its curve to the minimum at $(1, 1)$ is slow. The map is drawn as
# $\log_{10}(1 + L)$ so that the floor is visible.

# %%
rosen = surfaces.rosenbrock()
team = [Optimizer("sgd", learning_rate=1e-3), Optimizer("momentum", learning_rate=1e-3, momentum=0.9),
        Optimizer("nesterov", learning_rate=1e-3, momentum=0.9), Optimizer("rmsprop", learning_rate=1e-2),
        Optimizer("adam", learning_rate=5e-2)]
walks = optimizers.trajectories(rosen, rosen.start, team, steps=500)
{t.optimizer.label: round(float(np.linalg.norm(t.path[-1] - [1.0, 1.0])), 3) for t in walks}

# %%
plots.descent_figure(rosen, walks, n=N_GRID)

# %%
# NBVAL_CHECK_OUTPUT
distance = {t.optimizer.kind: np.linalg.norm(t.path[-1] - [1.0, 1.0]) for t in walks}
print("momentum gets closer to (1, 1) than plain SGD:", bool(distance["momentum"] < distance["sgd"]))
print("nobody diverged:", not any(t.diverged for t in walks))

# %% [markdown]
# ## The fog
# The pictures above cheat: they show the whole mountain. The hiker only ever knows the altitude
# and slope where she has been. With `fog=True` the map shows only the neighbourhood of the points
# visited so far. Press ▶ to animate (this animation is plain plotly, so it also plays in an
# exported HTML page without Python).

# %%
walks = optimizers.trajectories(rosen, rosen.start, team[:2] + team[4:], steps=300)
plots.to_figure(rosen, walks, fog=True, frames=lossviz.pick(smoke=10, full=40), n=N_GRID)

# %% [markdown]
# Seen through the fog, the hiker's choices make sense: she follows the steepest way down *where
# she stands*, which on the banana valley is across the valley, not along it.
#
# ## Explore
# `lossviz.DescentExplorer` puts it all under your hands: the learning rate (a log slider),
# momentum, the number of steps, which optimizers walk, the start point (sliders, or click on the
# map), ▶ / step / reset, and the fog. One learning rate drives all the optimizers, so you will see
# that "a good learning rate" depends on the optimizer.

# %%
explorer = lossviz.DescentExplorer("rosenbrock", optimizers=("sgd", "momentum", "adam"), steps=200)
explorer

# %% [markdown]
# Try the other mountains: `"himmelblau"` has four valleys (which one you reach depends on where
# you start), `"saddle"` has a pass between two valleys, and `"mountain_range"` has valleys of
# different depths (a local minimum is not the lowest one).

# %%
lossviz.DescentExplorer("himmelblau", optimizers=("sgd", "adam"), fog=True)

# %% [markdown]
# ## Summary
# * A **loss** scores one example; the **cost** is its average over the data (Keras's default
#   reduction). Training minimises the cost; its graph over the parameters is the mountain.
# * Gradient descent steps against the gradient, $p \leftarrow p - \eta \nabla C(p)$. Too small an
#   $\eta$ crawls; too large an $\eta$ overshoots and diverges.
# * Ill-conditioned valleys (ravines, Rosenbrock) make plain SGD zig-zag or crawl; momentum,
#   Nesterov, RMSprop and Adam are different remedies, each with its own good learning rate.
# * The hiker sees only the slope where she stands (the fog). Choosing the loss chooses the
#   mountain: lesson 01 shows how.
#
# ## Exercises
# 1. On the bowl, which learning rate reaches the minimum in **one** step? Check it with
#    `optimizers.trajectory`. What happens at exactly $\eta = 1$?
# 2. On the ravine, find the largest learning rate for plain SGD that does not diverge. Compare it
#    with $2/40$.
# 3. In the explorer, put the hiker exactly on the saddle's ridge line ($y = 0$). Which optimizers
#    leave it, and why?
# 4. On `"mountain_range"`, find a start point from which SGD ends in a shallow valley while SGD
#    with momentum 0.9 escapes to a deeper one.
