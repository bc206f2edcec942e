"""The measuring process: `python -m qms_cli.bench.worker` reads jobs as JSON on stdin and writes one JSON
line per result as it goes, so whatever was measured survives an interruption.

Runs apart from qms so that torch's threads, allocator and imports do not touch the parent, and with a fixed
thread count.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def main() -> int:
    request = json.load(sys.stdin)
    config = request["config"]
    os.environ.setdefault("OMP_NUM_THREADS", str(config["threads"]))
    import torch
    from diffusers.utils import logging as diffusers_logging

    from qms_cli.bench.measure import ProcessPeak, timed

    diffusers_logging.set_verbosity_error()
    torch.set_num_threads(config["threads"])
    device = config["device"]
    cuda = device.startswith("cuda")
    if cuda and config.get("vram_limit"):
        total = torch.cuda.get_device_properties(device).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, config["vram_limit"] / total), device)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    name = torch.cuda.get_device_name(device) if cuda else "processor"
    print(json.dumps({"hello": {"torch": torch.__version__, "device": name}}), flush=True)
    peak = _card_peak(torch, device) if cuda else ProcessPeak().measure
    models: dict[Any, tuple[Any, int, int]] = {}
    for job in request["jobs"]:
        result: dict[str, Any] = {"id": job["id"], "status": "ok", "process": os.getpid()}
        run: Any = None
        stand_in: Any = None
        try:
            run = _prepare(job, models, config, result)
            # What else the phase keeps in memory (components the job does not build), as plain bytes.
            stand_in = torch.ones(job.get("stand_in_bytes", 0), dtype=torch.uint8, device=device)
            t = timed(run, cap_s=config["cap_s"], sync=sync, min_repeats=job.get("repeats", 3),
                      warmup=job.get("warmup", 1))
            result.update(seconds=t.seconds, repeats=t.repeats, spread=t.spread)
            resident = torch.cuda.memory_allocated(device) if cuda else result["weight_bytes"] + stand_in.numel()
            work = peak(run, sync)
            if work is not None:
                result.update(work_bytes=work, peak_bytes=resident + work)
        except torch.cuda.OutOfMemoryError as e:
            result.update(status="oom", message=str(e).splitlines()[0])
            models.clear()  # nothing of a job that ran out may crowd the next one
        except KeyboardInterrupt:
            return 130
        except Exception as e:
            result.update(status="error", message=f"{type(e).__name__}: {e}"[:300])
        finally:
            run = stand_in = None
            if cuda:
                torch.cuda.empty_cache()
        print(json.dumps(result), flush=True)
    return 0


def _prepare(job: dict[str, Any], models: dict[Any, tuple[Any, int, int]], config: dict[str, Any],
             result: dict[str, Any]) -> Any:
    """The job's work, ready to run (its model built, or reused from the job before); fills in the
    parameters, weight bytes and token count the result reports."""
    import torch

    from qms_cli.bench import workloads

    device, dtype = config["device"], getattr(torch, job.get("dtype", config["dtype"]))
    options = tuple(job.get("options", ()))
    if job["kind"] == "step":
        text_dim = job.get("text_dim", workloads.TEXT_DIM)
        key: Any = ("step", job["family"], job["heads"], job["head_dim"], tuple(job["layers"]), options, text_dim)
        if key not in models:
            models.clear()  # one model resident at a time
            model, params = workloads.build_step(job["family"], job["heads"], job["head_dim"], job["layers"],
                                                 job["ffn_ratio"], device, dtype, options, text_dim=text_dim,
                                                 empty=job.get("empty", False))
            models[key] = (model, params, workloads.weight_bytes(model))
        model, params, stored = models[key]
        tokens = workloads.wan_tokens(job["tokens"], job["frames"]) if job["family"] == "wan" else job["tokens"]
        result.update(params=params, weight_bytes=stored, tokens=tokens)
        return workloads.step_call(job["family"], model, job["tokens"], job["text_tokens"], job["frames"], device,
                                   dtype, text_dim)
    tile = job.get("tile", job["side"] // 2) if "tiled" in options else 0
    key = ("decode", job["family"], options, tile)
    if key not in models:
        models.clear()
        vae = workloads.build_decoder(job["family"], device, dtype, options, tile=tile)
        models[key] = (vae, 0, workloads.weight_bytes(vae))
    vae, _, stored = models[key]
    result.update(weight_bytes=stored)
    return workloads.decode_call(job["family"], vae, job.get("width", job["side"]), job.get("height", job["side"]),
                                 job["frames"], device, dtype)


def _card_peak(torch: Any, device: str) -> Any:
    """The working memory of one piece of work on a card: the allocator's peak above what it held before."""

    def measure(run: Any, sync: Any) -> int:
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        run()
        sync()
        return int(torch.cuda.max_memory_allocated(device) - before)

    return measure


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
