"""motionvigil: few-shot recognition of violent and other rare actions in 3D skeletal motion.

Data flows one way (see "Architecture" in the README):
io -> skeleton -> features -> datasets -> models -> training -> metrics -> detect -> studies -> report -> cli,
where training is training/, pretrain/, fewshot/, supervised/ and kinemic/.
"""

__version__ = "0.1.0"
