"""Group-aware training inside the Keras train step: Group DRO, the gap
penalty, and the per-group accuracies of every epoch.

:class:`skface._model.FaceNetwork` calls a :class:`GroupObjective` from its
``compute_loss`` and ``compute_metrics`` when the labels carry the group
(``y`` of shape ``(batch, 2)``: class, group code). Keras refuses a dataset of
``(x, y, w, g)``, so the group travels with y; the objective splits it off.

Both objectives are functions of per-batch sums over the groups (the weighted
loss, the weighted soft accuracy, the number of samples). Under a
``tf.distribute`` strategy each replica holds part of the batch: the sums are
all-reduced so that every replica computes the same group losses (and the
same Group DRO update), and each replica's loss is the linearisation
``sum_k c_k s_k`` of the objective F around the global sums, with
``c_k = dF/dS_k``: Keras sums the replicas' gradients, which gives exactly the
gradient of F over the global batch. On one device this is F itself.

Group DRO (Sagawa et al., 2020, "Distributionally Robust Neural Networks for
Group Shifts", the online algorithm of their ``loss.py``): per batch, the mean
loss ``L_g`` of each group (sum of weighted losses over the group's samples in
the batch), ``q <- q * exp(step * (L_g + C / sqrt(n_g)))`` renormalised, and
the loss ``sum_g q_g L_g`` with q held constant for the gradient. A group
absent from the batch has ``L_g = 0``, as in their code.

Gap penalty: the batch's mean loss plus ``gap_weight`` times the spread
(max - min) of the groups' soft accuracies ``mean(y p + (1 - y)(1 - p))``,
smoothed as ``sqrt(spread**2 + eps**2) - eps`` so that it has a gradient at 0.
The penalty is scaled by the mean loss (held constant for the gradient):
with the focal loss (gamma 5) per-sample losses are about 0.01, and an
unscaled penalty of a few hundredths outweighed the loss and drove a
prototype to p = 0.5 for every face, which has no gap and a focal loss of
only 0.02. Scaled, ``gap_weight`` is the share of the loss that one unit of
spread costs, whatever the loss.
"""

import keras
import numpy as np
import tensorflow as tf

from ._groups import FAIR_METRIC_KEY, WORST_GROUP_KEY, accuracy_key, weight_key

#: the smoothing of the gap penalty's spread (a 1-point gap)
GAP_EPS = 0.01


def per_sample_loss(loss):
    """The compiled ``loss`` as a function of ``(y_true, y_pred)`` returning one value per sample."""
    if isinstance(loss, str):
        loss = keras.losses.get(loss)
    if isinstance(loss, type):
        loss = loss()
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        config["reduction"] = None
        return type(loss).from_config(config)
    return loss


def _all_reduce(values):
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_reduce(tf.distribute.ReduceOp.SUM, values)


def _replicas():
    return tf.distribute.get_strategy().num_replicas_in_sync


def config_key(*, group_names, fairness, dro_groups, step_size, adjustment, gap_weight, cell_counts, threshold,
               loss):
    """What makes two objectives the same (the loss object by identity)."""
    return (tuple(group_names), fairness, dro_groups, float(step_size), float(adjustment), float(gap_weight),
            tuple(np.asarray(cell_counts).tolist()), float(threshold), id(loss))


