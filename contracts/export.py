"""Write the JSON Schema of every event to contracts/schemas/ (python -m contracts.export).

tests/unit/test_contracts.py fails when a committed schema differs from the models, so the
files a lab integrates against in another language are always the ones the services enforce.
"""

import json
from pathlib import Path

from contracts.events import EVENT_MODELS

SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_text(name: str) -> str:
    """The JSON Schema of one event model, as committed (sorted keys, trailing newline)."""
    schema = EVENT_MODELS[name].model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://oncorelay.org/contracts/{name}.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name in EVENT_MODELS:
        (SCHEMA_DIR / f"{name}.json").write_text(schema_text(name))
        print(f"wrote {SCHEMA_DIR / name}.json")


if __name__ == "__main__":
    main()
