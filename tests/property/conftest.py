"""hypothesis settings for the property tests: no per-example deadline (the machine is shared and busy)."""

from hypothesis import settings

settings.register_profile("oncorelay", deadline=None, max_examples=100)
settings.load_profile("oncorelay")
