"""motionvigil: few-shot recognition of violent and other rare actions in 3D skeletal motion.

Data flows one way (see ``DESIGN`` in the README):
io -> skeleton -> features -> datasets -> models -> pretrain/fewshot/supervised -> metrics -> detect -> studies -> report.
"""

__version__ = "0.1.0"
