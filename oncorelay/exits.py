"""The exit statuses of `oncorelay publish` (and the watch folder's outcomes), one per class of failure, so a
lab's script can tell them apart; `oncorelay publish --help` lists them."""

from enum import IntEnum


class Exit(IntEnum):
    PUBLISHED = 0
    REJECTED = 1
    USAGE = 2
    NO_RECEIPT = 3
    KAFKA_UNREACHABLE = 4
    DAMAGED_FILE = 5
    UNREADABLE_FILE = 6
    INVALID_METADATA = 7
    TOO_LARGE = 8


MEANING = {
    Exit.PUBLISHED: "published (with --wait: and accepted)",
    Exit.REJECTED: "ingest rejected the result: the receipt printed says why (reason codes)",
    Exit.USAGE: "a missing or invalid option or argument: nothing was published",
    Exit.NO_RECEIPT: "published, but no receipt came within --timeout: is the ingest service running?",
    Exit.KAFKA_UNREACHABLE: "Kafka could not be reached (ONCORELAY_KAFKA_BOOTSTRAP): nothing was published",
    Exit.DAMAGED_FILE: "the file is damaged (e.g. a gzip cut off in transfer): it was published as it is, so "
                       "ingest records the rejection with its reason; fix or re-copy the file and publish again",
    Exit.UNREADABLE_FILE: "the file cannot be read (permissions, a directory, an I/O error): nothing was published",
    Exit.INVALID_METADATA: "the result's metadata is invalid (see the message): nothing was published",
    Exit.TOO_LARGE: "the file is larger than this network accepts (ONCORELAY_MAX_VCF_BYTES): nothing was published",
}


def help_text() -> str:
    """The table for --help (click keeps \\b paragraphs as they are)."""
    return "Exit status:\n\n\b\n" + "\n".join(f"  {int(code)}  {text}" for code, text in MEANING.items())
