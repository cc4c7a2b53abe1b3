"""CLI commands ``metatrain`` and ``compare`` (registered in ``cli.COMMANDS``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys

from l2l_core.cli.args import integer, path, positive, real, refuse, seed
from l2l_core.io.files import check_output_dir
from l2l_core.learned.baselines import BASELINES, MAX_STEPS
from l2l_core.learned.checkpoints import DEFAULT_CHECKPOINT, load_checkpoint
from l2l_core.learned.comparison import compare
from l2l_core.learned.config import COUNT_LIMITS, MAX_META_STEPS, PRESETS, preset_config, preset_lstm
from l2l_core.learned.lstm import BASES, PREPROCESSORS, with_base
from l2l_core.learned.objective import META_LOSS_ON
from l2l_core.learned.resume import run_with_checkpoints
from l2l_core.tasks.families import TASK_FAMILIES, get_family
from l2l_core.tasks.quadratics import MAX_BATCH, MAX_DIM, REDUCTIONS

_count = lambda name: integer(*COUNT_LIMITS[name])  # noqa: E731


def family_name(text: str) -> str:
    """``--task``: a family, or a task of the maps (a family of one); its registry name."""
    try:
        return get_family(text.strip()).name
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_metatrain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default="quadratic", type=family_name, metavar="NAME|FORMULA",
                   help="task family to meta-train on: quadratic (default), digits_mlp (an MLP on 8x8 digits), "
                        "or one task of the maps as a family of one (rosenbrock, log_sin, tanh_net, ... or a "
                        "formula)")
    p.add_argument("--preset", default="full", choices=sorted(PRESETS),
                   help="full: the post's 1000 meta-steps (digits_mlp: under 10 min); short: a run of "
                        "under a minute (digits_mlp: 90 s)")
    p.add_argument("--meta-steps", type=_count("meta_steps"), default=None, help="override the preset's meta-steps")
    p.add_argument("--seed", type=seed, default=None, help="seed of the init and the training tasks (default 0)")
    p.add_argument("--out", type=path, required=True,
                   help="checkpoint directory to write (saved after every chunk; locked while training)")
    p.add_argument("--force", action="store_true", help="start over in --out even if it holds a checkpoint")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run saved in --out, with its own settings")
    p.add_argument("--reduction", default=None, choices=REDUCTIONS,
                   help="inner gradient: per-task (sum, default) or the post's batch mean")
    p.add_argument("--preprocess", default=None, choices=PREPROCESSORS, help="LSTM input (default log_sign)")
    p.add_argument("--base", default=None, choices=BASES,
                   help="nag: the LSTM's output is added to a Nesterov momentum step whose learning rate "
                        "is learned too (default: the preset's; none, the LSTM alone as in the paper, on "
                        "quadratics; nag on digits_mlp)")
    p.add_argument("--base-lr", type=positive, default=None,
                   help="the base path's starting learning rate (default: the task family's, near tuned "
                        "NAG's: 0.01 on quadratics, 1 on the networks; then meta-learned)")
    p.add_argument("--init-lstm-weight", type=real, default=None,
                   help="with --init-from a checkpoint without a base path: scale its LSTM's output by this "
                        "when adding the base path (default 1)")
    p.add_argument("--meta-lr", type=positive, default=None, help="Adam meta learning rate (default 1e-2)")
    p.add_argument("--batch", type=integer(1, MAX_BATCH), default=None, help="tasks per meta-step (default 128)")
    p.add_argument("--chunk", type=_count("chunk"), default=None, help="meta-steps per jitted chunk (default 10)")
    p.add_argument("--val-tasks", type=_count("val_tasks"), default=None,
                   help="fixed validation tasks that pick the best parameters (default 256; digits_mlp 16)")
    p.add_argument("--dims", type=integer(1, MAX_DIM), nargs="+", default=None,
                   help="quadratics: train on these dimensions mixed, e.g. 10 20 40 80 (default: --preset's)")
    p.add_argument("--truncations", type=_count("truncations"), default=None,
                   help="truncations per meta-step (default 5)")
    p.add_argument("--truncation-length", type=_count("truncation_length"), default=None,
                   help="inner steps per truncation, one meta-update each (default 20)")
    p.add_argument("--meta-loss-on", default=None, choices=META_LOSS_ON,
                   help="networks: score each step on the minibatch it stepped on (same), the next one, "
                        "the whole training split (train), a quarter of it the minibatches never draw from "
                        "(heldout), or both (train+heldout; train+heldout_error: a smooth held-out error rate)")
    p.add_argument("--meta-weight-power", type=real, default=None,
                   help="step t of T weighs (p+1)(t/T)^p in the meta-loss (default 0: every step alike)")
    p.add_argument("--finish-after", type=integer(0, MAX_META_STEPS), default=None,
                   help="after this many meta-steps, one whole-run truncation per meta-step, scored on the "
                        "training split (the digits short preset's second stage; 0: never)")
    p.add_argument("--finish-meta-lr", type=positive, default=None, help="meta learning rate of that stage")
    p.add_argument("--init-from", type=path, default=None,
                   help="start from this checkpoint's parameters (fine-tuning) instead of a fresh init")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run_metatrain_cli(args) -> int:
    check_output_dir(args.out)
    overrides = {k: v for k, v in dict(meta_steps=args.meta_steps, seed=args.seed, reduction=args.reduction,
                                       meta_lr=args.meta_lr, batch=args.batch, chunk=args.chunk,
                                       truncations=args.truncations, truncation_length=args.truncation_length,
                                       meta_loss_on=args.meta_loss_on, val_tasks=args.val_tasks,
                                       meta_weight_power=args.meta_weight_power, finish_after=args.finish_after,
                                       finish_meta_lr=args.finish_meta_lr).items()
                 if v is not None}
    lstm = preset_lstm(args.task, args.preset, preprocess=args.preprocess, base=args.base, base_lr=args.base_lr)
    start = None if args.init_from is None or args.resume else load_checkpoint(args.init_from)
    if lstm is not None:
        overrides["lstm"] = lstm
    elif start is not None:  # fine-tuning with no LSTM settings given: the checkpoint's own
        overrides["lstm"] = start.config.lstm
    if args.init_lstm_weight is not None and (args.init_from is None or args.base in (None, "none")):
        raise ValueError("--init-lstm-weight scales an --init-from checkpoint's LSTM when adding --base nag")
    if args.dims:
        overrides["dims"] = tuple(args.dims)
    if args.resume and (overrides or args.force or args.preset != "full" or args.init_from is not None):
        given = (sorted(overrides) + (["force"] if args.force else []) + (["preset"] if args.preset != "full" else [])
                 + (["init-from"] if args.init_from is not None else []))
        raise ValueError(f"--resume continues the saved run with its own settings; drop {', '.join(given)}")
    cfg = preset_config(args.preset, task=args.task, **overrides)
    _refuse_what_does_not_apply(args, cfg, start)
    init = None
    if start is not None:
        init = start.params
        adds_base = start.config.lstm.base == "none" and cfg.lstm.base != "none"
        if adds_base:  # the base path's learning rate and momentum are this run's; the rest must match
            init = with_base(start.params, cfg.lstm, 1.0 if args.init_lstm_weight is None else args.init_lstm_weight)
        elif args.init_lstm_weight is not None:
            raise ValueError(f"--init-lstm-weight: {args.init_from} already has a base path")
        # base_lr is only a fresh init's starting rate (a checkpoint's own rate is in its parameters);
        # adding a base path takes the run's base and momentum; everything else must match
        same = dataclasses.replace(start.config.lstm, base_lr=cfg.lstm.base_lr)
        if adds_base:
            same = dataclasses.replace(same, base=cfg.lstm.base, base_momentum=cfg.lstm.base_momentum)
        if same != cfg.lstm:
            raise ValueError(f"--init-from {args.init_from}: its LSTM ({start.config.lstm}) is not this run's")

    def progress(p):
        if not args.json:
            print(f"meta-step {p.done}/{p.total}  meta-loss {p.meta_loss[-1]:.4g}  "
                  f"validation {p.val_loss[-1]:.4g} (best {p.best_val:.4g})  {p.elapsed:.1f} s", file=sys.stderr)

    extra = None if args.resume else dict(preset=args.preset)
    if extra is not None and args.init_from is not None:
        extra["init_from"] = str(args.init_from)
    result, summary, path = run_with_checkpoints(cfg, args.out, resume=args.resume, force=args.force,
                                                 extra_summary=extra, callback=progress, init_params=init)
    cfg = result.config
    out = dict(out=str(path.parent), config=cfg.to_dict(), **summary)
    out = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}
    print(json.dumps(out) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items() if k != "config"))
    return 0


def _refuse_what_does_not_apply(args, cfg, start) -> None:
    """Flags the chosen task family or LSTM would silently ignore are refused, with the reason."""
    family = get_family(cfg.task)
    if args.meta_loss_on is not None and not family.has_data:
        refuse("--meta-loss-on", f"{cfg.task} has no minibatches nor data splits to score on (networks only)")
    if args.dims and not family.is_quadratic:
        refuse("--dims", f"{cfg.task}'s size is its own (quadratics only)")
    if args.base_lr is not None and cfg.lstm.base == "none":
        refuse("--base-lr", "this run's LSTM has no base path (--base none); give --base nag with it")
    if args.base_lr is not None and start is not None and start.config.lstm.base != "none":
        refuse("--base-lr", f"{args.init_from} already has a base path whose learning rate is in its "
               "parameters")
    if args.finish_meta_lr is not None and cfg.finish_after == 0:
        refuse("--finish-meta-lr", "this run has no finishing stage; give --finish-after N with it")


def add_compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default=None, type=family_name, metavar="NAME|FORMULA",
                   help=f"task family ({', '.join(TASK_FAMILIES)}) or one task of the maps as a family of one "
                        "(rosenbrock, log_sin, tanh_net, ... or a formula); default: the checkpoint's, or quadratic")
    p.add_argument("--checkpoint", type=path, default=None,
                   help="learned-optimizer checkpoint directory (default: the one shipped for the task)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the evaluation tasks")
    p.add_argument("--steps", type=integer(1, MAX_STEPS), default=None, help="optimization steps (default 100)")
    p.add_argument("--dim", type=integer(1, MAX_DIM), default=None,
                   help="quadratics: task dimension (default: the trained one)")
    p.add_argument("--batch", type=integer(1, MAX_BATCH), default=None,
                   help="number of tasks (default 128; MLP tasks 32)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run_compare_cli(args) -> int:
    ckpt = None if args.checkpoint is None else load_checkpoint(args.checkpoint)
    if ckpt is None and args.task is None:
        ckpt = load_checkpoint(DEFAULT_CHECKPOINT)
    task = args.task or (ckpt.config.task if ckpt is not None else "quadratic")
    if args.dim is not None and not get_family(task).is_quadratic:
        refuse("--dim", f"{task}'s size is its own (quadratics only)")
    res = compare(ckpt, task=args.task, seed=args.seed, steps=args.steps, dim=args.dim, batch=args.batch)
    clean = lambda v: v if math.isfinite(v) else None  # noqa: E731
    out = dict(initial=res["initial"], final={k: clean(v) for k, v in res["final"].items()},
               best_lr=res["best_lr"], task=res["task"], seed=res["seed"], steps=res["steps"],
               dim=res.get("dim"), batch=res["batch"], checkpoint=res["checkpoint"], seconds=res["seconds"])
    if "test" in res:  # network tasks: held-out loss and accuracy beside the training loss
        out["test"] = {k: {m: clean(x) for m, x in v.items()} for k, v in res["test"].items()}
    if args.json:
        print(json.dumps(out))
    else:
        family = get_family(res["task"])
        if family.kind == "single":
            head = f"{res['task']} (one task)"
        else:
            where = f"dim {res['dim']}" if "dim" in res else "training loss on the whole training split"
            head = f"{res['task']}: {res['batch']} tasks from seed {res['seed']}, {where}"
        print(f"{head}, loss after {res['steps']} steps (initial {res['initial']:.4g}):")
        for k, v in res["final"].items():
            lr = f"  (best lr {res['best_lr'][k]:.3g})" if k in BASELINES else ""
            t = res.get("test", {}).get(k)
            held = f"  test loss {t['test_loss']:.4g}, accuracy {t['test_accuracy']:.3f}" if t else ""
            print(f"  {k:8s} {v:.4g}{lr}{held}")
    return 0
