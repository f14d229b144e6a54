"""KineMIC [docs/papers.md]: few-shot action synthesis from a text-to-motion diffusion prior.

- :mod:`schedule`: cosine noise schedule, forward noising, DDIM steps;
- :mod:`denoiser`: MDM-style Transformer denoiser (predicts x0) with text conditioning;
- :mod:`diffusion`: training loss and classifier-free-guided sampling;
- :mod:`lora`: LoRA adapters for ``nn.Linear``;
- :mod:`data`: clips -> normalised, padded feature batches;
- :mod:`model`: the denoiser with its normaliser, saved as a checkpoint folder;
- :mod:`prior`: training the text-to-motion prior on a captioned corpus;
- :mod:`mining`: semantic caption mining and motion-space window extraction;
- :mod:`finetune`: LoRA fine-tuning into a few-shot action-to-motion generator;
- :mod:`pipeline`: few-shot target samples -> mined source windows -> fine-tuned generator;
- :mod:`encoder`, :mod:`text`: the pre-trained motion encoder and sentence embeddings as used here;
- :mod:`generate`: sampling clips and writing them as a folder dataset;
- :mod:`quality`: FID, diversity, multimodality and kinematic plausibility.

The augmentation experiment (real / synthetic / real + synthetic) is a study:
:mod:`motionvigil.studies.kinemic_augment`; the GIF + HTML preview of generated beside
real clips is a report: :mod:`motionvigil.report.kinemic_preview`. (This package was
``motionvigil.synthesis``; ``pipeline`` was ``synthesis.kinemic``.)
"""
