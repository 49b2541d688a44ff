"""Document ids shared by the services: a result's key and its variant chunks (pure).

Variants are stored in chunk documents of VARIANTS_PER_CHUNK: 200,000 one-variant documents would
cost 200,000 round trips of index maintenance on FerretDB/SQLite, while 2,000 per document keeps
each well under the 16 MiB document limit. Ids are computed, so readers fetch chunks by `_id`.
"""

VARIANTS_PER_CHUNK = 2000


def result_key(result_id: str, version: int) -> str:
    return f"{result_id}@{version}"


def chunk_id(key: str, chunk: int) -> str:
    return f"{key}#{chunk:06d}"


def chunk_count(variant_count: int) -> int:
    return -(-variant_count // VARIANTS_PER_CHUNK)
