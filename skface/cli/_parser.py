"""The ``skface`` argument parser: sub-commands, options, help texts.

Only the standard library is imported here (and :mod:`skface._options`, the
library's names and defaults, which imports nothing else), so that ``skface
--help`` answers at once. The commands themselves live in :mod:`._commands`
and are looked up by name when one runs.
"""

import argparse
import textwrap

from .. import _options
from . import _library, _types
from ._library import EstimatorDefault

__all__ = ["build_parser", "prepare_argv"]

#: the reference's per-gender weights: women 1.0, men 0.1
REFERENCE_WEIGHTS = {-1: 1.0, 1: 0.1}
#: default size of ``skface demo``: measured to finish in well under 10
#: minutes on 2 CPU cores (see docs/cli.rst)
DEMO_SAMPLES = 1500
#: the same with --utkface: photographs need more faces to learn from, and this
#: many were measured to finish in under 10 minutes on 2 CPU cores (docs/cli.rst)
DEMO_UTKFACE_SAMPLES = 4000
#: test faces of ``skface demo`` beside those: the paired interval of a Fair_Metric
#: difference is about +-0.03 to +-0.07 (300 test faces gave +-0.12; 10,000 gave
#: +-0.02 to +-0.05 but cost about 3 minutes of a float32 CPU: docs/cli.rst)
DEMO_TEST_SAMPLES = 5_000
#: the partition of CelebA each command reads unless --split says otherwise
CELEBA_SPLIT = {"train": "train", "evaluate": "test"}
#: the CSV column of the groups unless --sensitive names another
SENSITIVE = "gender"

_EPILOG = """\
labels: the CSVs hold the label as class 0/1 (or -1/1); predictions.csv and the
report use -1/1, the reference's prediction labels (-1 is class 0, 1 is class 1).
exit status: 0 success, 1 data error (one line 'skface: error: ...' on stderr),
2 usage error. Run 'skface COMMAND --help' for the options of a command; see docs/cli.rst."""


def _pixels(size):
    # the estimator takes an int or a (height, width) pair
    height, width = (size, size) if isinstance(size, int) else size
    return str(height) if height == width else f"{height}x{width}"


def _add_model_options(parser):
    group = parser.add_argument_group("model (defaults: FaceCNNClassifier's)")
    group.add_argument("--image-size", type=_types.image_size, default=EstimatorDefault("image_size", _pixels),
                       metavar="PX", help="height and width the images are resized to (default: %(default)s)")
    group.add_argument("--epochs", type=_types.positive_int, default=EstimatorDefault("epochs"), metavar="N",
                       help="at most N epochs; early stopping on the validation loss may stop sooner "
                            "(default: %(default)s)")
    group.add_argument("--n-iter-no-change", type=_types.positive_int, default=EstimatorDefault("n_iter_no_change"),
                       metavar="N", help="patience of early stopping: stop after N epochs without a better "
                                         "validation loss (default: %(default)s, the reference's)")
    group.add_argument("--min-images", type=_types.non_negative_int, default=EstimatorDefault("min_images"),
                       metavar="N", help="early stopping never stops before the network has trained on N images "
                                         "(default: %(default)s; 0 is the reference's rule)")
    group.add_argument("--batch-size", type=_types.positive_int, default=EstimatorDefault("batch_size"),
                       metavar="N", help="training batch size (default: %(default)s)")
    group.add_argument("--learning-rate", type=_types.positive_float, default=EstimatorDefault("learning_rate"),
                       metavar="LR", help="learning rate of Adam (default: %(default)s)")
    group.add_argument("--filters", type=_types.filters,
                       default=EstimatorDefault("filters", lambda f: ",".join(map(str, f))), metavar="F1,F2,...",
                       help="filters of the small CNN's convolution blocks (default: %(default)s); "
                            "e.g. 4,8 for a quick try")
    group.add_argument("--dense-units", type=_types.positive_int, default=EstimatorDefault("dense_units"),
                       metavar="N", help="units of the dense layer before the output (default: %(default)s)")
    group.add_argument("--random-state", type=int, metavar="SEED",
                       help="seed of the weights, shuffling and splits; the same seed gives "
                            "the same model on a CPU")
    group.add_argument("--verbose", type=int, choices=(0, 1, 2), metavar="{0,1,2}",
                       help="Keras progress: 0 silent, 1 progress bars, 2 one line per epoch "
                            "(default: 1 on a terminal, else 2)")


