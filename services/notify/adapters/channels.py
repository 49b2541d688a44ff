"""The channel registry: the ChannelSender of every channel kind (contracts.events.ChannelKind), in one place.

The Dispatcher looks the sender of a delivery's channel up here; a new channel is a new sender and one line
below (a unit test checks the registry covers exactly the declared kinds).
"""

from typing import get_args

from contracts.events import ChannelKind
from services.common.settings import Settings
from services.notify.adapters.email import EmailSender
from services.notify.adapters.stream import StreamSender
from services.notify.adapters.webhook import WebhookSender
from services.notify.ports import ChannelSender, StreamStore, Wakeup


def channel_senders(settings: Settings, streams: StreamStore, stream_wake: Wakeup,
                    webhook: WebhookSender | None = None) -> dict[ChannelKind, ChannelSender]:
    """The sender of each channel kind (`webhook`: the one the wiring also checks destinations with)."""
    senders: dict[ChannelKind, ChannelSender] = {
        "webhook": webhook or WebhookSender(settings),
        "email": EmailSender(settings),
        "stream": StreamSender(streams, stream_wake),
    }
    missing = set(get_args(ChannelKind)) ^ set(senders)
    if missing:  # a kind declared without a sender (or a sender of an undeclared kind)
        raise RuntimeError(f"channel kinds without a sender or undeclared: {sorted(missing)}")
    return senders
