# %% [markdown]
# # 02 · Classification losses: cross-entropy or the quadratic loss?
#
# A classifier ends in a softmax (or a sigmoid) and outputs class probabilities $p$. Two losses can
# compare them with the one-hot label $y$:
#
# - **cross-entropy** (CE): $\ell_{CE} = -\sum_c y_c \log p_c = -\log p_{\text{true}}$,
#   binary form $-[y \log p + (1 - y)\log(1 - p)]$;
# - the **quadratic loss** (MSE, the Brier score up to a factor): $\ell_{MSE} = \frac1K \sum_c (y_c - p_c)^2$.
#
# Both are smallest when $p = y$. They differ in how hard they push when the model is *wrong*,
# and that decides how fast a network learns. In this lesson you will
#
# 1. perturb a prediction and watch both losses and their gradients respond (`lossviz.LossComparer`),
# 2. see why CE keeps a large gradient for a *confident mistake* while MSE's gradient vanishes,
# 3. train the same small CNN from the same initial weights with each loss and compare.
#
# **Data.** Fashion-MNIST (MIT licence) by Han Xiao, Kashif Rasul and Roland Vollgraf (Zalando, 2017):
# 70,000 grey 28×28 pictures of clothes in 10 classes, loaded through `keras.datasets`.

# %%
import keras
import numpy as np

import lossviz
from lossviz import perturbations

# %% [markdown]
# Sizes depend on the profile: `smoke` (a few thousand images, a few epochs: seconds on a CPU) or
# `full` (the whole training set, for a GPU).

# %%
TRAIN = lossviz.pick(smoke=2048, full=60000)
TEST = lossviz.pick(smoke=1000, full=10000)
EPOCHS = lossviz.pick(smoke=3, full=15)
LEARNING_RATE = lossviz.pick(smoke=3e-3, full=1e-3)

# %% [markdown]
# ## 1. One binary example
#
# Take one example whose label is 1 and let the model's probability $p$ for it slide from 1 down
# towards 0: the family `confidence` takes probability $s$ away from the true class. The comparer
# draws each loss (left) and the size of its gradient with respect to the prediction (middle) over
# the strength $s$; move the slider to see the prediction (right).

# %%
LossComparer = lossviz.LossComparer
binary = LossComparer("classification", np.array([1.0]), losses=["binary_crossentropy", "mse"],
                      family="confidence")
binary

# %% [markdown]
# MSE can never exceed 1 here, while CE grows without bound as $p \to 0$ ($-\log p$). The same in
# numbers, at $p = 0.5$ and at a confident mistake $p = 0.01$:

# %%
# NBVAL_CHECK_OUTPUT
r = perturbations.responses("classification", [1.0], ["binary_crossentropy", "mse"], "confidence",
                            [0.5, 0.99])
for name in r.losses:
    print(name, "loss:", r.values[name].round(2), " |gradient|:", r.grad_norms[name].round(2))

# %% [markdown]
# With respect to the probability, CE's gradient is $1/p$ (100 at $p = 0.01$) and MSE's is
# $2(1 - p)$ (at most 2). But a network does not output $p$ directly.

# %% [markdown]
# ## 2. The gradient the network sees: through the softmax
#
# The last layer outputs *logits* $z$ and $p = \mathrm{softmax}(z)$. Training follows the gradient
# with respect to $z$. For CE it is famously simple, $\partial \ell_{CE}/\partial z = p - y$: it stays
# large as long as $p$ is far from $y$. For MSE the softmax's slope multiplies in,
# $\partial p_c / \partial z_j = p_c(\delta_{cj} - p_j)$, which goes to 0 when the softmax saturates,
# that is when the model is *sure* — even when it is sure of the wrong class.
#
# The family `label_flip` moves probability $s$ from the true class to a wrong one: $s$ near 1 is a
# confident mistake. With `logits=True` the comparer differentiates with respect to the logits.

# %%
ten_classes = np.eye(10, dtype="float32")[3]
flip = LossComparer("classification", ten_classes, losses=["categorical_crossentropy", "mse"],
                    family="label_flip", logits=True)
flip

# %% [markdown]
# Switch the scale to *normalised* to compare the shapes: MSE's gradient rises, peaks, and falls back
# to zero as the mistake becomes confident; CE's keeps rising. At $s = 0.999$:

# %%
# NBVAL_CHECK_OUTPUT
r = perturbations.responses("classification", ten_classes, ["categorical_crossentropy", "mse"],
                            "label_flip", 64, logits=True)
ce, mse = r.grad_norms["categorical_crossentropy"], r.grad_norms["mse"]
print("CE |gradient| at the confident mistake:", round(float(ce[-1]), 2))
print("MSE |gradient| there, as a share of its peak:", round(float(mse[-1] / mse.max()), 3))
print("CE's gradient grows with the mistake:", bool(np.all(np.diff(ce) >= 0)))

# %% [markdown]
# So a network trained with MSE on softmax outputs barely corrects the examples it gets *confidently*
# wrong, while CE corrects them hardest. (That is also why `from_logits=True` matters: Keras computes
# CE from the logits without the clipping of probabilities at $10^{-7}$.)

