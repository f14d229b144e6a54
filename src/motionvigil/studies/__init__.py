"""Studies: experiments that train models and evaluate them (few-shot tables, cross-skeleton,
probes, retrieval of pre-trained models). They sit above every other layer except the
report and the command line; nothing below imports them."""
