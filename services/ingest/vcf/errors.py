"""The one error the VCF reader raises: a reason code a lab can switch on plus a sentence it can act on."""

from contracts.reasons import RejectionCode


class VcfRejected(Exception):
    """A VCF (or the result carrying it) cannot be accepted; `code` says why, `message` says where and what to do."""

    def __init__(self, code: RejectionCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