# %% [markdown]
# ## 3. The same effect in a real, untrained network
#
# Load Fashion-MNIST, scale pixels to [0, 1] and one-hot encode the labels.

# %%
(x_train, y_train), (x_test, y_test) = lossviz.datasets.fashion_mnist()
x_train = (x_train[:TRAIN, ..., None] / 255.0).astype("float32")
x_test = (x_test[:TEST, ..., None] / 255.0).astype("float32")
y_train, y_test = keras.utils.to_categorical(y_train[:TRAIN], 10), keras.utils.to_categorical(y_test[:TEST], 10)
x_train.shape, x_test.shape

# %% [markdown]
# The shared small CNN (`lossviz.models.small_cnn`), here without its softmax so we can read the
# logits of its first 256 training images before any training:

# %%
logits = lossviz.models.small_cnn((28, 28, 1), 10, activation=None, seed=0).predict(x_train[:256], verbose=0)
sizes = {}
for name in ("categorical_crossentropy", "mse"):
    fn = perturbations.loss_function(name, logits=True)
    sizes[name] = perturbations.loss_response(fn, y_train[:256], logits)[1]

# %%
# NBVAL_CHECK_OUTPUT
ratio = np.median(sizes["categorical_crossentropy"]) / np.median(sizes["mse"])
print("at the start, CE's gradient on the logits is more than 10x MSE's:", bool(ratio > 10))

# %% [markdown]
# At the start every class gets about 1/10, so CE's gradient $p - y$ has size about 0.95, while
# MSE's is shrunk by the softmax slope and by the $1/K$ average.

# %% [markdown]
# ## 4. Training with each loss, from the same initial weights
#
# `lossviz.compare_losses` builds the model once, saves its initial weights and trains a copy per
# loss, on the same batches in the same order. Only the loss differs.

# %%
def model_fn():
    return lossviz.models.small_cnn((28, 28, 1), 10, activation="softmax", seed=0)

losses = {"cross-entropy": "categorical_crossentropy", "quadratic (MSE)": "mse"}

# %%
runs = lossviz.compare_losses(model_fn, (x_train, y_train), losses, epochs=EPOCHS, batch_size=64,
                              learning_rate=LEARNING_RATE, metrics=["accuracy"],
                              validation_data=(x_test, y_test))
runs.table[["accuracy", "val_accuracy", "first_batch_loss"]].round(3)

# %% [markdown]
# Test accuracy after each epoch, for both losses (the loss values themselves are on different
# scales, so compare accuracy):

# %%
runs.figure("accuracy")

# %% [markdown]
# What this run shows (the numbers change with the profile, so they are printed, not checked):

# %%
val = {name: history["val_accuracy"] for name, history in runs.histories.items()}
for name, accs in val.items():
    print(f"{name}: test accuracy per epoch {np.round(accs, 3).tolist()}")
ahead = [name for name in val if val[name][0] == max(v[0] for v in val.values())]
print("ahead after the first epoch:", ahead, "| ahead at the end:", max(val, key=lambda n: val[n][-1]))

# %%
lossviz.report(val_accuracy={name: accs[-1] for name, accs in val.items()},
               val_accuracy_epoch1={name: accs[0] for name, accs in val.items()},
               start_gradient_ratio_ce_over_mse=float(ratio))

# %% [markdown]
# Expect CE to learn faster, most clearly in the first epochs: its gradient is larger where the
# network is wrong. MSE is not useless — with enough epochs it often reaches a similar accuracy
# on an easy problem — but it wastes the early updates and neglects confident mistakes. In the
# `full` run recorded in `results/RESULTS.md` (all 60,000 training images, 15 epochs, one seed), CE's
# gradient at the start was 50 times MSE's, CE led after the first epoch (test accuracy 0.775 vs
# 0.765) and still at the end (0.889 vs 0.882): a small but steady lead on this easy problem.

# %% [markdown]
# ## Summary
#
# - Cross-entropy and the quadratic loss both vanish at the target, but CE grows without bound for
#   confident mistakes while MSE stays below 1.
# - Through a softmax, CE's gradient with respect to the logits is $p - y$: large whenever the model
#   is wrong. MSE's gradient vanishes when the softmax saturates, even on the wrong class.
# - On a real network, CE starts with far larger gradients and, from the same initial weights,
#   usually learns faster. Use CE (with `from_logits=True` when the model outputs logits) for
#   classification; keep MSE for regression.
#
# ## Exercises
#
# 1. In the first comparer, switch to the `temperature` and `label_smoothing` families. Which loss
#    cares more about an over-confident but correct prediction?
# 2. Repeat section 2 with `logits=False`. Which gradient vanishes now, and why is that view
#    misleading for training?
# 3. Add `"categorical_focal"` to `losses` in section 4. How does its first epoch compare with CE's?
# 4. Train with MSE at a 10x larger learning rate. Does it catch up with CE? What does that say
#    about the gradient sizes you measured in section 3?
