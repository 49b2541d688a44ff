"""The one error the VCF reader raises: a reason code a lab can switch on plus a sentence it can act on."""

from contracts.reasons import RejectionCode


class VcfRejected(Exception):
    """A VCF (or the result carrying it) cannot be accepted; `code` says why, `message` says where and what to do."""

    def __init__(self, code: RejectionCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message

    def without_path(self, path: str) -> "VcfRejected":
        """The same rejection with the server's own file path (and file name) replaced by "the VCF": a receipt
        never tells a lab where ingest keeps its files."""
        message = self.message.replace(path, "the VCF").replace(path.rsplit("/", 1)[-1], "the VCF")
        return self if message == self.message else VcfRejected(self.code, message)
