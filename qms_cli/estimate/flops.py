"""The work of one denoiser pass, from the model's architecture numbers (profiles/models.yaml).

Matrix products are counted layer by layer, as multiply-adds x 2:
- every block's attention projections (query, key, value, output: 4 h^2 a token) and its MLP (2 h f a token).
  FLUX's double-stream blocks hold separate weights for image and text tokens, but each token passes through
  one stream only; its single-stream blocks fuse query/key/value with the MLP input (h -> 3h + f) and the
  attention output with the MLP output (h + f -> h): the same 4 h^2 + 2 h f a token.
- joint attention (FLUX): text tokens go through every block like image tokens. Cross attention (Wan): video
  tokens also pass the cross-attention query and output (2 h^2), text tokens only its key and value (2 h^2).
- the patch embedding and the output projection (in_channels x h each a token), the text's projection into the
  model (text_dim x h a text token).
- modulation (adaLN) and the time/guidance embeddings act on one vector per pass, not on every token:
  `modulation_*` counts how many h x h matrices that is, per double-stream block, per other block and once.
Attention scores and the weighted sum: 2 x tokens^2 x h multiply-adds a layer (self or joint attention), plus
2 x tokens x text x h for cross attention. Norms, activations and rotary embeddings are not counted: their
cost is in the efficiencies fitted to published runs (profiles/throughput.yaml).
"""

from collections.abc import Mapping


def pass_work(arch: Mapping[str, float], joint_text: bool, tokens: int, text_tokens: int) -> tuple[float, float]:
    """(matrix-product flops, attention flops) of one pass over `tokens` image/video tokens and the text."""
    h, f, layers = float(arch["hidden"]), float(arch["ffn"]), int(arch["layers"])
    doubles = int(arch.get("double_blocks", 0))
    block = 4 * h * h + 2 * h * f  # a token through one block (its stream's weights)
    if joint_text:
        n = tokens + text_tokens
        macs = n * layers * block
        attention_macs = 2.0 * layers * n * n * h
    else:
        macs = tokens * layers * (block + 2 * h * h) + text_tokens * layers * 2 * h * h
        attention_macs = 2.0 * layers * (tokens * tokens + tokens * text_tokens) * h
    macs += 2 * tokens * arch.get("in_channels", 0) * h + text_tokens * arch.get("text_dim", 0) * h
    once = (doubles * arch.get("modulation_double", 0) + (layers - doubles) * arch.get("modulation_block", 0)
            + arch.get("modulation_once", 0))
    macs += once * h * h
    return 2.0 * macs, 2.0 * attention_macs