def _option(name):
    return "--" + name.replace("_", "-")


def _none(value):
    return "none" if value is None else str(value)


def _add_group_options(parser):
    group = parser.add_argument_group(
        "group-aware training (with the groups of --sensitive; defaults: FaceCNNClassifier's)")
    group.add_argument("--fairness", choices=_options.FAIRNESS,
                       default=EstimatorDefault("fairness", _none),
                       help="what the network trains on besides the loss: 'group_dro' (Group DRO: the loss of "
                            "each of --dro-groups' groups, weighted by weights that grow for the groups with the "
                            "highest loss) or 'gap_penalty' (the loss times 1 + --gap-weight x the spread of the "
                            "groups' accuracies in the batch) (default: %(default)s, the loss alone)")
    group.add_argument("--group-sampling", choices=_options.GROUP_SAMPLING,
                       default=EstimatorDefault("group_sampling", _none),
                       help="'balanced' draws the training batches so that every group x class cell is seen "
                            "equally often (default: %(default)s)")
    group.add_argument("--scoring", choices=tuple(_options.SCORING),
                       default=EstimatorDefault("scoring"),
                       help="what early stopping watches on the validation hold-out: the loss, the accuracy, "
                            "Fair_Metric over the groups or the lowest accuracy over --dro-groups' groups; the "
                            "weights of the best epoch are kept (default: %(default)s)")
    group.add_argument("--dro-groups", choices=_options.DRO_GROUPS,
                       default=EstimatorDefault("dro_groups"),
                       help="Group DRO's groups, and those of --scoring worst_group_accuracy: group x class "
                            "(four cells for two groups) or the groups alone (default: %(default)s)")
    group.add_argument("--dro-step-size", type=_types.non_negative_float, default=EstimatorDefault("dro_step_size"),
                       metavar="ETA", help="with --fairness group_dro: step size of the weights' update; 0 keeps "
                                           "them equal (default: %(default)s)")
    group.add_argument("--dro-adjustment", type=_types.non_negative_float,
                       default=EstimatorDefault("dro_adjustment"), metavar="C",
                       help="with --fairness group_dro: C / sqrt(n) is added to the loss of a group of n "
                            "training images in the weights' update (default: %(default)s)")
    group.add_argument("--gap-weight", type=_types.non_negative_float, default=EstimatorDefault("gap_weight"),
                       metavar="W", help="with --fairness gap_penalty: a spread of 0.1 between the groups' "
                                         "accuracies costs 0.1 x W of the loss (default: %(default)s)")


def _add_on_bad_image(parser, skip):
    parser.add_argument("--on-bad-image", choices=_options.ON_BAD_IMAGE, default=EstimatorDefault("on_bad_image"),
                        help=f"what to do with image files that cannot be read (missing, empty, truncated, "
                             f"not an image): 'raise' stops with an error naming them (default: %(default)s), "
                             f"'skip' {skip}")


def _add_data_options(parser, *, command):
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", metavar="DATA.csv",
                        help="CSV with one row per image: image path, label and sensitive columns "
                             "(the reference layout filename,gender,class)")
    source.add_argument("--celeba", metavar="ROOT",
                        help="a local copy of CelebA (class = Blond_Hair or Eyeglasses, "
                             "gender from Male); nothing is downloaded")
    source.add_argument("--utkface", metavar="DIR",
                        help="a folder of UTKFace images (labels in the file names): adults, "
                             "class = age >= 40, gender -1 woman / 1 man; nothing is downloaded")
    parser.add_argument("--split", choices=("train", "valid", "test", "all"),
                        help=f"with --celeba only: which official partition to use "
                             f"(default: {CELEBA_SPLIT[command]})")
    parser.add_argument("--image-dir", metavar="DIR",
                        help="folder the CSV's image paths are relative to (default: the CSV's folder)")
    parser.add_argument("--image-column", default=EstimatorDefault("image_column"), metavar="NAME",
                        help="CSV column of the image paths (default: %(default)s)")
    parser.add_argument("--label", default="class", metavar="NAME",
                        help="CSV column of the binary label, 0/1 or -1/1 (default: %(default)s)")
    groups = ("; train uses it when the CSV has it, and needs it for --weights, --balance and the "
              "group-aware options" if command == "train" else "")
    parser.add_argument("--sensitive", "--sensitive-column", dest="sensitive", metavar="NAME[,NAME]",
                        type=_types.columns,
                        help=f"CSV column of the sensitive attribute (default: {SENSITIVE}, -1 woman, 1 man); "
                             "several joined by commas (gender,race) make intersectional groups" + groups)


