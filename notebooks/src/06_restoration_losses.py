# %% [markdown]
# # 06 · Restoration losses: L2, L1, SSIM, MS-SSIM and the L1 + MS-SSIM mix
#
# A denoising network maps a noisy image to a clean one. Which loss should compare its output with
# the clean image? The habit is L2 (mean squared error). Zhao, Gallo, Frosio and Kautz (*Loss
# Functions for Image Restoration with Neural Networks*, IEEE TCI 2017) questioned it: L2 correlates
# poorly with what people see, and they found that networks trained with **L1** were as good as or
# better than L2-trained ones *even when judged by L2*, and that a mix of **MS-SSIM** and L1 was best.
#
# In this lesson you will
#
# 1. meet the five losses,
# 2. perturb a real blood-smear patch with noise, blur and a shift, and see that L2 and SSIM disagree
#    about which is worse,
# 3. train a small denoising network with each loss from the same initial weights, compare PSNR and
#    SSIM on held-out patches, look at the images, and test Zhao et al.'s finding on this data.
#
# **Data.** Crops of the blood-smear images of BCCD, the Blood Cell Count and Detection dataset by
# Shenggan (MIT licence), with credit to its earlier curators cosmicad and akshaylamba.

# %%
import numpy as np

import lossviz
from lossviz import perturbations
from lossviz.metrics import restoration_scores
from lossviz.models.denoise import denoise_cnn
from lossviz.plots.comparer import image_grid

# %% [markdown]
# Sizes depend on the profile: `smoke` (a few hundred patches, a small network, seconds on a CPU) or
# `full` (thousands of patches, a deeper network, for a GPU).

# %%
TRAIN = lossviz.pick(smoke=256, full=8192)
TEST = lossviz.pick(smoke=64, full=512)
EPOCHS = lossviz.pick(smoke=3, full=40)
WIDTH, DEPTH = lossviz.pick(smoke=(16, 4), full=(48, 8))
NOISE = 0.1  # standard deviation of the added Gaussian noise, images in [0, 1]

# %% [markdown]
# ## 1. Five losses
#
# For a clean image $y$ and a restored one $\hat y$ with $d$ values:
#
# - **L2** (`mse`): $\frac1d \sum (y - \hat y)^2$ — every pixel on its own, large errors dominate;
# - **L1** (`mae`): $\frac1d \sum |y - \hat y|$ — the same, but each error counts by its size;
# - **SSIM** (`ssim`): $1 - \mathrm{SSIM}(y, \hat y)$, which compares local means, contrasts and
#   correlations (structure) in an 11×11 Gaussian window (Wang et al. 2004);
# - **MS-SSIM** (`ms_ssim`): SSIM's contrast and structure terms at several scales (halving the image
#   each time), so it sees fine detail *and* larger shapes;
# - **L1 + MS-SSIM** (`l1_ms_ssim`): $0.84\,(1 - \text{MS-SSIM}) + 0.16\,\text{L1}$, Zhao et al.'s mix.

# %%
LOSSES = {"L2": "mse", "L1": "mae", "SSIM": "ssim", "MS-SSIM": "ms_ssim", "L1+MS-SSIM": "l1_ms_ssim"}
[lossviz.losses.info(name).formula for name in LOSSES.values()]

# %% [markdown]
# ## 2. Perturb one patch: noise, blur, shift
#
# One 96×96 crop of a test smear (the same one in every profile). The comparer perturbs it and draws
# each loss and the size of its gradient over the strength. Try the families `noise`, `blur`,
# `shift` and `offset` (brightness), and the *normalised* scale to compare shapes.

# %%
patch = lossviz.datasets.bccd_patches("test", size=96, count=4, seed=0)[0]
comparer = lossviz.LossComparer("image", patch, losses=LOSSES, family="noise")
comparer

# %% [markdown]
# The curves have different units, so compare the perturbations **at equal L2 error**: find the
# noise level, the blur and the shift that each give an L2 loss of $10^{-4}$, and ask SSIM.

# %%
GRIDS = {"noise": np.linspace(0, 0.05, 101), "blur": np.linspace(0, 8, 161),
         "shift": np.linspace(0, 8, 161), "offset": np.linspace(0, 0.05, 101)}
equal_l2 = {f: perturbations.strength_for("image", patch, f, "mse", 1e-4, g) for f, g in GRIDS.items()}
{f: round(s, 3) for f, s in equal_l2.items()}

# %%
at = {f: perturbations.responses("image", patch, LOSSES, f, [s]) for f, s in equal_l2.items()}
table = {f: {k: float(v[0]) for k, v in r.values.items()} for f, r in at.items()}
{f: {k: round(v, 4) for k, v in row.items()} for f, row in table.items()}

# %%
# NBVAL_CHECK_OUTPUT
ssim_loss = {f: table[f]["SSIM"] for f in ("noise", "blur", "shift")}
print("same L2 for all:", all(abs(table[f]["L2"] - 1e-4) < 2e-6 for f in table))
print("SSIM calls noise the worst of the three:", max(ssim_loss, key=ssim_loss.get) == "noise")
print("noise's SSIM loss is more than 1.5x blur's and shift's:",
      ssim_loss["noise"] > 1.5 * max(ssim_loss["blur"], ssim_loss["shift"]))
