"""LiveLoss and LossRecorder: per-batch and per-epoch records match Keras, Stop ends training cleanly."""

import threading
import time

import keras
import numpy as np
import pytest

from lossviz.callbacks import LossRecorder, own_batch_values
from lossviz.plots.live import TRACES_PER_PANEL, live_figure, panel_names
from lossviz.training import fit_async
from lossviz.widgets.live import LiveLoss

N_FEATURES, N_CLASSES = 4, 3


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0.5).astype("int32")
    return x, y


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((N_FEATURES,))
    hidden = keras.layers.Dense(8, activation="tanh")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(N_CLASSES, activation="softmax")(hidden))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _synced_weights(model):
    if hasattr(model, "jax_state_sync"):  # JAX keeps the state outside the variables during fit
        model.jax_state_sync()
    return [np.array(w) for w in model.get_weights()]


class WeightsAfterBatch(keras.callbacks.Callback):
    """Keeps the model's weights after every batch (the reference for what a batch did)."""

    def __init__(self):
        super().__init__()
        self.after = []

    def on_train_batch_end(self, batch, logs=None):
        self.after.append(_synced_weights(self.model))


def test_own_batch_values_by_hand():
    assert own_batch_values([2.0, 1.5, 1.0]) == [2.0, 1.0, 0.0]
    # batches of 2, 2 and 1 samples with losses 1, 3, 5: running means 1, 2, 13/5
    assert np.allclose(own_batch_values([1.0, 2.0, 2.6], sizes=[2, 2, 1]), [1.0, 3.0, 5.0])
    with pytest.raises(ValueError, match="one size per running mean"):
        own_batch_values([1.0], sizes=[1, 2])


@pytest.mark.parametrize("n", [40, 37], ids=["equal-batches", "short-last-batch"])
def test_recorder_matches_history_and_each_batch_loss(n):
    x, y = _data(n)
    batch = 8
    model = _model()
    before = _synced_weights(model)
    rec, after = LossRecorder(samples=n, batch_size=batch), WeightsAfterBatch()
    history = model.fit(x, y, batch_size=batch, epochs=2, shuffle=False, verbose=0, callbacks=[rec, after])

    for key in ("loss", "accuracy"):
        assert np.allclose(rec.epoch_values[key], history.history[key], rtol=1e-6, atol=1e-7), key
    assert rec.epochs == [0, 1]
    steps = -(-n // batch)
    assert [len(e["loss"]) for e in rec.batch_values] == [steps, steps]

    # Outside reference: each batch's loss and accuracy computed by Keras with the weights before it.
    reference = _model()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    weights = [before, *after.after]
    for epoch in range(2):
        for i in range(steps):
            reference.set_weights(weights[epoch * steps + i])
            xb, yb = x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]
            probs = keras.ops.convert_to_numpy(reference(xb))
            want_loss = float(keras.ops.convert_to_numpy(loss_fn(yb, probs)))
            want_acc = float(np.mean(probs.argmax(-1) == yb))
            assert rec.batch_values[epoch]["loss"][i] == pytest.approx(want_loss, rel=1e-4, abs=1e-5)
            assert rec.batch_values[epoch]["accuracy"][i] == pytest.approx(want_acc, abs=1e-5)
        # the epoch's logged mean is the sample-weighted mean of its batches' own losses
        sizes = [min(batch, n - i * batch) for i in range(steps)]
        assert np.average(rec.batch_values[epoch]["loss"], weights=sizes) == pytest.approx(
            history.history["loss"][epoch], rel=1e-5)


def test_widget_draws_what_was_recorded_with_validation_and_metric_rows():
    x, y = _data(32)
    xv, yv = _data(16, seed=1)
    live = LiveLoss(min_interval=0.0)
    history = _model().fit(x, y, batch_size=8, epochs=3, validation_data=(xv, yv), verbose=0, callbacks=[live])
    assert [row for row in panel_names(live.snapshot())] == ["loss", "accuracy"]
    data = live.figure.data
    assert len(data) == 2 * TRACES_PER_PANEL
    assert np.allclose(data[0].y, live.batch_values[-1]["loss"])        # batches of the last epoch
    assert np.allclose(data[1].y, live.running[-1]["loss"])
    assert np.allclose(data[2].y, history.history["loss"])
    assert np.allclose(data[3].y, history.history["val_loss"])
    assert np.allclose(data[6].y, history.history["accuracy"])
    assert np.allclose(data[7].y, history.history["val_accuracy"])
    assert list(data[2].x) == [1, 2, 3]
    assert live.figure.layout.annotations[0].text == "loss: batches of epoch 3"
    assert live.controls["stop"].disabled and "finished" in live.status.value


