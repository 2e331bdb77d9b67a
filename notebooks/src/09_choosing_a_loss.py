# %% [markdown]
# # 09 · Choosing a loss: from the use case to the loss
#
# The earlier lessons looked at losses one at a time. This one turns them into a decision: given the
# **task** (regression, classification, segmentation, detection, restoration) and what you know about the
# **data** (outliers, class imbalance, small objects, whether structure matters, whether predicted boxes may
# miss their targets), which loss should you start with, and why?
#
# Everything here is generated from one source, the catalogue `lossviz.losses.catalogue()`, so the guide
# stays in step with the code. We finish with four worked examples on real blood-cell data.

# %%
import numpy as np
from IPython.display import Markdown

import lossviz
from lossviz.autodiff import value_and_grad
from lossviz.guide_rules import PROPERTIES, guide_markdown, recommend

# %% [markdown]
# ## The catalogue at a glance
#
# Each entry has a name for `lossviz.losses.get(name)`, a task family, its formula, when to use it, its
# caveats, and whether the computation is Keras's own.

# %%
# NBVAL_CHECK_OUTPUT
catalogue = lossviz.losses.catalogue_frame()
print("entries per family:", catalogue.family.value_counts().reindex(lossviz.losses.FAMILIES).to_dict())
print("entries:", len(catalogue), "| Keras's own:", int(catalogue.keras_own.sum()))

# %% [markdown]
# ## The use case → loss table
#
# The whole catalogue, grouped by family. Read the "use it when" column as the first filter: it names the
# situation each loss was designed for.

# %%
Markdown(guide_markdown())

# %% [markdown]
# ## From data properties to a ranking
#
# The guide knows five data properties:

# %%
for key, text in PROPERTIES.items():
    print(f"{key:14s} {text}")

# %% [markdown]
# `recommend(task, properties)` scores every loss that applies to the task: **+2** for each ticked
# property the catalogue says the loss copes with, plus explicit rules with a reason (for instance
# "outliers: MSE −2, squares errors"), and **+1** for the task's usual default. Ties keep catalogue order.
# The `why` column spells out every point, so the ranking can be argued with.

# %%
recommend("regression", ["outliers"])[["rank", "name", "score", "why"]]

# %% [markdown]
# ## The guide as a widget
#
# Pick a task and tick what is true of your data; the table re-ranks at once, formulas included.
# (`guide.table` holds the current ranking as a DataFrame.)

# %%
guide = lossviz.LossGuide(task="classification", properties=["imbalance"])
guide

# %% [markdown]
# ## Worked example 1: imbalanced blood-cell classes
#
# The BCCD dataset (Shenggan, github.com/Shenggan/BCCD_Dataset, MIT licence; data originally from
# cosmicad/dataset and akshaylamba/all_CELL_data) labels every cell as a red cell, a white cell or a
# platelet. Count the labels of the training split:

# %%
annotations = lossviz.datasets.bccd_annotations("train")
labels = np.concatenate([a["labels"] for a in annotations]).astype("int64")
counts = np.bincount(labels, minlength=3)
print(dict(zip(lossviz.datasets.BCCD_CLASSES, counts.tolist(), strict=True)))

# %% [markdown]
# Red cells outnumber each other class more than ten to one. Classification with imbalance:

# %%
ranked = recommend("classification", ["imbalance"])
ranked[["rank", "name", "score", "why"]].head(4)

# %%
# NBVAL_CHECK_OUTPUT
print("largest / smallest class > 10:", bool(counts.max() / counts.min() > 10))
print("first recommendation:", ranked.name.iloc[0])
print("first recommendation is a weighted loss:", "weighted" in ranked.name.iloc[0])

# %% [markdown]
# The loss doctor reaches the same conclusion from the labels alone: given a plain cross-entropy and these
# labels (with any predictions), it warns about the imbalance and proposes class weights from the counts.

# %%
uniform = np.full((len(labels), 3), 1 / 3)
report = lossviz.check("sparse_categorical_crossentropy", labels, uniform)
print(report.findings[0].fix)

# %%
weights = lossviz.losses.class_weights_from_counts(counts)
weighted = lossviz.losses.get("weighted_categorical_crossentropy", class_weights=weights)
after = lossviz.check(weighted, np.eye(3)[labels], uniform)

# %%
# NBVAL_CHECK_OUTPUT
print("plain CE:", report.codes, "| weighted CE:", after.codes)
print("rare classes weigh more:", bool(weights[1] > weights[0] and weights[2] > weights[0]))

# %% [markdown]
# ## Worked example 2: nucleus segmentation with a small foreground
#
# The WBC segmentation Dataset 1 (X. Zheng, Y. Wang, G. Wang, J. Liu, "Fast and robust segmentation of
# white blood cell images by self-supervised learning", Micron 107:55–71, 2018;
# github.com/zxaoyou/segmentation_WBC; images from Jiangxi Tecom Science Corporation, China) has 300
# images of single white cells with nucleus and cytoplasm masks sketched by domain experts. What fraction
# of the pixels is nucleus?