class GroupMetrics(keras.metrics.Metric):
    """Accuracy of every sensitive group and of every group x class cell over an epoch.

    ``result()`` is a dict: ``accuracy[<group>]`` for each sensitive group,
    ``fair_metric`` (their mean minus twice their range) and
    ``worst_group_accuracy`` (the lowest accuracy over Group DRO's groups,
    ``dro_groups``). Keras writes them to the history, with ``val_`` for the
    validation hold-out. A class 1 prediction is ``p > threshold``, as in
    ``predict``.
    """

    def __init__(self, group_names, *, threshold, dro_groups, name="group_metrics", **kwargs):
        super().__init__(name=name, **kwargs)
        self.group_names = list(group_names)
        self.threshold = float(threshold)
        self.dro_groups = dro_groups
        n_cells = 2 * len(self.group_names)
        self.correct = self.add_variable(shape=(n_cells,), initializer="zeros", name="correct")
        self.total = self.add_variable(shape=(n_cells,), initializer="zeros", name="total")

    def update_state(self, label, cell, y_pred, sample_weight=None):
        n_cells = 2 * len(self.group_names)
        predicted = tf.cast(tf.reshape(y_pred, [-1]) > self.threshold, tf.float32)
        correct = tf.cast(tf.equal(predicted, label), tf.float32)
        weight = tf.ones_like(label)
        if sample_weight is not None:
            weight = tf.cast(tf.reshape(sample_weight, [-1]), tf.float32)
        onehot = tf.one_hot(cell, n_cells, dtype=tf.float32)
        self.correct.assign_add(tf.linalg.matvec(onehot, weight * correct, transpose_a=True))
        self.total.assign_add(tf.linalg.matvec(onehot, weight, transpose_a=True))

    def result(self):
        n = len(self.group_names)
        correct, total = tf.reshape(self.correct, (n, 2)), tf.reshape(self.total, (n, 2))
        by_group = tf.math.divide_no_nan(tf.reduce_sum(correct, 1), tf.reduce_sum(total, 1))
        present = tf.reduce_sum(total, 1) > 0
        seen = tf.boolean_mask(by_group, present)
        fair = tf.reduce_mean(seen) - 2.0 * (tf.reduce_max(seen) - tf.reduce_min(seen))
        if self.dro_groups == "sensitive_x_class":
            cells, cell_present = tf.math.divide_no_nan(self.correct, self.total), self.total > 0
            worst = tf.reduce_min(tf.boolean_mask(cells, cell_present))
        else:
            worst = tf.reduce_min(seen)
        out = {accuracy_key(name): by_group[i] for i, name in enumerate(self.group_names)}
        out[FAIR_METRIC_KEY] = fair
        out[WORST_GROUP_KEY] = worst
        return out


