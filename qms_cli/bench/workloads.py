"""Model-shaped work with random weights: the real diffusers architectures, scaled down where asked.

Nothing is downloaded: every model is built from its configuration. Imported by the worker only (torch,
diffusers).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import torch

TEXT_DIM = 256  # the text embeddings' width going in (the projection to the hidden size is all that depends on it)


def build_step(family: str, heads: int, head_dim: int, layers: list[int], ffn_ratio: float, device: str,
               dtype: torch.dtype, options: tuple[str, ...] = (), *, text_dim: int = TEXT_DIM,
               empty: bool = False) -> tuple[Any, int]:
    """A denoiser of the family's architecture: `heads` x `head_dim` wide, `layers` deep, with the memory `options`
    diffusers offers applied; (model, parameters). `empty`: built without initialising (full-size models: a
    12-billion-parameter initialisation takes minutes), then filled with small random values where it lives.

    Options: "fp8-storage" (weights stored in 8 bits, cast per layer), "sequential" (one block on the card at a
    time) and "partial" (half the blocks at a time: diffusers has no partial loading; the memory is alike)."""
    offload = "sequential" in options or "partial" in options
    if offload and not device.startswith("cuda"):
        raise ValueError("offloading moves weights to a graphics card; this run uses the processor")
    cast = "fp8-storage" in options
    home = "cpu" if offload or cast else device  # cast (or offloaded) before anything reaches the card
    previous = torch.get_default_dtype()
    try:
        if empty:
            torch.set_default_dtype(dtype)
        with torch.device("meta") if empty else contextlib.nullcontext():
            model = _denoiser(family, heads, head_dim, layers, ffn_ratio, text_dim)
    finally:
        torch.set_default_dtype(previous)
    if empty:
        model = model.to_empty(device=home)
        with torch.no_grad():
            for t in model.parameters():
                t.normal_(0.0, 0.02)
    model = model.to(device=home, dtype=dtype).eval()
    params = sum(p.numel() for p in model.parameters())
    if cast:
        model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
    if offload:
        per_group = 1 if "sequential" in options else max(1, math.ceil(sum(layers) / 2))
        model.enable_group_offload(onload_device=torch.device(device), offload_device=torch.device("cpu"),
                                   offload_type="block_level", num_blocks_per_group=per_group)
    elif home != device:
        model = model.to(device=device)  # the 8-bit weights go to the card as stored
    return model, params


def _denoiser(family: str, heads: int, head_dim: int, layers: list[int], ffn_ratio: float, text_dim: int) -> Any:
    if family == "flux":
        from diffusers import FluxTransformer2DModel

        return FluxTransformer2DModel(patch_size=1, in_channels=64, num_layers=layers[0], num_single_layers=layers[1],
                                      attention_head_dim=head_dim, num_attention_heads=heads,
                                      joint_attention_dim=text_dim, pooled_projection_dim=64, guidance_embeds=True,
                                      axes_dims_rope=(16, 56, 56))
    if family == "wan":
        from diffusers import WanTransformer3DModel

        hidden = heads * head_dim
        return WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=heads, attention_head_dim=head_dim,
                                     in_channels=16, out_channels=16, text_dim=text_dim, freq_dim=256,
                                     ffn_dim=round(hidden * ffn_ratio), num_layers=layers[0])
    raise ValueError(f"no model-shaped workload for family {family!r}")


def weight_bytes(model: Any) -> int:
    """Bytes of the model's weights and buffers as stored (after any storage casting)."""
    return sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])


def step_call(family: str, model: Any, tokens: int, text_tokens: int, frames: int, device: str,
              dtype: torch.dtype, text_dim: int = TEXT_DIM) -> Callable[[], Any]:
    """One denoising pass over `tokens` image/video tokens and `text_tokens` of text."""
    gen = torch.Generator(device="cpu").manual_seed(0)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen).to(device=device, dtype=dtype)

    text = rand(1, text_tokens, text_dim)
    if family == "flux":
        x, pooled = rand(1, tokens, 64), rand(1, 64)
        img_ids = torch.zeros(tokens, 3, device=device)
        txt_ids = torch.zeros(text_tokens, 3, device=device)
        t = torch.tensor([0.5], device=device, dtype=dtype)
        g = torch.tensor([3.5], device=device, dtype=dtype)
        kwargs: dict[str, Any] = {"hidden_states": x, "encoder_hidden_states": text, "pooled_projections": pooled,
                                  "timestep": t, "img_ids": img_ids, "txt_ids": txt_ids, "guidance": g}
    else:
        per_frame = max(1, tokens // frames)
        h = max(1, int(math.sqrt(per_frame)))
        w = max(1, per_frame // h)
        kwargs = {"hidden_states": rand(1, 16, frames, 2 * h, 2 * w), "encoder_hidden_states": text,
                  "timestep": torch.tensor([500], device=device)}

    def run() -> Any:
        with torch.inference_mode():
            return model(**kwargs, return_dict=False)

    return run


def wan_tokens(tokens: int, frames: int) -> int:
    """The token count the Wan input of `step_call` really has (whole patches per frame)."""
    per_frame = max(1, tokens // frames)
    h = max(1, int(math.sqrt(per_frame)))
    return frames * h * max(1, per_frame // h)


def build_decoder(family: str, device: str, dtype: torch.dtype, options: tuple[str, ...] = (),
                  tile: int = 0) -> Any:
    """The family's full-size image or video decoder; with "tiled", decoding in `tile`-pixel tiles."""
    vae: Any
    if family == "flux":
        from diffusers import AutoencoderKL

        vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=16,
                            block_out_channels=(128, 256, 512, 512), layers_per_block=2,
                            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)
    else:
        from diffusers import AutoencoderKLWan

        vae = AutoencoderKLWan()
    if "tiled" in options:
        if family == "flux":
            vae.enable_tiling()
            vae.tile_sample_min_size, vae.tile_latent_min_size = tile, tile // 8
        else:
            vae.enable_tiling(tile_sample_min_height=tile, tile_sample_min_width=tile,
                              tile_sample_stride_height=tile * 3 // 4, tile_sample_stride_width=tile * 3 // 4)
    return vae.to(device=device, dtype=dtype).eval()


def decode_call(family: str, vae: Any, width: int, height: int, frames: int, device: str,
                dtype: torch.dtype) -> Callable[[], Any]:
    """Decode latents to a `width` x `height` image (or `frames` frames of video)."""
    w, h = width // 8, height // 8
    gen = torch.Generator(device="cpu").manual_seed(0)
    if family == "flux":
        z = torch.randn(1, 16, h, w, generator=gen)
    else:
        z = torch.randn(1, 16, (frames - 1) // 4 + 1, h, w, generator=gen)
    z = z.to(device=device, dtype=dtype)

    def run() -> Any:
        with torch.inference_mode():
            return vae.decode(z, return_dict=False)

    return run
