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

    from qms_cli.bench import workloads
    from qms_cli.bench.measure import timed

    diffusers_logging.set_verbosity_error()
    torch.set_num_threads(config["threads"])
    device = config["device"]
    dtype = getattr(torch, config["dtype"])
    cuda = device.startswith("cuda")
    if cuda and config.get("vram_limit"):
        total = torch.cuda.get_device_properties(device).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, config["vram_limit"] / total), device)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    name = torch.cuda.get_device_name(device) if cuda else "processor"
    print(json.dumps({"hello": {"torch": torch.__version__, "device": name}}), flush=True)
    models: dict[Any, tuple[Any, int]] = {}
    for job in request["jobs"]:
        result: dict[str, Any] = {"id": job["id"], "status": "ok"}
        try:
            if cuda:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(device)
            if job["kind"] == "step":
                key: Any = ("step", job["family"], job["heads"], tuple(job["layers"]))
                if key not in models:
                    models.clear()  # one model resident at a time
                    models[key] = workloads.build_step(job["family"], job["heads"], job["layers"], job["ffn_ratio"],
                                                       device, dtype)
                model, params = models[key]
                run = workloads.step_call(job["family"], model, job["tokens"], job["text_tokens"], job["frames"],
                                          device, dtype)
                tokens = (workloads.wan_tokens(job["tokens"], job["frames"]) if job["family"] == "wan"
                          else job["tokens"])
                result.update(params=params, tokens=tokens)
            else:
                key = ("decode", job["family"])
                if key not in models:
                    models.clear()
                    models[key] = (workloads.build_decoder(job["family"], device, dtype), 0)
                run = workloads.decode_call(job["family"], models[key][0], job["side"], job["frames"], device, dtype)
            t = timed(run, cap_s=config["cap_s"], sync=sync)
            result.update(seconds=t.seconds, repeats=t.repeats, spread=t.spread)
            if cuda:
                result["peak_bytes"] = torch.cuda.max_memory_allocated(device)
        except torch.cuda.OutOfMemoryError as e:
            result.update(status="oom", message=str(e).splitlines()[0])
        except KeyboardInterrupt:
            return 130
        except Exception as e:
            result.update(status="error", message=f"{type(e).__name__}: {e}"[:300])
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