class GroupObjective:
    """What a :class:`~skface._model.FaceNetwork` trains on when the labels carry groups.

    Holds Group DRO's weights q (a non-trainable variable, the same on every
    replica) and the per-group metrics. Built by the estimator for each fit,
    under the network's strategy; q starts from ``initial_weights`` (the
    estimator's ``group_weights_`` on a continuation).

    Parameters
    ----------
    group_names : list of str
    fairness : None, "group_dro" or "gap_penalty"
    dro_groups : "sensitive_x_class" or "sensitive"
    step_size, adjustment, gap_weight : float
    cell_counts : ndarray of int, shape (2 * n_groups,)
        Training samples per group x class cell (Group DRO's ``n_g``).
    threshold : float
        The estimator's decision threshold, for the per-group accuracies.
    initial_weights : array of float or None
        Group DRO's q to start from; uniform when None.
    loss : the compiled Keras loss
    """

    def __init__(self, *, group_names, fairness, dro_groups, step_size, adjustment, gap_weight,
                 cell_counts, threshold, initial_weights, loss):
        self.key = config_key(group_names=group_names, fairness=fairness, dro_groups=dro_groups,
                              step_size=step_size, adjustment=adjustment, gap_weight=gap_weight,
                              cell_counts=cell_counts, threshold=threshold, loss=loss)
        self.n_groups = len(group_names)
        self.fairness = fairness
        self.dro_groups = dro_groups
        self.step_size = float(step_size)
        self.gap_weight = float(gap_weight)
        self.per_sample = per_sample_loss(loss)
        counts = np.asarray(cell_counts, dtype=np.float64)
        if dro_groups == "sensitive":
            counts = counts.reshape(self.n_groups, 2).sum(1)
        self.n_dro = len(counts)
        self.adjustment = tf.constant(adjustment / np.sqrt(np.maximum(counts, 1.0)), tf.float32)
        if initial_weights is None:
            initial_weights = np.full(self.n_dro, 1.0 / self.n_dro)
        self.q = tf.Variable(
            np.asarray(initial_weights, dtype=np.float32),
            trainable=False,
            name="group_dro_q",
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
        )
        self.metric = GroupMetrics(group_names, threshold=threshold, dro_groups=dro_groups)

    @staticmethod
    def split(y):
        """``(label, cell)`` from the labels with the group: ``cell = 2 * group + label``."""
        label = tf.cast(y[:, 0], tf.float32)
        cell = 2 * tf.cast(y[:, 1], tf.int32) + tf.cast(label, tf.int32)
        return label, cell

    def weights(self):
        """Group DRO's q now, as a NumPy array."""
        return self.q.numpy()

    def loss(self, label, cell, y_pred, sample_weight, extra_losses=()):
        """This replica's share of the group-aware loss of the batch."""
        values = tf.reshape(self.per_sample(label[:, None], y_pred), [-1])
        weight = tf.ones_like(values)
        if sample_weight is not None:
            weight = tf.cast(tf.reshape(sample_weight, [-1]), values.dtype)
        # Group DRO weighs its groups; the gap penalty compares the sensitive groups
        by_cell = self.fairness == "group_dro" and self.dro_groups == "sensitive_x_class"
        group, n_keys = (cell, 2 * self.n_groups) if by_cell else (cell // 2, self.n_groups)
        onehot = tf.one_hot(group, n_keys, dtype=values.dtype)
        p = tf.reshape(tf.cast(y_pred, values.dtype), [-1])
        soft = label * p + (1.0 - label) * (1.0 - p)
        # this replica's sums per group: weighted loss, weighted soft accuracy, samples
        local = tf.stack(
            [
                tf.linalg.matvec(onehot, weight * values, transpose_a=True),
                tf.linalg.matvec(onehot, weight * soft, transpose_a=True),
                tf.reduce_sum(onehot, 0),
            ]
        )
        total = tf.stop_gradient(_all_reduce(local))
        with tf.GradientTape() as tape:
            tape.watch(total)
            objective = self._objective(total)
        coefficients = tf.stop_gradient(tape.gradient(objective, total))
        linear = tf.reduce_sum(coefficients * local)
        value = tf.stop_gradient(objective) / _replicas() + linear - tf.stop_gradient(linear)
        for extra in extra_losses:
            value = value + tf.cast(extra, value.dtype)
        return value

    def _objective(self, total):
        loss_sum, soft_sum, count = total[0], total[1], total[2]
        if self.fairness == "group_dro":
            group_loss = tf.math.divide_no_nan(loss_sum, count)
            q = self.q * tf.exp(self.step_size * tf.stop_gradient(group_loss + self.adjustment))
            q = q / tf.reduce_sum(q)
            self.q.assign(q)
            return tf.reduce_sum(tf.stop_gradient(q) * group_loss)
        mean_loss = tf.math.divide_no_nan(tf.reduce_sum(loss_sum), tf.reduce_sum(count))
        accuracy = tf.math.divide_no_nan(soft_sum, count)
        present = tf.cast(count > 0, accuracy.dtype)
        # the range over the groups in the batch: the largest pairwise difference
        diff = (accuracy[:, None] - accuracy[None, :]) * present[:, None] * present[None, :]
        spread = tf.sqrt(tf.reduce_max(tf.square(diff)) + GAP_EPS**2) - GAP_EPS
        return mean_loss + self.gap_weight * tf.stop_gradient(mean_loss) * spread



class GroupWeightsLogger(keras.callbacks.Callback):
    """Write Group DRO's q to each epoch's logs, so that ``history_`` (and a
    checkpoint, which saves the history) keeps it: ``group_weight[<group>]``.

    Must come before the callbacks that read the logs (the checkpoint).
    """

    def __init__(self, names):
        super().__init__()
        self.names = list(names)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            weights = self.model.group_objective.weights()
            logs.update({weight_key(name): float(value) for name, value in zip(self.names, weights)})