def _check_data(parser):
    def check(args):
        if args.split is not None and args.celeba is None:
            parser.error("argument --split: only with --celeba; a --csv file lists its images itself")
        if args.celeba is not None and args.split is None:
            args.split = CELEBA_SPLIT[args.command]
        # a --sensitive column named on the command line must exist; the default may be absent (train)
        args.sensitive_given = args.sensitive is not None
        if args.sensitive is None:
            args.sensitive = SENSITIVE

    return check


def _check_train(parser):
    data = _check_data(parser)

    def check(args):
        data(args)
        if args.infer_groups and not args.thresholds:
            parser.error("argument --infer-groups: only with --thresholds; without, there are no thresholds "
                         "to apply to inferred groups")
        for name, wanted in _options.USED_ONLY_WITH.items():
            if not _library.given(getattr(args, name)):
                continue
            if not any(_library.resolve(getattr(args, other)) in values for other, values in wanted.items()):
                needed = " or ".join(f"{_option(other)} {' or '.join(values)}" for other, values in wanted.items())
                parser.error(f"argument {_option(name)}: only with {needed}; without, it would change nothing")

    return check


def _check_demo(parser):
    def check(args):
        if args.weights is None:
            parser.error("argument --weights: the demo compares an unweighted and a weighted model; "
                         "'none' would train the same model twice: use 'balanced' or GROUP=WEIGHT pairs")
        if args.n_samples is None:
            args.n_samples = DEMO_SAMPLES if args.utkface is None else DEMO_UTKFACE_SAMPLES
        if args.n_samples < 40:
            parser.error(f"argument --n-samples: {args.n_samples} faces are too few for a 75/25 "
                         "train/validation split stratified on class x gender; use at least 40")

    return check


def described(text):
    """``text`` wrapped for a help page: the raw formatter keeps the epilog's
    lines as written, so the description is wrapped here."""
    return textwrap.fill(text, width=79)


