"""oncorelay's versioned event contracts: pydantic v2 models, topic names and reason codes."""