# %%
size = lossviz.pick(smoke=64, full=128)
_, masks = lossviz.datasets.wbc_segmentation("train", size=size, target="nucleus")
foreground = float(masks.mean())
print(f"nucleus pixels: {foreground:.1%} of {masks.shape[0]} masks")

# %%
ranked = recommend("segmentation", ["imbalance", "small_objects"])
ranked[["rank", "name", "score", "why"]].head(5)

# %%
# NBVAL_CHECK_OUTPUT
print("foreground below 20%:", foreground < 0.2)
print("top three are overlap losses:", set(ranked.name.iloc[:3]) <= {"dice", "tversky", "bce_dice", "jaccard"})
print("plain BCE ranks last:", ranked.name.iloc[-1] == "binary_crossentropy")

# %% [markdown]
# Dice and Jaccard score the overlap **per image**, so the thousands of easy background pixels cannot
# outvote the nucleus; Tversky with $\beta > \alpha$ penalises missed nucleus pixels more than extra ones;
# BCE + Dice keeps BCE's smooth per-pixel gradient early in training. Plain BCE is not wrong, but it needs
# weighting here.
#
# ## Worked example 3: denoising
#
# For denoising, the errors of a noisy target are heavy-tailed, and what we see in the result is
# structure: edges, membranes, texture. Tick both:

# %%
ranked = recommend("restoration", ["structure", "outliers"])
ranked[["rank", "name", "score", "why"]]

# %%
# NBVAL_CHECK_OUTPUT
print("first two:", ranked.name.iloc[:2].tolist(), "| MSE last:", ranked.name.iloc[-1] == "mse")

# %% [markdown]
# L1 + MS-SSIM (Zhao et al. 2017) comes first: MS-SSIM keeps edges and texture, L1 keeps colours and
# brightness. Plain L1 follows; MSE, which rewards blurry averages, comes last.
#
# ## Worked example 4: box regression when boxes may not overlap
#
# A box regressor starts from random boxes, many of which do not touch their targets. Take a real white
# cell box from BCCD (in units of the image size) and a prediction shifted right so the two are disjoint:

# %%
wbc = next(a for a in annotations if 1 in a["labels"].tolist())
box = wbc["boxes"][wbc["labels"].tolist().index(1)] / np.array([wbc["width"], wbc["height"]] * 2)
target = np.asarray(box, "float32")[None]
shifted = target + np.array([[1.5, 0.0, 1.5, 0.0]], "float32") * (target[0, 2] - target[0, 0])
print("target", target.round(3), "prediction", shifted.round(3))

# %%
box_losses = {n: getattr(lossviz.losses, f"{n}_loss") for n in ("iou", "giou", "diou", "ciou")}
grads = {n: value_and_grad(lambda p, f=f: f(target, p))(shifted)[1] for n, f in box_losses.items()}
{n: g.round(3).tolist() for n, g in grads.items()}

# %%
# NBVAL_CHECK_OUTPUT
print("IoU gradient is zero:", bool(np.all(grads["iou"] == 0)))
print("GIoU, DIoU, CIoU gradients are not:", all(bool(np.any(grads[n] != 0)) for n in ("giou", "diou", "ciou")))
print("guide's top three:", sorted(recommend("detection", ["no_overlap"]).name.iloc[:3]))

# %% [markdown]
# The plain IoU loss is 1 for every disjoint pair, whatever the distance, so its gradient is exactly zero
# and the prediction never moves. GIoU's enclosing-box term and the centre-distance term of DIoU and CIoU
# still point the box towards its target.
#
# ## Summary
#
# - Start from the task family, then let the data decide: outliers favour L1 / Huber, imbalance favours
#   weighted cross-entropy, focal or overlap losses, small objects favour Dice / Tversky and scale-free box
#   losses, structure favours SSIM-type losses, and possibly disjoint boxes need GIoU / DIoU / CIoU.
# - `lossviz.guide_rules.recommend` turns these rules into a ranking with reasons, and `lossviz.LossGuide`
#   makes it interactive; both are generated from `lossviz.losses.catalogue()`.
# - On real data: BCCD's classes are more than 10:1 imbalanced (weighted CE first, and the doctor agrees);
#   nuclei fill only a small part of each WBC image (Dice, Tversky, BCE + Dice); a disjoint box gets no
#   gradient from IoU but does from GIoU, DIoU and CIoU.
#
# ## Exercises
#
# 1. In the widget, pick "detection" and tick "small objects": why do the IoU-type losses rise and the
#    coordinate losses (MSE, Huber) fall? Which data in BCCD are small objects?
# 2. Compute the foreground fraction with `target="cell"` instead of `"nucleus"`. Does the guide's
#    advice change? Should it?
# 3. Add a rule of your own to a copy of `lossviz.guide_rules.RULES` (say, a property "noisy_labels"
#    that favours bounded losses) and pass it as `recommend(..., rules=my_rules)` to see its effect.
# 4. Shift the predicted box in example 4 so that it overlaps the target a little: is the IoU gradient
#    still zero? Which of the four losses changes most between the two cases?