def build_parser():
    """The ``skface`` argument parser (sub-commands demo, train, predict, evaluate).

    Each sub-command sets ``run``, the name of its function in
    :mod:`skface.cli._commands`, and may set ``check``, a function of the
    parsed arguments that reports usage errors involving several options.
    """
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="skface",
        description=described(
            "Train, apply and audit the skface face-attribute CNN, with fairness "
            "between groups (e.g. genders) measured by Fair_Metric."),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"skface {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    raw = dict(epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)

    demo = commands.add_parser(
        "demo",
        help="the whole workflow on built-in synthetic faces (no data needed) or on UTKFace photographs",
        description=described(
            "Generate synthetic faces (--n-samples split 75/25 into train and validation, "
            "stratified on class x gender, and --n-test other faces to test on), "
            "train the reference CNN unweighted, "
            "with per-gender weights and with Group DRO (fairness='group_dro', given "
            "the gender of the training faces), add per-gender thresholds chosen on the "
            "validation split to the weighted one (FairThresholdClassifier), print "
            "per-gender accuracy and Fair_Metric with a bootstrap 95% interval over the "
            "test faces for the four and the majority-class baseline, say whether a "
            "mitigation beats the unweighted model at this size, and write "
            "predictions.csv (labels -1/1), the faces with their split CSVs (class "
            "0/1), the model that wrote predictions.csv and report.html to --output. "
            "With --utkface DIR the faces are --n-samples UTKFace adults drawn from DIR "
            "(class = age >= 40) and up to --n-test other adults, read where they are."),
        **raw,
    )
    demo.add_argument("--n-samples", type=_types.positive_int, metavar="N",
                      help=f"faces to train and validate on (default: {DEMO_SAMPLES}, or {DEMO_UTKFACE_SAMPLES} "
                           "with --utkface; a few minutes on 2 CPU cores)")
    demo.add_argument("--n-test", type=_types.positive_int, metavar="M", default=DEMO_TEST_SAMPLES,
                      help="other faces to test on (default: %(default)s; with --utkface at most the adults "
                           "left after --n-samples): enough to tell mitigations apart")
    demo.add_argument("--output", default="demo-output", metavar="DIR",
                      help="folder for the results, created if missing (default: %(default)s)")
    demo.add_argument("--utkface", metavar="DIR",
                      help="run on UTKFace photographs in DIR instead of synthetic faces: --n-samples "
                           "adults drawn at random (stratified on class x gender) and --n-test other "
                           "ones, class = age >= 40")
    demo.add_argument("--weights", type=_types.weights, default=REFERENCE_WEIGHTS, metavar="W",
                      help="gender weights of the second model: 'balanced' or GROUP=WEIGHT pairs "
                           "(default: the reference's -1=1,1=0.1, women 1.0, men 0.1)")
    _add_model_options(demo)
    demo.set_defaults(run="run_demo", check=_check_demo(demo), random_state=0)

    train = commands.add_parser(
        "train",
        help="train the CNN on a folder of images and save it",
        description=described(
            "Train FaceCNNClassifier on the images listed in a CSV (or a local CelebA) "
            "and save it to a .keras file (written atomically). Labels 0/1 or -1/1 "
            "are learnt as -1/1. Before training, every image file is decoded once, in "
            "parallel, so that a bad file stops the run at once rather than mid-epoch. "
            "When the data have the --sensitive column (two groups or more), the "
            "model is given the groups: early stopping holds out images stratified on "
            "class x group, and the history keeps every group's accuracy and "
            "Fair_Metric; --fairness, --group-sampling and --scoring train for fairness "
            "between the groups."),
        **raw,
    )
    _add_data_options(train, command="train")
    train.add_argument("--weights", type=_types.weights, default=None, metavar="W",
                       help="per-sample weights by sensitive group: 'none' (default), 'balanced' "
                            "(every group the same total weight) or GROUP=WEIGHT pairs such as "
                            "-1=1,1=0.1 (the reference: women 1.0, men 0.1)")
    train.add_argument("--balance", choices=("none", *_options.BALANCE_STRATEGIES),
                       default="none",
                       help="resample the rows to equal group sizes before training, as the "
                            "reference undersampled the over-represented gender (default: %(default)s)")
    train.add_argument("--backbone", choices=_library.backbones(), default=EstimatorDefault("backbone"),
                       help="'cnn' is the reference small CNN; the others put a frozen Keras "
                            "application under a dense head (default: %(default)s)")
    train.add_argument("--backbone-weights", metavar="imagenet|PATH",
                       help="weights of the backbone: 'imagenet' (Keras downloads them) or a "
                            "weights file (default: random initialisation)")
    _add_on_bad_image(train, "leaves them out of training and lists them")
    train.add_argument("--checkpoint-dir", metavar="DIR",
                       help="save a checkpoint to DIR after every epoch; if the run is interrupted, "
                            "the same command resumes it after the last completed epoch (give "
                            "--random-state too, so that it holds out the same validation images)")
    _add_group_options(train)
    thresholds = train.add_argument_group("per-group thresholds (FairThresholdClassifier)")
    thresholds.add_argument("--thresholds", action="store_true",
                            help="train on 80%% of the images and choose one decision threshold per group on "
                                 "the other 20%% (maximising Fair_Metric); the saved model applies them, so "
                                 "'skface predict' needs each image's group (--sensitive-column) unless "
                                 "--infer-groups")
    thresholds.add_argument("--infer-groups", action="store_true",
                            help="with --thresholds: also train a network that infers the group from the "
                                 "image; the thresholds are chosen for the groups it infers, and the saved "
                                 "model needs no group column to predict")
    _add_model_options(train)
    train.add_argument("--model", required=True, type=_types.keras_path, metavar="OUT.keras",
                       help="where to save the trained model (a .keras file)")
    train.set_defaults(run="run_train", check=_check_train(train))

    suffixes = ", ".join(_library.image_suffixes())
    predict = commands.add_parser(
        "predict",
        help="write the prediction file filename,label (-1/1)",
        description=described(
            "Predict with a saved model and write the reference's prediction file: "
            "a CSV 'filename,label' with labels -1/1 (1 where the probability of "
            "class 1 exceeds --threshold), one row per image in input order, written "
            "atomically. A warning line says when the model predicts one class for "
            "nearly every image (a model that learned nothing)."),
        **raw,
    )
    predict.add_argument("--model", required=True, metavar="M.keras", help="a model saved by 'skface train'")
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", metavar="DIR",
                        help=f"a folder of images: every file ending in {suffixes} (any case, not "
                             "starting with '.'), in sorted order; filename is the file's name")
    source.add_argument("--csv", metavar="DATA.csv",
                        help="a CSV listing the images; filename is the CSV's value, in its order")
    predict.add_argument("--image-dir", metavar="DIR",
                         help="with --csv: folder the paths are relative to (default: the CSV's folder)")
    predict.add_argument("--image-column", default=EstimatorDefault("image_column"), metavar="NAME",
                         help="with --csv: column of the image paths (default: %(default)s)")
    predict.add_argument("--output", required=True, metavar="predictions.csv",
                         help="the CSV to write; its folder must exist")
    predict.add_argument("--proba", action="store_true",
                         help="add a column 'probability': the model's probability of label 1")
    predict.add_argument("--threshold", type=_types.probability, metavar="T",
                         help="label 1 where P(label 1) > T (default: the model's own threshold; not "
                              "with a model that has per-group thresholds)")
    predict.add_argument("--sensitive-column", "--sensitive", dest="sensitive", metavar="NAME[,NAME]",
                         type=_types.columns,
                         help="with --csv: the column of each image's group, for a model with per-group "
                              "thresholds ('skface train --thresholds', the demo's model); a model that "
                              "infers the groups (--infer-groups) uses it when given")
    predict.add_argument("--batch-size", type=_types.positive_int, metavar="N",
                         help="prediction batch size (default: the estimator's, larger on a GPU)")
    _add_on_bad_image(predict, "writes a row for every readable file, lists the others in "
                               "OUTPUT's name with .unreadable.csv (e.g. predictions.unreadable.csv) "
                               "and warns")
    predict.set_defaults(run="run_predict")

    evaluate = commands.add_parser(
        "evaluate",
        help="per-group metrics, Fair_Metric and an HTML report on labelled images",
        description=described(
            "Evaluate a saved model on labelled images: print accuracy, selection "
            "rate, true and false positive rates per group and Fair_Metric, next to "
            "those of the majority-class baseline (always the most frequent label), and "
            "write an HTML report (report.html and PNG figures) to --report."),
        **raw,
    )
    evaluate.add_argument("--model", required=True, metavar="M.keras", help="a model saved by 'skface train'")
    _add_data_options(evaluate, command="evaluate")
    evaluate.add_argument("--threshold", type=_types.probability, metavar="T",
                          help="label 1 where P(label 1) > T (default: the model's own threshold, or its "
                               "per-group thresholds applied to the --sensitive column)")
    evaluate.add_argument("--report", required=True, metavar="DIR",
                          help="folder for report.html and its figures, created if missing")
    evaluate.set_defaults(run="run_evaluate", check=_check_data(evaluate))
    return parser


def prepare_argv(argv):
    """Let ``--weights -1=1,1=0.1`` through: argparse would take the value
    for an option, because it starts with '-'."""
    argv = list(argv)
    for i, arg in enumerate(argv[:-1]):
        if arg == "--weights" and argv[i + 1][:2] in {f"-{d}" for d in "0123456789."}:
            argv[i : i + 2] = [f"--weights={argv[i + 1]}", None]
    return [arg for arg in argv if arg is not None]
