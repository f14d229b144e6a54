"""Shared training machinery: devices, seeding, torchrun/DDP, resumable state."""