def test_redraws_are_throttled():
    x, y = _data(64)
    live = LiveLoss(min_interval=1e6)
    _model().fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[live])
    # the first batch draws, then nothing until the end of training forces a last redraw
    assert live.redraws == 2
    assert np.allclose(live.figure.data[2].y, live.epoch_values["loss"])


class ClickStopAt(keras.callbacks.Callback):
    """Clicks the Stop button while batch `at` (counted over all epochs) is running."""

    def __init__(self, live, at):
        super().__init__()
        self.live, self.at, self.seen = live, at, 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.seen == self.at:
            self.live.controls["stop"].click()
        self.seen += 1


def test_stop_button_ends_training_after_the_current_batch_and_keeps_its_weights():
    x, y = _data(40)
    batch, steps = 8, 5
    live, after = LiveLoss(min_interval=0.0), WeightsAfterBatch()
    model = _model()
    initial = model.get_weights()
    clicker = ClickStopAt(live, at=steps + 2)  # during the third batch of the second epoch
    history = model.fit(x, y, batch_size=batch, epochs=10, shuffle=False, verbose=0,
                        callbacks=[clicker, live, after])
    assert live.stopped_early
    assert len(after.after) == steps + 3          # the clicked batch completed, no other started
    assert len(history.history["loss"]) == 2
    final = model.get_weights()
    for got, want in zip(final, after.after[-1], strict=True):
        np.testing.assert_array_equal(got, want)
    # independent reference: one full epoch, then the first three batches, from the same start
    reference = _model()
    reference.set_weights(initial)
    reference.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    reference.fit(x[: 3 * batch], y[: 3 * batch], batch_size=batch, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(final, reference.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert "stopped" in live.status.value and live.controls["stop"].disabled


class CountBatchBegins(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.begun = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.begun += 1


def test_stop_click_from_the_kernel_while_fit_runs_in_a_thread():
    x, y = _data(64)
    live, after, begins = LiveLoss(min_interval=0.05), WeightsAfterBatch(), CountBatchBegins()
    model = _model()
    handle = live.fit_in_background(model, x, y, batch_size=8, epochs=500, verbose=0, callbacks=[begins, after])
    assert handle.thread.is_alive() and handle.thread is not threading.current_thread()
    deadline = time.monotonic() + 60
    while len(after.after) < 3 and time.monotonic() < deadline and not handle.done():
        time.sleep(0.01)
    assert not handle.done(), "training ended before the click"
    begun_at_click = begins.begun
    live.controls["stop"].click()  # from this (the kernel's) thread, while fit runs in the other
    history = handle.result(timeout=60)
    assert live.stopped_early
    # within one batch: at most one batch starts after the click (when it lands between two batches)
    assert begins.begun <= begun_at_click + 1
    assert len(after.after) == begins.begun  # every started batch finished; none was cut off
    assert len(history.history["loss"]) < 500
    for got, want in zip(model.get_weights(), after.after[-1], strict=True):
        np.testing.assert_array_equal(got, want)


def test_fit_async_reraises_the_error_of_fit():
    model = _model()
    handle = fit_async(model, np.zeros((4, N_FEATURES + 1), "float32"), np.zeros(4, "int32"), verbose=0)
    with pytest.raises(Exception):  # noqa: B017  (Keras raises a backend-specific shape error)
        handle.result(timeout=60)
    assert handle.error is not None


def test_live_figure_is_pure_and_has_four_traces_per_row():
    snap = {"epochs": [0, 1], "epoch_values": {"loss": [1.0, 0.5], "val_loss": [1.2, 0.7], "iou": [0.1, 0.3]},
            "batch_values": {"loss": [0.6, 0.4]}, "running": {"loss": [0.6, 0.5]}, "epoch_index": 1}
    fig = live_figure(snap)
    assert len(fig.data) == 2 * TRACES_PER_PANEL
    assert list(fig.data[3].y) == [1.2, 0.7] and list(fig.data[6].y) == [0.1, 0.3]
    assert len(live_figure(snap, metrics=[]).data) == TRACES_PER_PANEL


def test_invalid_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="both `samples` and `batch_size`"):
        LossRecorder(samples=10)
    with pytest.raises(ValueError, match="min_interval"):
        LiveLoss(min_interval=-1)
    with pytest.raises(TypeError, match="keras.Model"):
        fit_async("not a model")


def test_for_run_starts_afresh_for_each_run():
    x, y = _data(16)
    live = LiveLoss(min_interval=0.0)
    model = _model()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=live.for_run("first"))
    assert live.epochs == [0, 1]
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=live.for_run("second"))
    assert live.epochs == [0] and np.allclose(live.figure.data[2].y, history.history["loss"])
    assert "second" in live.status.value
