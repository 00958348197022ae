"""sslctl: one command line for self-supervised pretraining, probing, distillation,
coresets and export."""

__version__ = "0.1.0"
