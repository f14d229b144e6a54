"""Built-in model files (package data, no code): ``violence_detector/`` (the default
detector: tiny TMR encoder, class prototypes and a kinematic violence head) and
``manifest.json`` (each file's SHA-256, how the build was made, and the model card's
figures). ``motionvigil zoo build`` (``make model``) writes them; :mod:`motionvigil.detect.builtin`
verifies and loads them. See ``docs/model_card.md``."""