print("SSIM barely sees a brightness offset (loss < 0.01):", table["offset"]["SSIM"] < 0.01)

# %% [markdown]
# L2 cannot tell these four images apart; SSIM ranks them very differently: fine-grained noise
# destroys local structure and costs a lot, a uniform brightness change costs almost nothing. (Look
# at MS-SSIM in the table too: it weighs coarser scales, where blur shows, so it ranks blur higher
# than SSIM does.) A loss is a definition of "close"; the network will learn that definition.

# %% [markdown]
# ## 3. A denoiser trained with each loss
#
# Training pairs: clean 64×64 patches from the training smears, and the same patches with Gaussian
# noise of standard deviation 0.1 (seeded). Held-out pairs come from the test smears.

# %%
rng = np.random.default_rng(0)
clean = lossviz.datasets.bccd_patches("train", size=64, count=TRAIN, seed=0)
clean_test = lossviz.datasets.bccd_patches("test", size=64, count=TEST, seed=1)
noisy = (clean + NOISE * rng.standard_normal(clean.shape)).astype("float32")
noisy_test = (clean_test + NOISE * rng.standard_normal(clean_test.shape)).astype("float32")

# %% [markdown]
# The network (`denoise_cnn`) is a small DnCNN-style stack of 3×3 convolutions that predicts the noise
# and subtracts it from its input. `compare_losses` trains one copy per loss from the same initial
# weights, on the same batches, and scores each on the held-out patches.

# %%
def model_fn():
    return denoise_cnn((64, 64, 3), width=WIDTH, depth=DEPTH, seed=0)

def scores(model):
    return restoration_scores(clean_test, model.predict(noisy_test, verbose=0))

# %%
runs = lossviz.compare_losses(model_fn, (noisy, clean), LOSSES, epochs=EPOCHS, batch_size=16,
                              learning_rate=1e-3, evaluate=scores)
runs.table[["psnr", "ssim", "l2", "l1"]].round(4)

# %% [markdown]
# For reference, the noisy inputs themselves (PSNR in dB: higher is better; SSIM: 1 is perfect):

# %%
{k: round(v, 4) for k, v in restoration_scores(clean_test, noisy_test).items()}

# %% [markdown]
# Three held-out patches: clean, noisy, and each network's output.

# %%
outputs = {name: model.predict(noisy_test[:3], verbose=0) for name, model in runs.models.items()}
image_grid({"clean": clean_test, "noisy": noisy_test, **outputs}, rows=3)

# %% [markdown]
# ## 4. Zhao et al.'s finding, tested on this run
#
# Their claim: the L1-trained network is as good as or better than the L2-trained one, even on the L2
# error (equivalently PSNR) that L2 training optimises directly. What this run shows (printed, not
# checked: it depends on the profile and on the run):

# %%
l1, l2 = runs.evaluations["L1"], runs.evaluations["L2"]
print(f"held-out L2 error: L1-trained {l1['l2']:.5f}, L2-trained {l2['l2']:.5f}")
print(f"held-out PSNR: L1-trained {l1['psnr']:.2f} dB, L2-trained {l2['psnr']:.2f} dB")
print("finding holds in this run:", l1["l2"] <= l2["l2"])
print("best PSNR:", max(runs.evaluations, key=lambda n: runs.evaluations[n]["psnr"]),
      "| best SSIM:", max(runs.evaluations, key=lambda n: runs.evaluations[n]["ssim"]))

# %%
lossviz.report(psnr={n: e["psnr"] for n, e in runs.evaluations.items()},
               ssim={n: e["ssim"] for n, e in runs.evaluations.items()},
               l2={n: e["l2"] for n, e in runs.evaluations.items()},
               zhao_l1_beats_l2_on_l2=bool(l1["l2"] <= l2["l2"]))

# %% [markdown]
# Zhao et al. explain their result by the shape of the loss surface: L2 gets stuck in poorer local
# minima, and L1's constant-size gradient keeps improving small errors that L2's shrinking gradient
# neglects. With a short run on a few hundred patches (the `smoke` profile) the ranking can go either
# way; the `full` profile trains long enough for the comparison to mean something. Whatever it shows,
# judge a restoration loss by the metric you care about on held-out images, not by its own value.

# %% [markdown]
# ## Summary
#
# - L2 treats every pixel on its own: noise, blur, shift and a brightness change can all have the
#   same L2 error, while SSIM calls the noisy image much worse and barely sees the brightness change.
# - SSIM-type losses ignore brightness and colour shifts; L1 keeps them in check. Zhao et al.'s
#   L1 + MS-SSIM mix combines both.
# - Train the same network from the same initial weights with each loss and compare on held-out
#   images with several metrics (PSNR and SSIM) and by eye.
#
# ## Exercises
#
# 1. In the comparer, select `outliers`. Which losses does a handful of wrong pixels hurt most?
# 2. Repeat section 2 at an L2 error of $3 \cdot 10^{-4}$ (widen the grids where needed). Does the
#    ranking by SSIM change? And by MS-SSIM?
# 3. Change `alpha` of the mix: `("l1_ms_ssim", {"alpha": 0.5})` in `LOSSES`. What happens to PSNR
#    and to SSIM?
# 4. Train with noise of standard deviation 0.05 and 0.2. Does the winner stay the same?
