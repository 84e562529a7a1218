"""skface/_group_objective.py: the Group DRO and gap-penalty objectives, step by step."""

import numpy as np
import tensorflow as tf

from skface._group_objective import GroupObjective


def _objective(fairness, *, n_groups=2, dro_groups="sensitive_x_class", step=0.5, adjustment=0.0,
               gap_weight=1.0, counts=None, q=None):
    return GroupObjective(
        group_names=[str(i) for i in range(n_groups)], fairness=fairness, dro_groups=dro_groups,
        step_size=step, adjustment=adjustment, gap_weight=gap_weight,
        cell_counts=np.full(2 * n_groups, 10) if counts is None else counts, threshold=0.5,
        initial_weights=q, loss=tf.keras.losses.BinaryCrossentropy(),
    )  # fmt: skip


BATCH_LABEL = np.array([0, 1, 0, 1, 0, 1, 1, 0], np.float32)


BATCH_GROUP = np.array([0, 0, 0, 0, 1, 1, 1, 1], np.float32)


BATCH_P = np.array([0.2, 0.9, 0.4, 0.6, 0.7, 0.3, 0.5, 0.45], np.float32)


BATCH_W = np.array([1, 1, 2, 1, 1, 0.5, 1, 1], np.float32)


def _bce(y, p):
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_group_dro_update_and_loss_follow_sagawa_et_al():
    counts = np.array([40, 10, 30, 5])
    objective = _objective("group_dro", step=0.5, adjustment=1.0, counts=counts)
    p = tf.Variable(BATCH_P[:, None])
    label, cell = objective.split(tf.constant(np.column_stack([BATCH_LABEL, BATCH_GROUP])))
    with tf.GradientTape() as tape:
        loss = objective.loss(label, cell, p, tf.constant(BATCH_W))
    grad = tape.gradient(loss, p).numpy().ravel()

    # their LossComputer: mean loss per group over the batch, exponentiated step, renormalised
    cells = (2 * BATCH_GROUP + BATCH_LABEL).astype(int)
    per_sample = BATCH_W * _bce(BATCH_LABEL, BATCH_P)
    group_loss = np.array([per_sample[cells == k].mean() for k in range(4)])
    q = np.full(4, 0.25) * np.exp(0.5 * (group_loss + 1.0 / np.sqrt(counts)))
    q /= q.sum()
    np.testing.assert_allclose(objective.weights(), q, rtol=1e-5)
    np.testing.assert_allclose(float(loss), q @ group_loss, rtol=1e-5)
    # the gradient holds q constant: d/dp of sum_k q_k mean_{i in k} w_i l_i
    dl_dp = BATCH_W * (-(BATCH_LABEL / BATCH_P) + (1 - BATCH_LABEL) / (1 - BATCH_P))
    expected = np.array([q[k] / (cells == k).sum() for k in cells]) * dl_dp
    np.testing.assert_allclose(grad, expected, rtol=1e-4)
    # the group with the highest loss gains weight
    assert np.argmax(objective.weights()) == np.argmax(group_loss + 1.0 / np.sqrt(counts))


def test_group_dro_on_sensitive_groups_pools_the_classes():
    objective = _objective("group_dro", dro_groups="sensitive", step=1.0)
    label, cell = objective.split(tf.constant(np.column_stack([BATCH_LABEL, BATCH_GROUP])))
    loss = objective.loss(label, cell, tf.constant(BATCH_P[:, None]), None)
    per_sample = _bce(BATCH_LABEL, BATCH_P)
    group_loss = np.array([per_sample[BATCH_GROUP == k].mean() for k in range(2)])
    q = np.exp(group_loss) / np.exp(group_loss).sum()
    np.testing.assert_allclose(objective.weights(), q, rtol=1e-5)
    np.testing.assert_allclose(float(loss), q @ group_loss, rtol=1e-5)


def test_gap_penalty_is_the_loss_scaled_by_the_smoothed_soft_accuracy_spread():
    objective = _objective("gap_penalty", gap_weight=2.0)
    label, cell = objective.split(tf.constant(np.column_stack([BATCH_LABEL, BATCH_GROUP])))
    loss = float(objective.loss(label, cell, tf.constant(BATCH_P[:, None]), None))
    soft = BATCH_LABEL * BATCH_P + (1 - BATCH_LABEL) * (1 - BATCH_P)
    spread = abs(soft[BATCH_GROUP == 0].mean() - soft[BATCH_GROUP == 1].mean())
    smooth = np.sqrt(spread**2 + 0.01**2) - 0.01
    mean_loss = _bce(BATCH_LABEL, BATCH_P).mean()
    np.testing.assert_allclose(loss, mean_loss * (1 + 2.0 * smooth), rtol=1e-5)
    # it has a gradient where the groups are level
    level = tf.Variable(np.full((8, 1), 0.5, np.float32))
    with tf.GradientTape() as tape:
        value = objective.loss(label, cell, level, None)
    assert np.isfinite(tape.gradient(value, level).numpy()).all()
