"""qms: quality tiers for generative media.

Pick Low, Standard or High; qms maps it to a model configuration that runs on this machine.
"""

__version__ = "0.1.0"
